#include "router/routing.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <utility>

namespace sy::router {
namespace {

std::unexpected<Error> configError(std::string message) {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Config, std::move(message));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

bool validName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Any of `wanted` equals `value`; an empty list matches everything.
bool anyEquals(const std::vector<std::string>& wanted, std::string_view value) {
  return wanted.empty() || std::any_of(wanted.begin(), wanted.end(),
                                       [&](const std::string& item) { return item == value; });
}

bool anyDetector(const std::vector<std::string>& wanted, std::span<const std::string_view> found) {
  if (wanted.empty()) {
    return true;
  }
  for (const std::string_view detector : found) {
    if (std::any_of(wanted.begin(), wanted.end(),
                    [&](const std::string& item) { return item == detector; })) {
      return true;
    }
  }
  return false;
}

bool anyGlob(const std::vector<std::string>& globs, std::string_view text) {
  return globs.empty() || std::any_of(globs.begin(), globs.end(), [&](const std::string& glob) {
           return globMatch(glob, text);
         });
}

bool matches(const RouteCondition& when, const RouteInput& in) {
  return (!when.sensitivity || when.sensitivity->matches(in.sensitivity_rank)) &&
         (!when.complex || *when.complex == in.complex) &&
         (!when.score || when.score->matches(in.difficulty_score)) &&
         (!when.high_stakes || *when.high_stakes == in.high_stakes) &&
         (when.domains.empty() || std::find(when.domains.begin(), when.domains.end(),
                                            in.domain) != when.domains.end()) &&
         (!when.injection || *when.injection == in.injection) &&
         (!when.prompt_tokens ||
          when.prompt_tokens->matches(static_cast<double>(in.prompt_tokens))) &&
         anyEquals(when.teams, in.team) && anyEquals(when.keys, in.key_id) &&
         anyEquals(when.endpoints, in.endpoint) && anyDetector(when.detectors, in.detectors) &&
         anyGlob(when.models, in.requested_model);  // globs last: the dearest test
}

bool hasExternal(const std::vector<const BackendSpec*>& backends) {
  return std::any_of(backends.begin(), backends.end(), [](const BackendSpec* backend) {
    return backend->location == Location::External;
  });
}

const TierSpec* findTier(const CatalogSpec& catalog, std::string_view name) {
  const auto it = std::find_if(catalog.tiers.begin(), catalog.tiers.end(),
                               [&](const TierSpec& tier) { return tier.name == name; });
  return it == catalog.tiers.end() ? nullptr : &*it;
}

const BackendSpec* findBackend(const CatalogSpec& catalog, std::string_view name) {
  const auto it = std::find_if(catalog.backends.begin(), catalog.backends.end(),
                               [&](const BackendSpec& backend) { return backend.name == name; });
  return it == catalog.backends.end() ? nullptr : &*it;
}

std::vector<const BackendSpec*> tierBackends(const CatalogSpec& catalog, const TierSpec& tier) {
  std::vector<const BackendSpec*> out;
  for (const std::string& name : tier.backends) {
    if (const BackendSpec* backend = findBackend(catalog, name)) {
      out.push_back(backend);
    }
  }
  return out;
}

Status checkRule(const RouteRuleSpec& rule, const std::string& path, const CatalogSpec& catalog) {
  for (const std::vector<std::string>* list :
       {&rule.when.detectors, &rule.when.teams, &rule.when.keys, &rule.when.models,
        &rule.when.endpoints}) {
    if (std::any_of(list->begin(), list->end(), [](const std::string& s) { return s.empty(); })) {
      return configError(path + ".when: empty name in a list");
    }
  }
  if (rule.action == RouteAction::Block) {
    if (!rule.route.empty() || !rule.fallback.empty() || rule.transform != Transform::None) {
      return configError(path + ": a block rule has no route, transform or fallback");
    }
    return {};
  }
  if (rule.route.empty()) {
    return configError(path + ".route: required for action route");
  }
  if (rule.route != kRouteRequested && targetBackends(catalog, rule.route).empty()) {
    return configError(path + ".route: unknown tier, model or backend '" + rule.route + "'");
  }
  for (const std::string& tier : rule.fallback) {
    if (findTier(catalog, tier) == nullptr) {
      return configError(path + ".fallback: unknown tier '" + tier + "'");
    }
    if (widensExposure(catalog, rule.route, tier)) {
      return configError(path + ".fallback: tier '" + tier +
                         "' has external backends and the route has none: that would widen "
                         "exposure");
    }
  }
  return {};
}

}  // namespace

std::string_view toString(ConversationBasis basis) {
  return basis == ConversationBasis::FirstTurn ? "first_turn" : "latest_turn";
}

std::string_view toString(RouteAction action) {
  return action == RouteAction::Block ? "block" : "route";
}

std::string_view toString(Transform transform) {
  switch (transform) {
    case Transform::None:
      return "none";
    case Transform::Redact:
      return "redact";
    case Transform::Mask:
      return "mask";
    case Transform::Pseudonymize:
      return "pseudonymize";
  }
  return "none";
}

Result<Comparison> Comparison::parse(std::string_view text) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {">=", Op::Ge}, {"<=", Op::Le}, {"==", Op::Eq}, {">", Op::Gt}, {"<", Op::Lt}, {"=", Op::Eq}};
  const std::string_view original = text;
  auto invalid = [&] {
    return configError("invalid comparison '" + std::string(original) +
                       "' (expected >=, >, <=, < or == and a number, e.g. \">= 0.8\")");
  };
  text = trim(text);
  Comparison out;
  const auto* op = std::find_if(std::begin(kOps), std::end(kOps),
                                [&](const auto& entry) { return text.starts_with(entry.first); });
  if (op == std::end(kOps)) {
    return invalid();
  }
  out.op = op->second;
  text = trim(text.substr(op->first.size()));
  if (text.empty() || text.front() == '+' || text.front() == '-') {
    return invalid();
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out.value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(out.value)) {
    return invalid();
  }
  return out;
}

