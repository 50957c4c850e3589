// The access part of the policy as plain value structs: who may call (keys, teams, admin keys),
// what each may do (scopes), how much (rate limits, budgets) and where the counters live (state
// store). No YAML here: gateway/config decodes the policy file into these structs; every default
// lives in the struct itself. Values only; KeyRing::create() and the limit stores validate them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sy::policies {

// What a key (or every key of a team) may use. Empty lists allow everything; a key's effective
// scope is the intersection of its own and its team's.
struct Scopes {
  std::vector<std::string> endpoints;  // "chat", "embeddings", "models", "responses"
  std::vector<std::string> tiers;      // tier names
  std::vector<std::string> models;     // globs over the requested model name ('*' and '?'), e.g. "llama*"
  std::string max_external_sensitivity;  // highest level this key may send to external backends; "" = any
  uint32_t max_tokens = 0;               // per request (max_tokens / max_completion_tokens); 0 = no cap
};

// 0 = no limit. Budgets are in USD, per UTC day and per UTC calendar month.
struct Limits {
  uint32_t rpm = 0;          // requests per minute
  uint64_t tpm = 0;          // tokens (prompt + completion) per minute
  uint32_t concurrency = 0;  // requests in flight
  double budget_day_usd = 0;
  double budget_month_usd = 0;
  bool empty() const {
    return rpm == 0 && tpm == 0 && concurrency == 0 && budget_day_usd == 0 &&
           budget_month_usd == 0;
  }
};

struct TeamSpec {
  std::string name;
  Scopes allow;
  Limits limits;
};

struct KeySpec {
  std::string id;    // [a-z0-9][a-z0-9-]{0,62}; appears in the key itself, logs and audit records
  std::string hash;  // "sha256:<64 lowercase hex>" or "hmac-sha256:<64 lowercase hex>"
  std::string team;  // "" = none
  Scopes allow;
  Limits limits;
  std::string sensitivity_floor;  // a level; "" = none
  std::optional<std::chrono::system_clock::time_point> expires;  // refused from this instant on
  bool disabled = false;
};

struct AdminKeySpec {
  std::string id;
  std::string hash;
};

struct AuthConfig {
  bool anonymous = false;   // serve requests without a key (as key id "anonymous", no limits)
  std::string pepper_env;   // env var holding the HMAC pepper ("" = none)
  std::vector<AdminKeySpec> admin_keys;
  std::vector<TeamSpec> teams;
  std::vector<KeySpec> keys;
};

struct LimitsConfig {
  uint32_t default_max_tokens = 1024;  // output reserved when a request names no max_tokens
  // The least output a request is lowered to when its worst case does not fit a key's or team's
  // tpm or budget (the upstream is then told the lowered max_tokens); a request that does not
  // fit even at this much is refused (429). At or above a request's cap: never lowered.
  uint32_t min_output_tokens = 16;
  enum class OnBudgetExhausted { Reject, Downgrade };
  OnBudgetExhausted on_budget_exhausted = OnBudgetExhausted::Reject;
  std::string downgrade_tier;  // required with Downgrade
};

struct StateConfig {
  enum class Store { Sqlite, Redis };
  Store store = Store::Sqlite;
  std::string sqlite_path = "switchyard-state.db";
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::chrono::milliseconds redis_timeout{50};
  bool fail_open = false;  // Redis unreachable: true serves without limits, false answers 503
  // Redis limits only. Zero (the default): every admit and settle is one script in Redis, exact
  // across replicas. Positive: each replica decides on local counters and syncs them with Redis
  // every `redis_sync` (gateway/server/state/synced_limit_store.cc: bounded overshoot across replicas).
  std::chrono::milliseconds redis_sync{0};
};

}  // namespace sy::policies
