#include "gateway/server/state/redis_client.h"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "gateway/server/state/redis_cluster.h"
#include "gateway/server/state/redis_connection.h"

namespace sy::server::redis {

Client::Client(Options options)
    : shared_(makeClientShared(std::move(options))), cluster_(std::make_unique<ClusterMap>()) {}

Client::~Client() {
  std::lock_guard lock(mutex_);
  for (auto& [context, weak] : connections_) {
    if (auto connection = weak.lock()) {
      net::post(connection->executor(), [connection] { connection->close(); });
    }
  }
}

const std::string& Client::address() const { return shared_->address; }

net::awaitable<Result<std::shared_ptr<Connection>>> Client::connectionHere() {
  const auto any = co_await net::this_coro::executor;
  const Executor* executor = any.target<Executor>();
  if (executor == nullptr) {
    co_return unavailable(*shared_, "commands must be awaited on an io_context executor");
  }
  std::shared_ptr<Connection> connection;
  bool created = false;
  {
    std::lock_guard lock(mutex_);
    connection = connections_[&executor->context()].lock();
    if (!connection) {
      std::erase_if(connections_, [](const auto& entry) { return entry.second.expired(); });
      connection = std::make_shared<Connection>(*executor, shared_);
      connections_[&executor->context()] = connection;
      created = true;
    }
  }
  if (created) {
    registerConnection(executor->context(), connection);
  }
  co_return connection;
}

net::awaitable<Result<Reply>> Client::commandHere(const std::vector<std::string>& args,
                                                  bool asking) {
  const auto deadline = Clock::now() + shared_->options.timeout;
  auto connection = co_await connectionHere();
  if (!connection) {
    co_return std::unexpected(std::move(connection.error()));
  }
  std::string request;
  encodeCommand(request, args);
  co_return co_await (*connection)->call(std::move(request), deadline, asking);
}

net::awaitable<Result<Reply>> Client::evalScriptHere(size_t script,
                                                     const std::vector<std::string>& keys,
                                                     const std::vector<std::string>& args,
                                                     bool asking) {
  const auto deadline = Clock::now() + shared_->options.timeout;
  auto connection = co_await connectionHere();
  if (!connection) {
    co_return std::unexpected(std::move(connection.error()));
  }
  // EVALSHA sha numkeys keys... args..., encoded straight from the caller's vectors.
  const auto encode = [&](std::string_view verb, std::string_view body) {
    std::string request;
    request.reserve(64 + body.size() + encodedSize(keys) + encodedSize(args));
    appendHeader(request, '*', 3 + keys.size() + args.size());
    appendBulk(request, verb);
    appendBulk(request, body);
    appendBulk(request, std::to_string(keys.size()));
    for (const std::string& key : keys) {
      appendBulk(request, key);
    }
    for (const std::string& arg : args) {
      appendBulk(request, arg);
    }
    return request;
  };
  Result<Reply> reply =
      co_await (*connection)->call(encode("EVALSHA", shared_->shas.at(script)), deadline, asking);
  if (reply && reply->type == Reply::Type::Error && reply->str.starts_with("NOSCRIPT")) {
    // EVAL runs the script and caches it again, so later EVALSHAs succeed.
    reply = co_await (*connection)
                ->call(encode("EVAL", shared_->options.scripts[script]), deadline, asking);
  }
  co_return reply;
}

}  // namespace sy::server::redis