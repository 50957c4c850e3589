// The lint warnings about rules, reach, keys and patterns (see lint.h): rules an earlier rule
// covers, tiers nothing reaches, keys without limits, tier scopes a key's sensitivity can never
// use, and custom patterns that match nothing or cost too much in the DLP engine's RE2 set.
#include "gateway/config/lint_rules.h"

#include <re2/re2.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <set>

#include "core/glob.h"
#include "gateway/config/str_cat.h"
#include "policies/dlp_engine.h"

namespace sy::config {
namespace {

// An interval of the real line, for numeric conditions (score, prompt_tokens).
struct Interval {
  double lo = -std::numeric_limits<double>::infinity();
  bool lo_open = true;
  double hi = std::numeric_limits<double>::infinity();
  bool hi_open = true;

  static Interval of(const router::Comparison& c) {
    using Op = router::Comparison::Op;
    Interval out;
    switch (c.op) {
      case Op::Eq:
        out = {c.value, false, c.value, false};
        break;
      case Op::Ge:
      case Op::Gt:
        out.lo = c.value;
        out.lo_open = c.op == Op::Gt;
        break;
      case Op::Le:
      case Op::Lt:
        out.hi = c.value;
        out.hi_open = c.op == Op::Lt;
        break;
    }
    return out;
  }
  bool contains(const Interval& inner) const {
    const bool lo_ok = inner.lo > lo || (inner.lo == lo && (!lo_open || inner.lo_open));
    const bool hi_ok = inner.hi < hi || (inner.hi == hi && (!hi_open || inner.hi_open));
    return lo_ok && hi_ok;
  }
};

// Each optional condition: unset in `outer` covers anything; set in `outer` needs `inner` set
// and inside it.
template <class T, class Covers>
bool coversOptional(const std::optional<T>& outer, const std::optional<T>& inner, Covers covers) {
  return !outer || (inner && covers(*outer, *inner));
}

// A list condition (any item matches): an empty `outer` covers anything; otherwise every item
// of a non-empty `inner` must be covered by some item of `outer`.
template <class T, class Covers>
bool coversList(const std::vector<T>& outer, const std::vector<T>& inner, Covers covers) {
  if (outer.empty()) {
    return true;
  }
  if (inner.empty()) {
    return false;
  }
  return std::all_of(inner.begin(), inner.end(), [&](const T& item) {
    return std::any_of(outer.begin(), outer.end(),
                       [&](const T& o) { return covers(o, item); });
  });
}

bool sameName(const std::string& a, const std::string& b) { return a == b; }

// Every model name `inner` matches is matched by `outer`: the same glob, `outer` matches all,
// or `inner` is a plain name `outer` matches. Conservative: other glob pairs count as not.
bool globCovers(const std::string& outer, const std::string& inner) {
  return outer == inner || outer == "*" || (!isGlob(inner) && globMatch(outer, inner));
}

class RuleLinter {
 public:
  RuleLinter(const Config& config, const WarningSink& warn) : config_(config), warn_(warn) {
    for (const auto& builtin : policies::DlpEngine::builtinDetectors()) {
      class_of_[builtin.id] = builtin.detector_class;
    }
    for (const policies::CustomRule& rule : config.dlp.custom) {
      class_of_[rule.name] = policies::DetectorClass::Custom;
    }
  }

  void shadowedRoutingRules() {
    const auto& rules = config_.routing.rules;
    for (size_t j = 1; j < rules.size(); ++j) {
      for (size_t i = 0; i < j; ++i) {
        if (!rules[i].when.empty() && covers(rules[i].when, rules[j].when)) {
          warn_(strCat("routing[", j, "]"),
                strCat("rule '", rules[j].name, "' can never match: the earlier rule '",
                       rules[i].name, "' (routing[", i, "]) matches every request it matches"));
          break;
        }
      }
    }
  }

  void shadowedActionRules(const std::vector<policies::DlpActionRuleSpec>& rules,
                           std::string_view path) {
    for (size_t j = 1; j < rules.size(); ++j) {
      for (size_t i = 0; i < j; ++i) {
        if (covers(rules[i], rules[j])) {
          warn_(strCat(path, "[", j, "]"),
                strCat("rule '", rules[j].name, "' can never apply: the earlier rule '",
                       rules[i].name, "' (", path, "[", i, "]) matches every finding it matches"));
          break;
        }
      }
    }
  }

 private:
  bool covers(const router::RouteCondition& outer, const router::RouteCondition& inner) const {
    const auto equal = [](bool a, bool b) { return a == b; };
    const auto interval = [](const router::Comparison& a, const router::Comparison& b) {
      return Interval::of(a).contains(Interval::of(b));
    };
    const auto levels = [&](const LevelCondition& a, const LevelCondition& b) {
      return levelsCover(a, b);
    };
    const auto detector = [&](const std::string& a, const std::string& b) {
      return detectorCovers(a, b);
    };
    // Every condition of RouteCondition is here: one left out would report rules that differ
    // only in it as shadowed.
    return coversOptional(outer.sensitivity, inner.sensitivity, levels) &&
           coversOptional(outer.complex, inner.complex, equal) &&
           coversOptional(outer.score, inner.score, interval) &&
           coversOptional(outer.high_stakes, inner.high_stakes, equal) &&
           coversOptional(outer.injection, inner.injection, equal) &&
           coversOptional(outer.prompt_tokens, inner.prompt_tokens, interval) &&
           coversList(outer.detectors, inner.detectors, detector) &&
           coversList(outer.teams, inner.teams, sameName) &&
           coversList(outer.keys, inner.keys, sameName) &&
           coversList(outer.models, inner.models, globCovers) &&
           coversList(outer.endpoints, inner.endpoints, sameName) &&
           coversList(outer.domains, inner.domains, std::equal_to<router::Domain>());
  }

