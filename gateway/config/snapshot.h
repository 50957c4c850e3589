// The configuration snapshot: a validated Config plus everything built from it once (catalog,
// connectors, upstream TLS contexts, upstream keys read from the environment, the DLP engine).
// Immutable and shared by all workers as shared_ptr<const Snapshot>; a request pins the one it
// started with. SnapshotHolder publishes a new one atomically (hot reload); its methods are
// thread-safe.
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "gateway/config/config.h"
#include "policies/dlp_engine.h"
#include "policies/dlp_policy.h"
#include "policies/keys.h"
#include "router/catalog.h"
#include "router/difficulty.h"
#include "router/routing.h"

namespace sy::config {

// What the gateway needs per backend at request time, resolved at snapshot build.
struct BackendRuntime {
  const BackendSpec* spec = nullptr;
  std::shared_ptr<const connectors::Connector> connector;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null for http backends
  std::string api_key;                             // from api_key_env; never logged
  std::string host_header;                         // "host:port", computed once
  size_t index = 0;                                // position in backends, for per-worker pools
};

// The policy version: the first kPolicyVersionLength lowercase hex digits of the SHA-256 of
// every file the policy was assembled from (the main file, then its includes, in SourceMap
// order, each length-prefixed). Any edit to any file changes it; a reload of unchanged files
// keeps it. Named by every audit record and by the reload records.
inline constexpr size_t kPolicyVersionLength = 16;
std::string policyVersion(const SourceMap& sources);

// difficulty.judge, ready to call: its backend with the judge's timeout for connecting and for
// the answer (the same connector, TLS context, key and per-worker pool as the backend itself).
struct JudgeRuntime {
  router::JudgeSpec spec;
  BackendSpec backend_spec;  // a copy of the judge backend's spec with the judge's timeouts
  BackendRuntime backend;    // backend.spec points at backend_spec
};

class Snapshot {
 public:
  // Builds connectors, TLS client contexts and the catalog, and reads upstream keys from the
  // environment. Fails with every problem, as "file:0:0: message" lines, when something is
  // missing (an unset api_key_env variable, an unreadable ca_file, an unsupported backend kind).
  // `read_upstream_keys` false (dry runs such as `explain`): api_key_env variables and the key
  // pepper (auth.pepper_env) are not read and need not be set.
  static std::expected<std::shared_ptr<const Snapshot>, ConfigErrors> build(
      Config config, uint64_t version, bool read_upstream_keys = true);

  const Config& config() const { return config_; }
  const router::Catalog& catalog() const { return *catalog_; }
  const BackendRuntime& backend(const BackendSpec& spec) const;
  const std::vector<BackendRuntime>& backends() const { return backends_; }
  uint64_t version() const { return version_; }  // 1 at startup, +1 per reload
  // policyVersion(config().sources): what the policy's text was, across restarts and reloads.
  const std::string& policyVersion() const { return policy_version_; }

  // The compiled DLP detectors and the policy's actions on their findings.
  const policies::DlpEngine& dlpEngine() const { return *dlp_engine_; }
  const policies::DlpPolicy& dlpPolicy() const { return *dlp_policy_; }
  // False when no detector is enabled: the pipeline then skips DLP entirely.
  bool dlpEnabled() const { return !dlp_engine_->detectors().empty(); }

  // The policy's API keys (hashes only) and admin keys.
  const policies::KeyRing& keys() const { return *keys_; }
  // The routing rules (first match wins) and the difficulty classifier with its threshold.
  const router::RouteTable& routes() const { return *routes_; }
  const router::DifficultyModel& difficulty() const { return *difficulty_; }
  double difficultyThreshold() const { return difficulty_threshold_; }
  // The second opinion on ambiguous prompts (difficulty.judge); null when not configured.
  const JudgeRuntime* judge() const { return judge_ ? &*judge_ : nullptr; }
  // Which user turn a conversation's difficulty is judged on (difficulty.conversation).
  router::ConversationBasis conversationBasis() const {
    return config_.routing.difficulty.conversation;
  }

  // The shadow candidate (`shadow:`), built like a dry run's (no upstream keys read), or null.
  // Requests never go where it says; shadow mode only compares its decisions.
  const std::shared_ptr<const Snapshot>& shadow() const { return shadow_; }

  // True when some key or declared team has a rate limit or budget: the gateway then needs a
  // limit store.
  bool hasLimits() const { return has_limits_; }

 private:
  Snapshot() = default;
  Config config_;
  std::unique_ptr<const router::Catalog> catalog_;
  std::vector<BackendRuntime> backends_;  // same order as catalog().backends()
  std::unique_ptr<const policies::DlpEngine> dlp_engine_;
  std::optional<policies::DlpPolicy> dlp_policy_;
  std::optional<policies::KeyRing> keys_;
  std::optional<router::RouteTable> routes_;
  std::shared_ptr<const router::DifficultyModel> difficulty_;
  double difficulty_threshold_ = 0.5;
  std::optional<JudgeRuntime> judge_;  // not moved after build: backend.spec points into it
  bool has_limits_ = false;
  uint64_t version_ = 0;
  std::string policy_version_;
  std::shared_ptr<const Snapshot> shadow_;
};

// The candidate's policy version ("" without `shadow:`): a reload compares it with the running
// snapshot's, since the candidate's files may change while the policy's do not.
std::string shadowPolicyVersion(const Config& config);

class SnapshotHolder {
 public:
  explicit SnapshotHolder(std::shared_ptr<const Snapshot> initial) : current_(std::move(initial)) {}
  std::shared_ptr<const Snapshot> get() const { return current_.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const Snapshot> next) {
    current_.store(std::move(next), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace sy::config
