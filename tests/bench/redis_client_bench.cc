// redis_client_bench: what the gateway's side of a Redis call costs, for the decision between
// the hand-written client (gateway/server/state/redis_client.h) and hiredis's async context (Debian's
// libhiredis-dev 0.14) driven by Asio through a small adapter, the two ways the limit store
// could talk to Redis. Both run the same EVALSHA (the limit store's admit call shape: one key,
// 17 arguments) of a script that does nothing but answer {1, 1000}, so redis-server's share is
// the same tiny constant and the figure is the client: encoding, the write and read syscalls,
// parsing, waking the caller. Reported: this process's CPU time (user + system, getrusage) per
// call, at 1 call in flight (sequential, as one gateway request sees it) and 16 in flight (as
// 16 concurrent requests on one worker). Single thread, one connection each.
//
// usage: redis_client_bench PORT [CALLS [own|hiredis IN_FLIGHT]]   (a redis-server listening on
// 127.0.0.1:PORT; with a client and an in-flight count, only that run, e.g. under callgrind,
// whose instruction counts are steady on a busy machine where CPU times are not)
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "gateway/server/state/redis_client.h"

namespace net = boost::asio;
using sy::server::redis::Client;
using sy::server::redis::Options;
using sy::server::redis::Reply;

namespace {

constexpr const char* kScript = "return {1, 1000}";

double cpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// The limit store's admit call: the scope key, then 17 arguments of the usual sizes.
std::vector<std::string> admitArgs(int i) {
  return {"20430", "2026-12-07", "2026-12", "20423", "20454", "1200", "5000",
          "req-" + std::to_string(i), "600000", "1000", "1000", "0", "4000000000",
          "4000000000", "100000", "1000000000000000", "0"};
}

struct Figure {
  double cpu_us = 0;
  double wall_us = 0;
};

void report(const char* client, int in_flight, int calls, const Figure& figure) {
  std::printf("%-34s in flight %2d: %7.2f us CPU/call (client process), %7.2f us wall/call, %d calls\n",
              client, in_flight, figure.cpu_us, figure.wall_us, calls);
}

// ---------------------------------------------------------------------------------------------
// The hand-written client.

Figure runOwn(uint16_t port, int calls, int in_flight) {
  Options options;
  options.host = "127.0.0.1";
  options.port = port;
  options.timeout = std::chrono::milliseconds(5000);
  options.scripts = {kScript};
  Client client(options);
  net::io_context io(1);
  int done = 0;
  int failed = 0;
  const std::vector<std::string> keys = {"sy:{key:bench}"};
  auto worker = [&](int first) -> net::awaitable<void> {
    for (int i = first; i < calls; i += in_flight) {
      auto reply = co_await client.evalScript(0, keys, admitArgs(i));
      if (!reply || reply->type != Reply::Type::Array) {
        ++failed;
      }
      ++done;
    }
  };
  // Warm up: connect and load the script.
  bool warm = false;
  net::co_spawn(io, [&]() -> net::awaitable<void> {
    for (int i = 0; i < 100; ++i) co_await client.evalScript(0, keys, admitArgs(i));
    warm = true;
  }, net::detached);
  while (!warm) io.run_one();  // (the connection's reader keeps io busy: run() never returns)
  const double cpu0 = cpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < in_flight; ++k) {
    net::co_spawn(io, worker(k), net::detached);
  }
  while (done < calls) io.run_one();
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu1 = cpuSeconds();
  if (failed != 0 || done != calls) {
    std::fprintf(stderr, "own client: %d of %d calls failed\n", failed, done);
    std::exit(1);
  }
  return {(cpu1 - cpu0) * 1e6 / calls,
          std::chrono::duration<double, std::micro>(t1 - t0).count() / calls};
}

// ---------------------------------------------------------------------------------------------
// hiredis's async context on Asio: the adapter hiredis wants (add/del read/write, cleanup) as
// waits on a stream_descriptor over hiredis's socket (released, never closed, by us).

struct AsioAdapter {
  AsioAdapter(net::io_context& io, redisAsyncContext* context)
      : context(context), descriptor(io, context->c.fd) {}
  redisAsyncContext* context;
  net::posix::stream_descriptor descriptor;
  bool want_read = false, want_write = false;
  bool reading = false, writing = false;

