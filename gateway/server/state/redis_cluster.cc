// The Redis client's redirections (redis_client.h, "Redis Cluster"): the slot of a key, the
// node that serves it as MOVED replies taught, and the calls that follow MOVED and ASK.
#include "gateway/server/state/redis_cluster.h"

#include "gateway/server/state/redis_client.h"
#include "gateway/server/state/redis_connection.h"

namespace sy::server::redis {

uint16_t keySlot(std::string_view key) {
  if (const size_t open = key.find('{'); open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  uint16_t crc = 0;  // CRC16-CCITT (XMODEM), as Redis Cluster hashes keys
  for (unsigned char c : key) {
    crc ^= static_cast<uint16_t>(c << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc & (kClusterSlots - 1);
}

Client& Client::route(std::string_view key) {
  if (!cluster_->redirected.load(std::memory_order_relaxed) || key.empty()) {
    return *this;
  }
  const uint16_t node = cluster_->slots[keySlot(key)].load(std::memory_order_relaxed);
  if (node == 0) {
    return *this;
  }
  std::lock_guard lock(cluster_->mutex);
  return *cluster_->nodes[node - 1];
}

std::optional<Redirect> parseRedirect(const Reply& reply) {
  if (reply.type != Reply::Type::Error) {
    return std::nullopt;
  }
  Redirect redirect;
  std::string_view text = reply.str;
  if (text.starts_with("MOVED ")) {
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    redirect.kind = Redirect::Kind::Ask;
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const size_t space = text.find(' ');
  const size_t colon = text.rfind(':');
  uint32_t slot = 0;
  uint32_t port = 0;
  if (space == std::string_view::npos || colon == std::string_view::npos || colon < space ||
      !parseDecimal(text.substr(0, space), slot) || slot >= kClusterSlots ||
      !parseDecimal(text.substr(colon + 1), port) || port == 0 || port > 65535) {
    return std::nullopt;
  }
  redirect.slot = static_cast<uint16_t>(slot);
  redirect.host.assign(text.substr(space + 1, colon - space - 1));
  redirect.port = static_cast<uint16_t>(port);
  return redirect;
}

Client& Client::follow(const Redirect& redirect) {
  // "MOVED 12 :6380": the node did not learn its own address, which is the one asked.
  const std::string& host = redirect.host.empty() ? shared_->options.host : redirect.host;
  const bool moved = redirect.kind == Redirect::Kind::Moved;
  if (moved) {
    cluster_->redirected = true;
  }
  if (host == shared_->options.host && redirect.port == shared_->options.port) {
    if (moved) {
      cluster_->slots[redirect.slot] = 0;
    }
    return *this;
  }
  std::lock_guard lock(cluster_->mutex);
  size_t index = 0;
  while (index < cluster_->nodes.size() &&
         !(cluster_->nodes[index]->shared_->options.host == host &&
           cluster_->nodes[index]->shared_->options.port == redirect.port)) {
    ++index;
  }
  if (index == cluster_->nodes.size()) {
    Options options = shared_->options;
    options.host = host;
    options.port = redirect.port;
    cluster_->nodes.push_back(std::make_unique<Client>(std::move(options)));
  }
  if (moved) {
    cluster_->slots[redirect.slot] = static_cast<uint16_t>(index + 1);
  }
  return *cluster_->nodes[index];
}

template <class Call>
net::awaitable<Result<Reply>> Client::redirected(std::string_view key, Call call) {
  Result<Reply> reply = co_await call(route(key), false);
  bool asked = false;
  for (int hop = 0; hop < kMaxRedirects && reply; ++hop) {
    const std::optional<Redirect> redirect = parseRedirect(*reply);
    if (!redirect || (redirect->kind == Redirect::Kind::Ask && asked)) {
      break;
    }
    // ASK: this one call goes to the node importing the slot, preceded by ASKING; the slot stays
    // where it is until a MOVED says otherwise (the migration ended).
    asked = redirect->kind == Redirect::Kind::Ask;
    reply = co_await call(follow(*redirect), asked);
  }
  co_return reply;
}

// The key and the call are locals, not built inside the co_await expression, where g++ 12
// miscompiled the conditional (ASan caught a read of args[1] for a one-word command).
net::awaitable<Result<Reply>> Client::command(std::vector<std::string> args) {
  const std::string_view key = args.size() > 1 ? std::string_view(args[1]) : std::string_view();
  const auto call = [&args](Client& node, bool asking) { return node.commandHere(args, asking); };
  co_return co_await redirected(key, call);
}

net::awaitable<Result<Reply>> Client::evalScript(size_t script,
                                                 const std::vector<std::string>& keys,
                                                 const std::vector<std::string>& args) {
  const std::string_view key = keys.empty() ? std::string_view() : std::string_view(keys.front());
  const auto call = [&, script](Client& node, bool asking) {
    return node.evalScriptHere(script, keys, args, asking);
  };
  co_return co_await redirected(key, call);
}

}  // namespace sy::server::redis
