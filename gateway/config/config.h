// The whole configuration (the policy file) as plain structs, and the strict YAML loader.
// Values only; a loaded Config is immutable and shared through the snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policies/access_config.h"
#include "policies/dlp_config.h"
#include "policies/dlp_policy.h"
#include "router/catalog.h"
#include "router/retry.h"
#include "router/routing.h"
#include "router/selection.h"

namespace sy::config {

struct TlsConfig {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
};

struct ServerLimits {
  uint64_t max_body_bytes = 8ull << 20;              // 413 beyond
  uint32_t max_header_bytes = 16 << 10;              // request line + headers; 431 beyond
  uint32_t max_header_count = 100;                   // 431 beyond
  std::chrono::milliseconds header_timeout{10'000};  // first byte -> headers complete; 408 beyond
  std::chrono::milliseconds body_timeout{60'000};    // headers complete -> body complete; 408
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  uint32_t max_connections = 10'000;                 // per process; 503 and close beyond
  // Request bodies held in memory at once, over all connections (each counted at its
  // Content-Length, a chunked one as it grows): 503 with Retry-After beyond. At least
  // max_body_bytes. Only authenticated requests' bodies are read at all.
  uint64_t max_inflight_body_bytes = 256ull << 20;
  // The conversation one request may carry (400 beyond, before it is decoded, scanned or
  // forwarded: a body of many tiny messages costs far more than its bytes suggest). Messages:
  // chat and Anthropic `messages`, Responses `input` items with those of the stored
  // conversation a previous_response_id loads; content parts over all of them; tools declared.
  uint32_t max_messages = 2048;
  uint32_t max_content_parts = 4096;
  uint32_t max_tools = 512;
};

struct ListenAddress {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;
};

struct ServerConfig {
  ListenAddress listen;
  std::optional<TlsConfig> tls;
  ServerLimits limits;
  uint32_t workers = 0;  // 0 = one per hardware thread
  std::chrono::milliseconds shutdown_grace{20'000};
  bool access_log = true;  // one JSON line per request on stderr
  // Reload the policy when its file or any included file changes (inotify, debounced), as well
  // as on SIGHUP. Off by default: a deployment opts in to edits taking effect unsignalled.
  bool watch_policy = false;
  // Browser apps on these origins may call the data plane (CORS); empty: no CORS headers, and
  // OPTIONS is not answered as a preflight. "*" allows any origin.
  struct Cors {
    std::vector<std::string> allow_origins;
    std::chrono::seconds max_age{600};
  } cors;
};

struct AdminConfig {
  ListenAddress listen{"127.0.0.1", 9090};
};

// `audit:` (absent: no audit log). The HMAC key is read from the named environment variable
// when the server opens the log.
struct AuditSpec {
  std::string path;   // the live file ("" with to_stdout)
  bool fsync = true;  // durability: fsync (true) | batch
  std::string hmac_key_env;
  uint64_t rotate_bytes = 0;           // 0 = never
  std::chrono::seconds rotate_age{0};  // 0 = never
  bool to_stdout = false;
  bool fail_closed = true;  // on_failure: closed (503 when a record cannot be written) | open
};

// `accounting:` the all-frontier baseline: what every request would have cost at one frontier
// price. Savings = baseline cost - actual cost. Absent: the priciest external backend's price
// (by output price); no external backend: savings are not computed.
struct AccountingSpec {
  std::optional<Cost> baseline;
  std::string baseline_source;  // "accounting.baseline", or the backend whose price is used
};

// `resilience:` retries inside a tier, and the per-backend circuit breaker. Backend state
// outlives policy reloads; a reload applies new breaker settings to it without resetting it
// (router::BackendStates::setPolicy).
struct ResilienceSpec {
  router::RetryPolicy retry;
  router::SelectionPolicy selection;
};

// `compliance:` what the policy's routes may reach; `switchyard lint` warns about the rest.
struct ComplianceSpec {
  std::vector<router::License> licenses;  // license categories allowed; empty = all
  std::vector<std::string> regions;       // regions allowed for external backends; empty = all
};

// `responses:` the OpenAI Responses API's stored conversations (`previous_response_id`, and
// GET/DELETE /v1/responses/{id}), kept in the state store (`state.store`: SQLite or Redis), each
// scoped to the key that created it. Bounds apply as of when a response is stored.
enum class BuiltinTools { Refuse, Allow };
struct ResponsesSpec {
  // Keep answers at all. false: a request with `store: true` is answered but nothing is kept,
  // and `previous_response_id` (and GET/DELETE) is a 400 saying the gateway does not store.
  bool store = false;
  std::chrono::milliseconds ttl{std::chrono::hours(24 * 30)};  // then the response is gone
  // The stored record (the response object and the conversation it continues); a larger one
  // is not kept (answered, never stored; a later reference to it is a 404).
  uint64_t max_bytes_per_response = 1ull << 20;
  uint32_t max_responses_per_key = 1000;  // beyond, the key's oldest stored response is dropped
  // `builtin_tools: allow | refuse` (default refuse): a request with built-in OpenAI tools
  // (web_search, file_search, code_interpreter, ...) passes them through when allowed, and is
  // then routed only to backends that serve them (`kind: openai` serving `api: responses`);
  // refused: such a request is a 400.
  BuiltinTools builtin_tools = BuiltinTools::Refuse;
};
inline constexpr uint64_t kMaxStoredResponseBytes = 16ull << 20;  // responses.max_bytes_per_response

// A 1-based position in the policy file (0 = unknown), as in ConfigError. In a policy assembled
// from several files (`include:`), `line` counts across all of them: SourceMap::locate names the
// file and its own line.
struct SourcePosition {
  int line = 0;
  int column = 0;
};

// The files a policy was assembled from: the main file, then each included file in the order
// `include:` lists them (depth-first). Their lines are numbered as one sequence, each file
// starting after the last line of the one before, so a YAML position names its file too.
struct SourceMap {
  struct File {
    std::string path;    // as written in `include:`, resolved against the including file's folder
    int first_line = 0;  // the 1-based line number of its line 1
    std::string contents;  // the bytes read (without a BOM): the policy version hashes them
  };
  std::vector<File> files;

  // The file and its own 1-based line of an assembled 1-based `line` (0, unknown, stays 0 in
  // the main file). `fallback` is returned as the file when there are no files.
  std::pair<std::string, int> locate(int line, const std::string& fallback) const;
};

struct Config;

// `shadow:`: a candidate policy evaluated beside this one on live traffic, never acted on. Its
// file is read and validated with the policy (a bad candidate makes the whole policy invalid, so
// a reload with one is rejected); it may not name a shadow of its own.
struct ShadowSpec {
  std::string path;                      // resolved against the naming file's folder
  std::shared_ptr<const Config> config;  // the candidate, loaded and validated
};

struct Config {
  std::string source;  // file path (or "<string>") the config came from
  ServerConfig server;
  AdminConfig admin;
  router::CatalogSpec catalog;         // backends, tiers, models
  policies::DlpConfig dlp;             // dlp: detectors, custom rules, evasion (the engine)
  policies::DlpPolicySpec dlp_policy;  // sensitivity.levels, dlp.actions, dlp.responses
  policies::AuthConfig auth;           // auth (anonymous, pepper_env, admin_keys), teams and keys
  policies::LimitsConfig limits;       // limits: default_max_tokens, on_budget_exhausted
  policies::StateConfig state;  // state: where rate and budget counters live
  ResponsesSpec responses;      // responses: the Responses API's conversation store
  std::optional<AuditSpec> audit;
  AccountingSpec accounting;
  ResilienceSpec resilience;
  router::RoutingSpec routing;  // difficulty and routing (rules in policy order)
  ComplianceSpec compliance;
  std::optional<ShadowSpec> shadow;
  SourceMap sources;  // the main file and its includes; positions below are across all of them
  // Where lint warnings point, keyed by YAML path as in error messages: "backends[0]",
  // "tiers.t.backends[1]", "models.gpt.tier", "routing[2].route", "routing[2].fallback[0]", ...
  std::map<std::string, SourcePosition, std::less<>> locations;
};

// One validation problem, located in the source file. str() is "file:line:col: message".
struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  std::string message;
  std::string str() const;
};

using ConfigErrors = std::vector<ConfigError>;

// Parses and validates strictly: unknown keys, wrong types, bad values and dangling references
// are all reported, every one of them, in file order. Files named by `include:` are read
// (relative to the including file's folder; for a string, the working directory) and merged into
// one policy; each error names the file it is in. Never throws.
std::expected<Config, ConfigErrors> loadConfigFile(const std::string& path);
std::expected<Config, ConfigErrors> loadConfigString(const std::string& yaml,
                                                     const std::string& source_name);

}  // namespace sy::config