  bool covers(const policies::DlpActionRuleSpec& outer,
              const policies::DlpActionRuleSpec& inner) const {
    if (outer.destination && outer.destination != inner.destination) {
      return false;
    }
    if (!coversList(outer.detectors, inner.detectors,
                    [&](const std::string& a, const std::string& b) {
                      return detectorCovers(a, b);
                    })) {
      return false;
    }
    if (outer.level.empty()) {
      return true;
    }
    if (inner.level.empty()) {
      return false;
    }
    const SensitivityLevels& names = config_.dlp_policy.levels;
    const auto a = LevelCondition::parse(outer.level, names);
    const auto b = LevelCondition::parse(inner.level, names);
    return a && b && levelsCover(*a, *b);
  }

  bool levelsCover(const LevelCondition& outer, const LevelCondition& inner) const {
    const int count = static_cast<int>(config_.dlp_policy.levels.names().size());
    for (int rank = 0; rank < count; ++rank) {
      if (inner.matches(rank) && !outer.matches(rank)) {
        return false;
      }
    }
    return true;
  }

  // A detector id or group `outer` matches every finding `inner` does.
  bool detectorCovers(const std::string& outer, const std::string& inner) const {
    if (outer == inner) {
      return true;
    }
    const auto group = groupClass(outer);
    if (!group || groupClass(inner)) {
      return false;
    }
    const auto it = class_of_.find(inner);
    return it != class_of_.end() && it->second == *group;
  }

  static std::optional<policies::DetectorClass> groupClass(std::string_view name) {
    using policies::DetectorClass;
    if (name == "pii") {
      return DetectorClass::Pii;
    }
    if (name == "secrets") {
      return DetectorClass::Secret;
    }
    if (name == "injection") {
      return DetectorClass::Injection;
    }
    if (name == "custom") {
      return DetectorClass::Custom;
    }
    return std::nullopt;
  }

