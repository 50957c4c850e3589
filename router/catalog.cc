#include "router/catalog.h"

#include <set>

#include "core/glob.h"
#include "core/json_text.h"

namespace sy::router {

Catalog::Catalog(CatalogSpec spec) : spec_(std::move(spec)) {}

Result<std::unique_ptr<const Catalog>> Catalog::create(CatalogSpec spec) {
  auto config_error = [](std::string message) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config, std::move(message));
  };
  if (spec.backends.empty()) {
    return config_error("backends: at least one backend is required");
  }
  if (spec.tiers.empty()) {
    return config_error("tiers: at least one tier is required");
  }
  std::unique_ptr<Catalog> catalog(new Catalog(std::move(spec)));
  std::set<std::string_view> backend_names;
  for (const BackendSpec& backend : catalog->spec_.backends) {
    if (!backend_names.insert(backend.name).second) {
      return config_error("backends: duplicate backend name '" + backend.name + "'");
    }
  }
  for (const TierSpec& tier : catalog->spec_.tiers) {
    if (tier.name == "auto" || tier.backends.empty()) {
      return config_error("tiers." + tier.name + ": a tier needs a name other than 'auto' and " +
                          "at least one backend");
    }
    auto [it, inserted] = catalog->tier_backends_.try_emplace(tier.name);
    if (!inserted) {
      return config_error("tiers: duplicate tier '" + tier.name + "'");
    }
    for (const std::string& name : tier.backends) {
      const BackendSpec* backend = catalog->findBackend(name);
      if (backend == nullptr) {
        return config_error("tiers." + tier.name + ": unknown backend '" + name + "'");
      }
      it->second.push_back(backend);
    }
  }
  for (const ModelAliasSpec& alias : catalog->spec_.models) {
    const bool to_backend = !alias.backend.empty();
    if (to_backend == !alias.tier.empty()) {
      return config_error("models." + alias.name + ": set exactly one of 'backend' or 'tier'");
    }
    if (to_backend ? catalog->findBackend(alias.backend) == nullptr
                   : !catalog->tier_backends_.contains(alias.tier)) {
      return config_error("models." + alias.name + ": unknown " +
                          (to_backend ? "backend '" + alias.backend : "tier '" + alias.tier) +
                          "'");
    }
    if (alias.name == "auto" || catalog->tier_backends_.contains(alias.name) ||
        !catalog->aliases_.try_emplace(alias.name, &alias).second) {
      return config_error("models." + alias.name + ": name is already taken");
    }
  }
  return std::unique_ptr<const Catalog>(std::move(catalog));
}

const BackendSpec* Catalog::findBackend(std::string_view name) const {
  for (const BackendSpec& backend : spec_.backends) {
    if (backend.name == name) {
      return &backend;
    }
  }
  return nullptr;
}

Result<Target> Catalog::resolve(std::string_view requested_model, uint64_t rotation) const {
  std::string_view tier_name;
  if (requested_model == "auto") {
    tier_name = spec_.tiers.front().name;
  } else if (tier_backends_.contains(requested_model)) {
    tier_name = tier_backends_.find(requested_model)->first;
  } else if (const ModelAliasSpec* alias = findAlias(requested_model); alias != nullptr) {
    if (!alias->backend.empty()) {
      return Target{"", {findBackend(alias->backend)}};
    }
    tier_name = alias->tier;
  } else {
    // Echoed only when it has the shape of a model id: a client may put anything there.
    const std::string shown = isEchoableName(requested_model)
                                  ? "The model '" + std::string(requested_model) + "'"
                                  : std::string("The model requested");
    return makeError(ErrorCode::NotFound, ErrorSource::Downstream,
                     shown +
                         " does not exist or you do not have access to it. GET /v1/models "
                         "lists the models you can use.",
                     "model_not_found");
  }
  const auto& members = tier_backends_.find(tier_name)->second;
  Target target{tier_backends_.find(tier_name)->first, {}};
  target.backends.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    target.backends.push_back(members[(rotation + i) % members.size()]);
  }
  return target;
}

const ModelAliasSpec* Catalog::findAlias(std::string_view requested_model) const {
  if (auto exact = aliases_.find(requested_model); exact != aliases_.end()) {
    return exact->second;
  }
  for (const ModelAliasSpec& alias : spec_.models) {  // patterns, in policy order
    if (isGlob(alias.name) && globMatch(alias.name, requested_model)) {
      return &alias;
    }
  }
  return nullptr;
}

bool Catalog::isName(std::string_view requested_model) const {
  if (requested_model == "auto" || tier_backends_.contains(requested_model)) {
    return true;
  }
  const auto alias = aliases_.find(requested_model);
  return alias != aliases_.end() && !isGlob(alias->second->name);
}

std::vector<std::string> Catalog::modelNames() const {
  std::vector<std::string> names{"auto"};
  for (const TierSpec& tier : spec_.tiers) {
    names.push_back(tier.name);
  }
  for (const ModelAliasSpec& alias : spec_.models) {
    if (!isGlob(alias.name)) {  // a pattern is not a name a client can pick from a list
      names.push_back(alias.name);
    }
  }
  return names;
}

}  // namespace sy::router
