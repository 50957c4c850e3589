// The Redis client's slot map (redis_client.h, "Redis Cluster"): which node serves which slot,
// as MOVED replies taught it, and the redirect replies themselves. ClusterMap is shared by the
// calls of every io_context: the node list is guarded by its mutex, the slot table is atomic.
// Included only by the client's own files (and its tests).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/server/state/redis_client.h"

namespace sy::server::redis {

struct ClusterMap {
  std::mutex mutex;                                          // guards nodes
  std::vector<std::unique_ptr<Client>> nodes;                // only grows, so a Client* stays valid
  std::array<std::atomic<uint16_t>, kClusterSlots> slots{};  // nodes index + 1; 0: the seed
  std::atomic<bool> redirected{false};                       // any MOVED seen yet
};

// A redirection: the error reply "MOVED <slot> <host>:<port>" (the slot is served by that node
// from now on) or "ASK <slot> <host>:<port>" (the slot is being migrated to that node: send it
// this one command, preceded by ASKING). An IPv6 host is not bracketed: the port follows the last
// ':'. An empty host means the replying node's own address (a node that never learnt it).
struct Redirect {
  enum class Kind { Moved, Ask };
  Kind kind = Kind::Moved;
  uint16_t slot = 0;
  std::string host;
  uint16_t port = 0;
};

// The redirection `reply` asks for; nullopt for any other reply, a malformed redirect included
// (which the caller then gets as the error reply it is).
std::optional<Redirect> parseRedirect(const Reply& reply);

}  // namespace sy::server::redis