bool Comparison::matches(double x) const {
  switch (op) {
    case Op::Ge:
      return x >= value;
    case Op::Gt:
      return x > value;
    case Op::Le:
      return x <= value;
    case Op::Lt:
      return x < value;
    case Op::Eq:
      return x == value;
  }
  return false;
}

bool RouteCondition::empty() const {
  return !sensitivity && !complex && !score && !high_stakes && domains.empty() && !injection &&
         detectors.empty() &&
         teams.empty() && keys.empty() && models.empty() && endpoints.empty() && !prompt_tokens;
}

std::vector<const BackendSpec*> targetBackends(const CatalogSpec& catalog,
                                               std::string_view target) {
  if (target == kRouteRequested) {
    return {};
  }
  if (const TierSpec* tier = findTier(catalog, target)) {
    return tierBackends(catalog, *tier);
  }
  const auto alias = std::find_if(catalog.models.begin(), catalog.models.end(),
                                  [&](const ModelAliasSpec& a) { return a.name == target; });
  if (alias != catalog.models.end()) {
    if (!alias->backend.empty()) {
      const BackendSpec* backend = findBackend(catalog, alias->backend);
      return backend == nullptr ? std::vector<const BackendSpec*>{}
                                : std::vector<const BackendSpec*>{backend};
    }
    const TierSpec* tier = findTier(catalog, alias->tier);
    return tier == nullptr ? std::vector<const BackendSpec*>{} : tierBackends(catalog, *tier);
  }
  if (const BackendSpec* backend = findBackend(catalog, target)) {
    return {backend};
  }
  return {};
}

bool widensExposure(const CatalogSpec& catalog, std::string_view route,
                    std::string_view fallback_tier) {
  const TierSpec* tier = findTier(catalog, fallback_tier);
  return tier != nullptr && hasExternal(tierBackends(catalog, *tier)) &&
         !hasExternal(targetBackends(catalog, route));
}

RouteTable::RouteTable() : RouteTable(RoutingSpec{}) {}

RouteTable::RouteTable(RoutingSpec spec) : spec_(std::move(spec)) {
  default_rule_.name = kDefaultRuleName;
  default_rule_.route = kRouteRequested;
  for (const RouteRuleSpec& rule : spec_.rules) {
    uses_difficulty_ = uses_difficulty_ || rule.when.complex || rule.when.score ||
                       rule.when.high_stakes || !rule.when.domains.empty();
  }
}

Result<RouteTable> RouteTable::create(RoutingSpec spec, const CatalogSpec& catalog) {
  if (spec.difficulty.threshold &&
      !(*spec.difficulty.threshold >= 0 && *spec.difficulty.threshold <= 1)) {
    return configError("difficulty.threshold: must be between 0 and 1");
  }
  if (spec.difficulty.model.empty()) {
    return configError("difficulty.model: must not be empty");
  }
  std::set<std::string_view> names;
  for (size_t i = 0; i < spec.rules.size(); ++i) {
    const RouteRuleSpec& rule = spec.rules[i];
    const std::string path = "routing[" + std::to_string(i) + "]";
    if (!validName(rule.name)) {
      return configError(path + ".name: invalid name '" + rule.name + "'");
    }
    if (!names.insert(rule.name).second) {
      return configError(path + ".name: duplicate rule name '" + rule.name + "'");
    }
    if (auto checked = checkRule(rule, path, catalog); !checked) {
      return std::unexpected(std::move(checked.error()));
    }
  }
  return RouteTable(std::move(spec));
}

const RouteRuleSpec& RouteTable::match(const RouteInput& input) const {
  for (const RouteRuleSpec& rule : spec_.rules) {
    if (matches(rule.when, input)) {
      return rule;
    }
  }
  return default_rule_;
}

}  // namespace sy::router