  void armRead() {
    if (!want_read || reading) return;
    reading = true;
    descriptor.async_wait(net::posix::descriptor_base::wait_read, [this](boost::system::error_code ec) {
      reading = false;
      if (ec) return;
      redisAsyncHandleRead(context);
      armRead();
    });
  }
  void armWrite() {
    if (!want_write || writing) return;
    writing = true;
    descriptor.async_wait(net::posix::descriptor_base::wait_write, [this](boost::system::error_code ec) {
      writing = false;
      if (ec) return;
      redisAsyncHandleWrite(context);
      armWrite();
    });
  }
  static void addRead(void* self) { auto* a = static_cast<AsioAdapter*>(self); a->want_read = true; a->armRead(); }
  static void delRead(void* self) { static_cast<AsioAdapter*>(self)->want_read = false; }
  static void addWrite(void* self) { auto* a = static_cast<AsioAdapter*>(self); a->want_write = true; a->armWrite(); }
  static void delWrite(void* self) { static_cast<AsioAdapter*>(self)->want_write = false; }
  static void cleanup(void* self) {
    auto* a = static_cast<AsioAdapter*>(self);
    a->want_read = a->want_write = false;
    boost::system::error_code ignored;
    a->descriptor.cancel(ignored);
    a->descriptor.release();
  }
};

struct HiredisRun {
  redisAsyncContext* context = nullptr;
  std::string sha;
  int calls = 0;
  int in_flight = 0;
  int sent = 0;
  int done = 0;
  int failed = 0;
  std::vector<std::string> args;
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;

  // Sends call `i` as EVALSHA sha 1 key args..., from strings built per call as the store does.
  void send(int i) {
    args = {"EVALSHA", sha, "1", "sy:{key:bench}"};
    for (std::string& arg : admitArgs(i)) args.push_back(std::move(arg));
    argv.clear();
    argvlen.clear();
    for (const std::string& arg : args) {
      argv.push_back(arg.data());
      argvlen.push_back(arg.size());
    }
    ++sent;
    redisAsyncCommandArgv(context, &HiredisRun::onReply, this, static_cast<int>(argv.size()),
                          argv.data(), argvlen.data());
  }
  static void onReply(redisAsyncContext*, void* r, void* self) {
    auto* run = static_cast<HiredisRun*>(self);
    auto* reply = static_cast<redisReply*>(r);
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) ++run->failed;
    ++run->done;
    if (run->sent < run->calls) {
      run->send(run->sent);
    }
  }
};

Figure runHiredis(uint16_t port, int calls, int in_flight) {
  // The script's SHA, loaded with a blocking context.
  redisContext* sync = redisConnect("127.0.0.1", port);
  auto* loaded = static_cast<redisReply*>(redisCommand(sync, "SCRIPT LOAD %s", kScript));
  if (loaded == nullptr || loaded->type != REDIS_REPLY_STRING) {
    std::fprintf(stderr, "hiredis: SCRIPT LOAD failed\n");
    std::exit(1);
  }
  HiredisRun run;
  run.sha = loaded->str;
  freeReplyObject(loaded);
  redisFree(sync);

  net::io_context io(1);
  run.context = redisAsyncConnect("127.0.0.1", port);
  if (run.context == nullptr || run.context->err) {
    std::fprintf(stderr, "hiredis: connect failed\n");
    std::exit(1);
  }
  AsioAdapter adapter(io, run.context);
  run.context->ev.data = &adapter;
  run.context->ev.addRead = &AsioAdapter::addRead;
  run.context->ev.delRead = &AsioAdapter::delRead;
  run.context->ev.addWrite = &AsioAdapter::addWrite;
  run.context->ev.delWrite = &AsioAdapter::delWrite;
  run.context->ev.cleanup = &AsioAdapter::cleanup;
  // Warm up.
  run.calls = 100;
  run.send(0);
  while (run.done < 100) io.run_one();
  run.sent = run.done = 0;
  run.calls = calls;
  run.in_flight = in_flight;
  const double cpu0 = cpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < in_flight; ++k) run.send(k);
  while (run.done < calls) io.run_one();
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu1 = cpuSeconds();
  if (run.failed != 0) {
    std::fprintf(stderr, "hiredis: %d of %d calls failed\n", run.failed, run.done);
    std::exit(1);
  }
  redisAsyncDisconnect(run.context);
  io.poll();
  return {(cpu1 - cpu0) * 1e6 / calls,
          std::chrono::duration<double, std::micro>(t1 - t0).count() / calls};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: redis_client_bench PORT [CALLS]\n");
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
  const int calls = argc > 2 ? std::atoi(argv[2]) : 50000;
  if (argc > 4) {
    const std::string which = argv[3];
    const int in_flight = std::atoi(argv[4]);
    const Figure figure =
        which == "own" ? runOwn(port, calls, in_flight) : runHiredis(port, calls, in_flight);
    report(which.c_str(), in_flight, calls, figure);
    return 0;
  }
  for (int in_flight : {1, 16}) {
    for (int round = 0; round < 2; ++round) {  // alternate, so load drifts hit both alike
      report("hand-written (redis_client.h)", in_flight, calls, runOwn(port, calls, in_flight));
      report("hiredis 0.14 async + Asio adapter", in_flight, calls,
             runHiredis(port, calls, in_flight));
    }
  }
  return 0;
}
