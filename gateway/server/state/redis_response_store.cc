// The Redis ResponseStore, for many replicas sharing one Redis: any replica continues a
// conversation another stored. Key layout per owner O (a key id: [a-z0-9-], so the {O} hash tag
// keeps an owner's keys in one Redis Cluster slot) and response id I ([A-Za-z0-9_-]):
//   sy:resp:{O}:I     HASH  created (Unix ms, the gateway's), body; PEXPIRE ttl at put
//   sy:resp:{O}       ZSET  I scored by its put time (Redis TIME, ms); PEXPIRE ttl at each put
// put is one script: store the hash with its expiry, drop index entries older than the ttl,
// index the id, then delete the owner's oldest records beyond max_responses_per_key. delete is
// one script (the hash and its index entry). get is HMGET: an owner's lookup only ever reads
// keys under its own tag, so another key's id names nothing.
#include <array>
#include <string>
#include <vector>

#include "gateway/server/state/redis_client.h"
#include "gateway/server/state/redis_op_metrics.h"
#include "gateway/server/state/response_store.h"
#include "observability/metrics.h"

namespace sy::server {
namespace {

using std::chrono::system_clock;

static_assert(config::kMaxStoredResponseBytes <= redis::ReplyParser::kMaxBulk,
              "a stored response must fit in one Redis reply");

enum Op : size_t { kPut = 0, kDelete = 1, kGet = 2 };

// KEYS: record, index. ARGV: created ms, body, ttl ms, id, max per owner, record key prefix.
constexpr std::string_view kPutScript = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'created', ARGV[1], 'body', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
redis.call('ZADD', KEYS[2], now, ARGV[4])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, id in ipairs(oldest) do redis.call('DEL', ARGV[6] .. id) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
)lua";

// KEYS: record, index. ARGV: id. Returns 1 when the record existed.
constexpr std::string_view kDeleteScript = R"lua(
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return deleted
)lua";

std::string indexKey(const std::string& owner) { return "sy:resp:{" + owner + "}"; }
std::string recordKey(const std::string& owner, const std::string& id) {
  return indexKey(owner) + ":" + id;
}

class RedisResponseStore final : public ResponseStore {
 public:
  RedisResponseStore(redis::Options options, observability::GatewayMetrics* metrics)
      : client_(std::move(options)),
        ops_{RedisOpMetrics::make(metrics, "response_put"),
             RedisOpMetrics::make(metrics, "response_delete"),
             RedisOpMetrics::make(metrics, "response_get")} {}

  // sy::server::ResponseStore
  net::awaitable<Result<PutOutcome>> put(std::string id, std::string owner, std::string body,
                                         system_clock::time_point created_at,
                                         const config::ResponsesSpec& limits) override {
    if (!isValidResponseId(id) || owner.empty()) {
      co_return makeError(ErrorCode::InvalidArgument, ErrorSource::Internal,
                          "response store: invalid response id or owner");
    }
    if (body.size() > limits.max_bytes_per_response) {
      co_return PutOutcome::TooLarge;
    }
    const auto created_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(created_at.time_since_epoch());
    // Named vectors, not braced temporaries in the co_await: g++ 12 miscompiles those.
    std::vector<std::string> keys = {recordKey(owner, id), indexKey(owner)};
    std::vector<std::string> args = {std::to_string(created_ms.count()),
                                     std::move(body),
                                     std::to_string(limits.ttl.count()),
                                     id,
                                     std::to_string(limits.max_responses_per_key),
                                     indexKey(owner) + ":"};
    Result<redis::Reply> reply = co_await call(kPut, std::move(keys), std::move(args));
    if (!reply) {
      co_return std::unexpected(std::move(reply.error()));
    }
    if (reply->type != redis::Reply::Type::Integer) {
      co_return unexpectedReply(kPut);
    }
    co_return PutOutcome::Stored;
  }

  net::awaitable<Result<std::optional<StoredResponse>>> get(std::string id,
                                                            std::string owner) override {
    if (!isValidResponseId(id) || owner.empty()) {
      co_return std::nullopt;
    }
    std::vector<std::string> command = {"HMGET", recordKey(owner, id), "created", "body"};
    Result<redis::Reply> reply = co_await call(kGet, {}, std::move(command));
    if (!reply) {
      co_return std::unexpected(std::move(reply.error()));
    }
    using Type = redis::Reply::Type;
    const auto& e = reply->elements;
    if (reply->type != Type::Array || e.size() != 2) {
      co_return unexpectedReply(kGet);
    }
    if (e[0].type == Type::Nil || e[1].type == Type::Nil) {
      co_return std::nullopt;
    }
    int64_t created_ms = 0;
    try {
      created_ms = std::stoll(e[0].str);
    } catch (const std::exception&) {
      co_return unexpectedReply(kGet);
    }
    co_return StoredResponse{std::move(reply->elements[1].str),
                             system_clock::time_point(std::chrono::milliseconds(created_ms))};
  }

  net::awaitable<Result<bool>> remove(std::string id, std::string owner) override {
    if (!isValidResponseId(id) || owner.empty()) {
      co_return false;
    }
    std::vector<std::string> keys = {recordKey(owner, id), indexKey(owner)};
    std::vector<std::string> args = {id};
    Result<redis::Reply> reply = co_await call(kDelete, std::move(keys), std::move(args));
    if (!reply) {
      co_return std::unexpected(std::move(reply.error()));
    }
    if (reply->type != redis::Reply::Type::Integer) {
      co_return unexpectedReply(kDelete);
    }
    co_return reply->integer > 0;
  }

 private:
  // One call, timed and counted: a script for put and delete, `args` as the command for get.
  // A Redis error reply becomes an Unavailable error.
  net::awaitable<Result<redis::Reply>> call(Op op, std::vector<std::string> keys,
                                            std::vector<std::string> args) {
    const auto start = std::chrono::steady_clock::now();
    Result<redis::Reply> reply;  // no co_await in a conditional expression: g++ 12 miscompiles it
    if (op == kGet) {
      reply = co_await client_.command(std::move(args));
    } else {
      reply = co_await client_.evalScript(op, keys, args);
    }
    ops_[op].record(reply, start);
    if (!reply) {
      co_return unavailable(reply.error().message);
    }
    if (reply->type == redis::Reply::Type::Error) {
      co_return unavailable("redis " + client_.address() + " answered: " + reply->str);
    }
    co_return reply;
  }

  std::unexpected<Error> unexpectedReply(Op op) {
    RedisOpMetrics::count(ops_[op].reply);
    return unavailable("redis " + client_.address() + ": unexpected reply");
  }

  static std::unexpected<Error> unavailable(std::string message) {
    return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                     "response store: " + std::move(message), "response_store_unavailable");
  }

  redis::Client client_;
  std::array<RedisOpMetrics, 3> ops_;
};

}  // namespace

Result<std::unique_ptr<ResponseStore>> makeRedisResponseStore(
    const policies::StateConfig& config, observability::GatewayMetrics* metrics) {
  Result<redis::Options> options = redis::parseUrl(config.redis_url);
  if (!options) {
    return std::unexpected(std::move(options.error()));
  }
  if (config.redis_timeout <= std::chrono::milliseconds::zero()) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "state.redis_timeout: must be positive");
  }
  options->timeout = config.redis_timeout;
  options->scripts = {std::string(kPutScript), std::string(kDeleteScript)};
  return std::make_unique<RedisResponseStore>(std::move(*options), metrics);
}

}  // namespace sy::server