  const Config& config_;
  const WarningSink& warn_;
  std::map<std::string, policies::DetectorClass, std::less<>> class_of_;
};

// The tier a route or fallback target names: a tier, or an alias of a tier ("" otherwise).
std::string_view tierOf(const router::CatalogSpec& catalog, std::string_view target) {
  for (const router::TierSpec& tier : catalog.tiers) {
    if (tier.name == target) {
      return tier.name;
    }
  }
  for (const router::ModelAliasSpec& alias : catalog.models) {
    if (alias.name == target) {
      return alias.tier;
    }
  }
  return "";
}

void unreachableTiers(const Config& config, const WarningSink& warn) {
  const auto& rules = config.routing.rules;
  // The client's own `model` decides (and may name any tier) under `route: requested`, and
  // under the implicit default rule unless an unconditional rule comes first.
  bool requested = rules.empty() || !rules.back().when.empty();
  std::set<std::string, std::less<>> reached;
  for (const router::RouteRuleSpec& rule : rules) {
    if (rule.action != router::RouteAction::Route) {
      continue;
    }
    requested = requested || rule.route == router::kRouteRequested;
    reached.emplace(tierOf(config.catalog, rule.route));
    for (const std::string& fallback : rule.fallback) {
      reached.emplace(tierOf(config.catalog, fallback));
    }
  }
  if (requested) {
    return;
  }
  for (const router::ModelAliasSpec& alias : config.catalog.models) {
    reached.insert(alias.tier);
  }
  reached.insert(config.limits.downgrade_tier);
  for (const router::TierSpec& tier : config.catalog.tiers) {
    if (!reached.contains(tier.name)) {
      warn(strCat("tiers.", tier.name),
           strCat("tier '", tier.name,
                  "' is unreachable: no routing rule routes or falls back to it, no model alias "
                  "names it, and every request matches a routing rule that names its target"));
    }
  }
}

const policies::TeamSpec* findTeam(const Config& config, std::string_view name) {
  for (const policies::TeamSpec& team : config.auth.teams) {
    if (team.name == name) {
      return &team;
    }
  }
  return nullptr;
}

void keysWithoutLimits(const Config& config, const WarningSink& warn) {
  for (size_t i = 0; i < config.auth.keys.size(); ++i) {
    const policies::KeySpec& key = config.auth.keys[i];
    const policies::TeamSpec* team = findTeam(config, key.team);
    if (key.limits.empty() && (team == nullptr || team->limits.empty())) {
      warn(strCat("keys[", i, "]"),
           strCat("key '", key.id, "' has no limits",
                  team != nullptr ? strCat(", nor has its team '", team->name, "'") : "",
                  ": its requests, tokens and spend are unbounded (set limits: {rpm, tpm, "
                  "concurrency, budget_usd})"));
    }
  }
}

// A key whose sensitivity floor is above its max_external_sensitivity can send nothing to an
// external backend: a tier it may use whose backends are all external always refuses it.
void scopesAlwaysBlocked(const Config& config, const WarningSink& warn) {
  const SensitivityLevels& levels = config.dlp_policy.levels;
  for (size_t i = 0; i < config.auth.keys.size(); ++i) {
    const policies::KeySpec& key = config.auth.keys[i];
    const policies::TeamSpec* team = findTeam(config, key.team);
    int max_external = levels.rank(key.allow.max_external_sensitivity);
    if (team != nullptr && !team->allow.max_external_sensitivity.empty()) {
      const int team_max = levels.rank(team->allow.max_external_sensitivity);
      max_external = max_external < 0 ? team_max : std::min(max_external, team_max);
    }
    const int floor = levels.rank(key.sensitivity_floor);
    if (max_external < 0 || floor <= max_external) {
      continue;
    }
    for (const router::TierSpec& tier : config.catalog.tiers) {
      const auto allows = [&](const policies::Scopes& scopes) {
        return scopes.tiers.empty() || std::find(scopes.tiers.begin(), scopes.tiers.end(),
                                                 tier.name) != scopes.tiers.end();
      };
      const bool all_external =
          std::all_of(tier.backends.begin(), tier.backends.end(), [&](const std::string& name) {
            const auto& backends = config.catalog.backends;
            const auto it = std::find_if(backends.begin(), backends.end(),
                                         [&](const auto& b) { return b.name == name; });
            return it != backends.end() && it->location == router::Location::External;
          });
      if (!all_external || !allows(key.allow) || (team != nullptr && !allows(team->allow))) {
        continue;
      }
      const auto& listed = key.allow.tiers;
      const auto at = std::find(listed.begin(), listed.end(), tier.name);
      warn(at != listed.end() ? strCat("keys[", i, "].allow.tiers[", at - listed.begin(), "]")
                              : strCat("keys[", i, "]"),
           strCat("key '", key.id, "' may use tier '", tier.name,
                  "', whose backends are all external, but its sensitivity_floor '",
                  key.sensitivity_floor, "' is above its max_external_sensitivity '",
                  levels.name(max_external), "': every request routed there is refused (403)"));
    }
  }
}

// RE2 program size (instructions) beyond which a custom pattern is reported as costly: it is
// part of the one RE2::Set every scan runs, and a large program means a large DFA. A customer-id
// pattern such as '\bNW-\d{8}\b' is 17; '[a-z]{1,100}' is 203, '[a-z]{1,900}' 1803. The size
// does not catch every DFA blow-up ('.*a.{30}' is 253): RE2 exposes no cheaper measure.
constexpr int kMaxProgramSize = 1000;

void customPatterns(const Config& config, const WarningSink& warn) {
  for (size_t i = 0; i < config.dlp.custom.size(); ++i) {
    const policies::CustomRule& rule = config.dlp.custom[i];
    if (rule.pattern.empty()) {
      continue;
    }
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(!rule.case_insensitive);
    options.set_max_mem(8 << 20);
    const RE2 re(rule.pattern, options);
    const std::string path = strCat("dlp.custom[", i, "].pattern");
    if (!re.ok()) {
      continue;  // the loader reports it
    }
    if (RE2::PartialMatch("", re)) {
      warn(path, strCat("custom rule '", rule.name,
                        "' matches the empty string, so it can match anywhere (findings of no "
                        "text); require at least one character"));
    }
    if (re.ProgramSize() > kMaxProgramSize) {
      warn(path, strCat("custom rule '", rule.name, "' is expensive for the DLP engine's RE2 set ",
                        "(program size ", re.ProgramSize(), ", more than ", kMaxProgramSize,
                        "): every scan of every request pays for it; narrow wide counted "
                        "repetitions such as '[a-z]{1,500}'"));
    }
  }
}

// Stored conversations are scoped to the key that made them; anonymous requests share one
// identity, so the gateway never stores theirs (nor resolves previous_response_id for them).
void anonymousResponses(const Config& config, const WarningSink& warn) {
  if (config.responses.store && config.auth.anonymous) {
    warn("responses.store",
         "anonymous requests are never stored (conversations are scoped to a key): "
         "previous_response_id works only for requests with a key");
  }
}

}  // namespace

void lintRules(const Config& config, const WarningSink& warn) {
  RuleLinter rules(config, warn);
  rules.shadowedRoutingRules();
  rules.shadowedActionRules(config.dlp_policy.request_rules, "dlp.actions");
  rules.shadowedActionRules(config.dlp_policy.response_rules, "dlp.responses.actions");
  unreachableTiers(config, warn);
  keysWithoutLimits(config, warn);
  scopesAlwaysBlocked(config, warn);
  customPatterns(config, warn);
  anonymousResponses(config, warn);
}

}  // namespace sy::config
