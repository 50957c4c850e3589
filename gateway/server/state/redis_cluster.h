// The Redis client's slot map (redis_client.h, "Redis Cluster"): which node serves which slot,
// as MOVED replies taught it. Shared by the calls of every io_context: the node list is guarded
// by its mutex, the slot table is atomic. Included only by the client's own files.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/server/state/redis_client.h"

namespace sy::server::redis {

struct ClusterMap {
  std::mutex mutex;                            // guards nodes
  std::vector<std::unique_ptr<Client>> nodes;  // only grows, so a Client* stays valid
  std::array<std::atomic<uint16_t>, kClusterSlots> slots{};  // nodes index + 1; 0: the seed
  std::atomic<bool> redirected{false};                       // any MOVED seen yet
};

}  // namespace sy::server::redis
