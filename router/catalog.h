// The model catalog: the policy's backends, tiers and model aliases, and the resolution of a
// client's `model` field to an ordered list of candidate backends.
// Immutable after create(); safe for concurrent use from every worker. Lives in the snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/error.h"

namespace sy::router {

enum class BackendKind { OpenAi, Anthropic, AzureOpenAi };
enum class Location { SelfHosted, External };
enum class License { OsiOpenSource, OpenWeight, SourceAvailable, Proprietary };

std::string_view toString(BackendKind);
std::string_view toString(Location);
std::string_view toString(License);

struct Cost {
  double input_per_mtok = 0;   // USD per million prompt tokens (amortized GPU cost if self-hosted)
  double output_per_mtok = 0;  // USD per million completion tokens
};

// Where a backend lives on the network. `base_path` has no trailing slash ("" or "/openai").
struct UpstreamAddress {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string base_path;
};

struct BackendTimeouts {
  std::chrono::milliseconds connect{5'000};
  std::chrono::milliseconds first_byte{120'000};  // request sent -> response head received
  std::chrono::milliseconds idle{60'000};         // longest silence between two body reads
};

struct BackendSpec {
  std::string name;
  BackendKind kind = BackendKind::OpenAi;
  std::string url;  // as written in the policy
  UpstreamAddress address;
  std::string model;        // the upstream's model id, sent in place of the client's
  std::string api_key_env;  // name of the env var with the upstream key ("" = none)
  Location location = Location::SelfHosted;
  std::string region;
  License license = License::OpenWeight;
  Cost cost;
  uint32_t context_window = 0;  // tokens; 0 = unknown
  std::string ca_file;          // PEM bundle replacing the system CA store for this backend
  BackendTimeouts timeouts;
  uint32_t max_idle_connections = 64;  // per worker
};

struct TierSpec {
  std::string name;
  std::vector<std::string> backends;  // backend names, in preference order
};

// A name clients may send as `model`, mapped to one backend or one tier (exactly one is set).
struct ModelAliasSpec {
  std::string name;
  std::string backend;
  std::string tier;
};

struct CatalogSpec {
  std::vector<BackendSpec> backends;
  std::vector<TierSpec> tiers;
  std::vector<ModelAliasSpec> models;
};

// The outcome of resolving a requested model.
struct Target {
  std::string_view tier;                     // "" when the alias names a single backend
  std::vector<const BackendSpec*> backends;  // candidates in the order to try; never empty
};

class Catalog {
 public:
  // Validates references (every tier backend and alias target exists, names are unique, tiers
  // are not empty). Fails with the first problem; the config loader reports all of them itself.
  static Result<std::unique_ptr<const Catalog>> create(CatalogSpec spec);

  // "auto" -> the default tier (the first declared); a tier name -> that tier; an alias -> its
  // backend or tier. Fails with NotFound (code "model_not_found") for anything else.
  // `rotation` spreads load: candidates start at rotation % size and wrap around.
  Result<Target> resolve(std::string_view requested_model, uint64_t rotation) const;

  // Names a client may send as `model`: "auto", tier names, then aliases, in policy order.
  std::vector<std::string> modelNames() const;

  const std::vector<BackendSpec>& backends() const { return spec_.backends; }
  const std::vector<TierSpec>& tiers() const { return spec_.tiers; }
  const BackendSpec* findBackend(std::string_view name) const;

 private:
  explicit Catalog(CatalogSpec spec);
  CatalogSpec spec_;
  std::map<std::string, std::vector<const BackendSpec*>, std::less<>> tier_backends_;
  std::map<std::string, const ModelAliasSpec*, std::less<>> aliases_;
};

}  // namespace sy::router
