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

#include "core/backend.h"
#include "core/error.h"

namespace sy::router {

// The backend value types live in core (connectors and the gateway share them).
using sy::BackendKind;
using sy::BackendSpec;
using sy::BackendTimeouts;
using sy::Cost;
using sy::License;
using sy::Location;
using sy::UpstreamAddress;

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
  // backend or tier; else the first alias pattern (`*`, `?`: `claude-*`, or `*` as the default
  // for unknown names) that matches, in policy order. Fails with NotFound (code
  // "model_not_found") for anything else.
  // `rotation` spreads load: candidates start at rotation % size and wrap around.
  Result<Target> resolve(std::string_view requested_model, uint64_t rotation) const;

  // Names a client may send as `model`: "auto", tier names, then aliases (not patterns), in
  // policy order.
  std::vector<std::string> modelNames() const;
  // True when `requested_model` is one of modelNames() (a pattern's match is not: a client
  // chose the rest of that string).
  bool isName(std::string_view requested_model) const;

  const std::vector<BackendSpec>& backends() const { return spec_.backends; }
  const std::vector<TierSpec>& tiers() const { return spec_.tiers; }
  const BackendSpec* findBackend(std::string_view name) const;
  // The alias for a requested model: an exact name first, then the first matching pattern.
  const ModelAliasSpec* findAlias(std::string_view requested_model) const;

 private:
  explicit Catalog(CatalogSpec spec);
  CatalogSpec spec_;
  std::map<std::string, std::vector<const BackendSpec*>, std::less<>> tier_backends_;
  std::map<std::string, const ModelAliasSpec*, std::less<>> aliases_;
};

}  // namespace sy::router
