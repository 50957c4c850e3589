// The Redis client's redirections (redis_client.h, "Redis Cluster"): the slot of a key, the
// node that serves it as MOVED replies taught, and the calls that follow them.
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

Client* Client::followMoved(const Reply& reply) {
  // "MOVED <slot> <host>:<port>" (an IPv6 host is not bracketed: the port is after the last ':')
  if (reply.type != Reply::Type::Error || !reply.str.starts_with("MOVED ")) {
    return nullptr;
  }
  const std::string_view text = std::string_view(reply.str).substr(6);
  const size_t space = text.find(' ');
  const size_t colon = text.rfind(':');
  uint32_t slot = 0;
  uint32_t port = 0;
  if (space == std::string_view::npos || colon == std::string_view::npos || colon < space ||
      !parseDecimal(text.substr(0, space), slot) || slot >= kClusterSlots ||
      !parseDecimal(text.substr(colon + 1), port) || port == 0 || port > 65535) {
    return nullptr;
  }
  std::string host(text.substr(space + 1, colon - space - 1));
  if (host.empty()) {
    host = shared_->options.host;  // "MOVED 12 :6380": the node did not learn its own address
  }
  cluster_->redirected = true;
  if (host == shared_->options.host && port == shared_->options.port) {
    cluster_->slots[slot] = 0;
    return this;
  }
  std::lock_guard lock(cluster_->mutex);
  size_t index = 0;
  while (index < cluster_->nodes.size() &&
         !(cluster_->nodes[index]->shared_->options.host == host &&
           cluster_->nodes[index]->shared_->options.port == port)) {
    ++index;
  }
  if (index == cluster_->nodes.size()) {
    Options options = shared_->options;
    options.host = std::move(host);
    options.port = static_cast<uint16_t>(port);
    cluster_->nodes.push_back(std::make_unique<Client>(std::move(options)));
  }
  cluster_->slots[slot] = static_cast<uint16_t>(index + 1);
  return cluster_->nodes[index].get();
}

net::awaitable<Result<Reply>> Client::command(std::vector<std::string> args) {
  Client* target = &route(args.size() > 1 ? std::string_view(args[1]) : std::string_view());
  Result<Reply> reply = co_await target->commandHere(args);
  for (int hop = 0; hop < kMaxRedirects && reply; ++hop) {
    target = followMoved(*reply);
    if (target == nullptr) {
      break;
    }
    reply = co_await target->commandHere(args);
  }
  co_return reply;
}

net::awaitable<Result<Reply>> Client::evalScript(size_t script,
                                                 const std::vector<std::string>& keys,
                                                 const std::vector<std::string>& args) {
  Client* target = &route(keys.empty() ? std::string_view() : std::string_view(keys.front()));
  Result<Reply> reply = co_await target->evalScriptHere(script, keys, args);
  for (int hop = 0; hop < kMaxRedirects && reply; ++hop) {
    target = followMoved(*reply);
    if (target == nullptr) {
      break;
    }
    reply = co_await target->evalScriptHere(script, keys, args);
  }
  co_return reply;
}

}  // namespace sy::server::redis
