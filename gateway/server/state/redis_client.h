// A small asynchronous Redis client, just enough for the Redis limit and response stores: RESP2
// over TCP or TLS, one pipelined connection per worker io_context, Lua scripts called by SHA.
//
// Why not hiredis: measured against Debian's hiredis 0.14 async context on an Asio adapter
// (tests/bench/redis_client_bench.cc; figures in docs/architecture.md, "State stores") it saves
// no measurable CPU per call, still needs the Asio glue, timeouts and coroutine resumption
// written here, and 0.14 has neither TLS nor Cluster support. No new library.
//
// Connections: the first command awaited on an io_context opens that context's connection
// (resolve, connect, [AUTH], SELECT db, SCRIPT LOAD of every script) and later commands from the
// same context share it, pipelined: requests are written in order by one writer coroutine and
// replies are matched in order by one reader coroutine. A failed connection (refused, reset,
// protocol error, or a command without a reply within the timeout, which one watchdog timer per
// connection enforces) is closed, every command in flight on it fails, and the next command
// reconnects; after a failed connect attempt, commands
// fail at once for kReconnectBackoff instead of each dialing a dead server.
//
// Redis Cluster: a MOVED reply (the key's slot is served by another master) is followed, at most
// twice per call, and remembered per slot, so later calls of that slot go to that node at once
// (one more connection per worker and node, with the same options: TLS, credentials, scripts).
// An ASK reply (the slot is being migrated and the keys are not all on this node) is followed
// once per call: ASKING and the call go to the importing node in one write, and the slot map is
// left as it is. The calls' keys must share one slot (the stores' key layouts do) and be
// declared: Redis routes a call during a migration by which of its keys exist where. TRYAGAIN
// (some of the keys moved, some not yet) is returned as the error reply it is.
//
// Files: redis_resp.{h,cc} (the wire format), redis_url.cc (parseUrl), redis_connection.{h,cc}
// (one pipelined connection), redis_cluster.{h,cc} (slots and redirections), redis_client.cc.
//
// Thread-safety: Client is thread-safe. Each connection belongs to one io_context and is touched
// only by the coroutines running on it, so an io_context that awaits commands must be run by ONE
// thread (each gateway worker's is). Connections are owned by their io_context (a service), so
// they never outlive it whatever the destruction order; destroying the Client closes them (posted
// to their contexts), and must not race with the destruction of one of those contexts.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "gateway/server/state/redis_resp.h"
#include "gateway/server/transport/net.h"

namespace sy::server::redis {

struct Options {
  std::string host;
  uint16_t port = 6379;
  int db = 0;
  std::string username;  // AUTH username password when set (Redis 6 ACL users)
  std::string password;  // AUTH password when set; never appears in messages
  // TLS (rediss://): the server's certificate is verified against `tls_ca_file` when set, else
  // the system's trust store (OpenSSL's default paths, which honour SSL_CERT_FILE and
  // SSL_CERT_DIR), and must name `host` (DNS name or IP address); SNI is sent for names.
  bool tls = false;
  std::string tls_ca_file;
  // Bounds every command from its call to its reply, including (re)connecting when needed.
  std::chrono::milliseconds timeout{50};
  // Lua scripts, SCRIPT LOADed on every new connection and run by index with evalScript().
  std::vector<std::string> scripts;
};

// Parses `redis://[[username]:password@]host[:port][/db]`, or `rediss://` for TLS (port 6379 and
// db 0 by default; IPv6 hosts in brackets; percent-escapes decoded in the credentials). Error
// messages never repeat the URL, which may hold a password.
Result<Options> parseUrl(std::string_view url);

class Connection;
struct ClientShared;
struct ClusterMap;
struct Redirect;

// Redis Cluster's slot of `key`: CRC16 of its hash tag (the text between the first '{' and the
// next '}', when not empty) or of the whole key, modulo 16384.
constexpr uint16_t kClusterSlots = 16384;
uint16_t keySlot(std::string_view key);

class Client {
 public:
  static constexpr std::chrono::milliseconds kReconnectBackoff{100};

  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs one command on the calling io_context's connection. A Redis error reply is a Reply of
  // Type::Error; an Error (ErrorCode::Unavailable, message "redis host:port: what failed") means
  // no reply arrived within options.timeout: the server is unreachable, the connection broke or
  // the stream was malformed. Must be awaited in a coroutine running on an io_context executor.
  net::awaitable<Result<Reply>> command(std::vector<std::string> args);

  // EVALSHA of options.scripts[script] with `keys` and `args`, falling back to EVAL when the
  // server answers NOSCRIPT (script cache flushed, failover); same results as command(), both
  // attempts within one timeout.
  net::awaitable<Result<Reply>> evalScript(size_t script, const std::vector<std::string>& keys,
                                           const std::vector<std::string>& args);

  // "host:port", for messages: never the credentials.
  const std::string& address() const;

 private:
  // Redirects followed per call (a slot moved twice while the call was under way is rare).
  static constexpr int kMaxRedirects = 2;

  net::awaitable<Result<std::shared_ptr<Connection>>> connectionHere();
  // The same calls on this client's own server, without redirects.
  // `asking`: preceded by ASKING on the same connection (after an ASK).
  net::awaitable<Result<Reply>> commandHere(const std::vector<std::string>& args, bool asking);
  net::awaitable<Result<Reply>> evalScriptHere(size_t script, const std::vector<std::string>& keys,
                                               const std::vector<std::string>& args, bool asking);
  // The client of the node that serves `key`'s slot (this one unless a MOVED said otherwise).
  Client& route(std::string_view key);
  // The client of the node `redirect` names (this one, or one created on first use with this
  // client's options but the node's host and port). A MOVED also records it for the slot.
  Client& follow(const Redirect& redirect);
  // call(route(key), false), then the redirections its replies ask for: MOVED at most
  // kMaxRedirects times, ASK once (call(node, true)). `call` is (Client&, bool asking) ->
  // awaitable<Result<Reply>>.
  template <class Call>
  net::awaitable<Result<Reply>> redirected(std::string_view key, Call call);

  std::shared_ptr<const ClientShared> shared_;
  std::mutex mutex_;
  // One connection per io_context; owned by the context (see above), so only observed here.
  std::unordered_map<const net::execution_context*, std::weak_ptr<Connection>> connections_;
  std::unique_ptr<ClusterMap> cluster_;
};

}  // namespace sy::server::redis
