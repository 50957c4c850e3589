// Stored Responses API conversations (`previous_response_id`, GET/DELETE /v1/responses/{id}),
// kept in the state store like the limit counters: SQLite for one replica, Redis for many. A
// stored record is opaque bytes (what the client saw: the response object and the conversation
// it continues), filed under (owner, id): the owner is the key id that created it, and every
// lookup names the owner, so another key's lookup of the same id finds nothing (never the bytes).
//
// Bounds (config::ResponsesSpec, passed per call so a reload applies to the next put): a record
// larger than max_bytes_per_response is not stored (PutOutcome::TooLarge); a stored record
// lives for `ttl` from its put, then is gone; each owner keeps at most max_responses_per_key
// records, the oldest put dropped first.
//
// Thread-safety: implementations are shared by all workers and thread-safe. Coroutines resume
// on the calling worker's executor and never block it: the SQLite store runs its statements on
// its own thread, the Redis store awaits replies on the worker's pipelined connection.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "gateway/config/config.h"
#include "gateway/server/transport/net.h"
#include "policies/access_config.h"

namespace sy::observability {
class GatewayMetrics;
}

namespace sy::server {

struct StoredResponse {
  std::string body;
  std::chrono::system_clock::time_point created_at;
};

enum class PutOutcome { Stored, TooLarge };

// True for an id the stores accept: 1-128 characters of [A-Za-z0-9_-] (the gateway's own
// `resp_<hex>` ids). Anything else names no stored response.
bool isValidResponseId(std::string_view id);

class ResponseStore {
 public:
  virtual ~ResponseStore() = default;

  // Stores `body` under (owner, id), replacing a record already there, then drops the owner's
  // oldest records beyond the bound. TooLarge (nothing stored) when body exceeds
  // limits.max_bytes_per_response. Errors: InvalidArgument for an invalid id or an empty owner,
  // Unavailable when the store cannot be reached or written.
  virtual net::awaitable<Result<PutOutcome>> put(std::string id, std::string owner,
                                                 std::string body,
                                                 std::chrono::system_clock::time_point created_at,
                                                 const config::ResponsesSpec& limits) = 0;

  // The record under (owner, id); nullopt when there is none: never stored, expired, deleted,
  // dropped by the bound, stored by another owner, or an invalid id. Unavailable as for put.
  virtual net::awaitable<Result<std::optional<StoredResponse>>> get(std::string id,
                                                                    std::string owner) = 0;

  // Deletes the record under (owner, id): true when there was one (false as get's nullopt).
  // Unavailable as for put.
  virtual net::awaitable<Result<bool>> remove(std::string id, std::string owner) = 0;
};

// The SQLite store: table `responses` in the state database (`state.sqlite.path`, beside the
// limit store's `spend`), used by one thread of its own. Fails when the database cannot be
// opened or holds a `responses` table of another shape.
Result<std::unique_ptr<ResponseStore>> makeSqliteResponseStore(
    const policies::StateConfig& config);

// The Redis store, for many replicas (`state.redis`): each record a hash with PEXPIRE, each
// owner's puts indexed for the bound; connects lazily per worker executor, every call bounded
// by config.redis_timeout. With `metrics` (which must outlive the store), each call's latency
// and failures are recorded (switchyard_redis_*{op="response_put|response_get|response_delete"}).
Result<std::unique_ptr<ResponseStore>> makeRedisResponseStore(
    const policies::StateConfig& config, observability::GatewayMetrics* metrics = nullptr);

}  // namespace sy::server
