// Decoders for `difficulty` (the classifier's settings) and `routing` (the ordered rules, first
// match wins). Every name a rule uses is checked where it is written: levels against
// `sensitivity.levels`, detectors against the built-ins, groups and `dlp.custom`, teams and keys
// against the access sections, routes and fallbacks against the catalog; and no fallback may
// widen exposure (router::widensExposure). RouteTable::create() checks the structure again.
#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "gateway/config/decode_sections.h"
#include "policies/dlp_engine.h"
#include "router/routing.h"

namespace sy::config {
namespace {

using router::Comparison;
using router::RouteAction;
using router::RouteCondition;
using router::RouteRuleSpec;
using router::Transform;

// Names seen so far -> 1-based line of their first definition.
using NameIndex = std::map<std::string, int, std::less<>>;
using NameSet = std::set<std::string, std::less<>>;

constexpr std::array<std::pair<std::string_view, RouteAction>, 2> kRouteActions{{
    {"route", RouteAction::Route},
    {"block", RouteAction::Block},
}};
constexpr std::array<std::pair<std::string_view, Transform>, 3> kTransforms{{
    {"redact", Transform::Redact},
    {"mask", Transform::Mask},
    {"pseudonymize", Transform::Pseudonymize},
}};
constexpr std::array<std::pair<std::string_view, router::ConversationBasis>, 2> kBases{{
    {"first_turn", router::ConversationBasis::FirstTurn},
    {"latest_turn", router::ConversationBasis::LatestTurn},
}};
constexpr std::array<std::pair<std::string_view, bool>, 2> kDifficultyLabels{{
    {"routine", false},
    {"complex", true},
}};
// What `detectors` may name besides detector ids and custom rule names (as dlp.actions).
constexpr std::array<std::string_view, 4> kDetectorGroups{"pii", "secrets", "injection", "custom"};
constexpr std::array<std::string_view, 2> kEndpoints{"chat", "embeddings"};

struct RoutingContext {
  Decoder& decoder;
  const Config& config;
  std::optional<SensitivityLevels> levels;  // nullopt: sensitivity.levels was rejected
  NameSet targets;                          // tiers, aliases and backends
  NameSet tiers;
  NameSet detectors;             // built-in ids, groups and custom rule names
  std::optional<NameSet> teams;  // declared or named by a key; nullopt: `teams` was rejected
  std::optional<NameSet> keys;   // key ids; nullopt: `keys` was rejected
};


// "; did you mean 'email'?" when a candidate is within 2 edits of `name`, else "".
std::string suggestion(std::string_view name, const NameSet& candidates) {
  std::string_view best;
  size_t best_distance = 3;
  for (const std::string& candidate : candidates) {
    const size_t distance = editDistance(name, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string() : strCat("; did you mean '", best, "'?");
}


RoutingContext makeContext(Decoder& decoder, const RoutingSections& sections,
                           const Config& config) {
  RoutingContext ctx{
      decoder, config, declaredLevels(sections.sensitivity, config.dlp_policy.levels), {}, {}, {},
      {},      {}};
  for (const router::TierSpec& tier : config.catalog.tiers) {
    ctx.tiers.insert(tier.name);
    ctx.targets.insert(tier.name);
  }
  for (const router::ModelAliasSpec& alias : config.catalog.models) {
    ctx.targets.insert(alias.name);
  }
  for (const router::BackendSpec& backend : config.catalog.backends) {
    ctx.targets.insert(backend.name);
  }
  ctx.detectors.insert(kDetectorGroups.begin(), kDetectorGroups.end());
  for (const policies::BuiltinDetectorDefaults& builtin : policies::DlpEngine::builtinDetectors()) {
    ctx.detectors.insert(builtin.id);
  }
  for (const policies::CustomRule& rule : config.dlp.custom) {
    ctx.detectors.insert(rule.name);
  }
  if (!sections.teams || sections.teams->node.IsMap()) {
    ctx.teams.emplace();
    for (const policies::TeamSpec& team : config.auth.teams) {
      ctx.teams->insert(team.name);
    }
    for (const policies::KeySpec& key : config.auth.keys) {
      if (!key.team.empty()) {
        ctx.teams->insert(key.team);
      }
    }
  }
  if (!sections.keys || sections.keys->node.IsSequence()) {
    ctx.keys.emplace();
    for (const policies::KeySpec& key : config.auth.keys) {
      ctx.keys->insert(key.id);
    }
    if (config.auth.anonymous) {
      ctx.keys->insert("anonymous");  // the key id of anonymous traffic
    }
  }
  return ctx;
}

// A list of distinct non-empty strings, each accepted by `check` (which reports and returns false
// otherwise). An empty list is an error: omitting the key is how to say "any" (or "none" for a
// fallback, whose `omitted` hint says so).
template <class Check>
void decodeList(Decoder& decoder, const Located& where, std::string_view what,
                std::vector<std::string>& out, Check check, std::string_view omitted = "") {
  const std::vector<Located> items = decoder.sequence(where);
  if (items.empty() && where.node.IsSequence()) {
    const std::string key = where.path.substr(where.path.rfind('.') + 1);
    decoder.error(where, omitted.empty() ? strCat("must not be empty (omit '", key,
                                                  "' to match every ", what, ")")
                                         : strCat("must not be empty (", omitted, ")"));
  }
  for (const Located& item : items) {
    std::string name;
    if (!decoder.readNonEmptyString(item, name) || !check(item, name)) {
      continue;
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      decoder.error(item, strCat("duplicate ", what, " '", name, "'"));
      continue;
    }
    out.push_back(std::move(name));
  }
}

// A list of names that must be in `known` (nullopt: the section declaring them was rejected, so
// every name is accepted rather than reported again).
void decodeKnownList(Decoder& decoder, const std::optional<Located>& where, std::string_view what,
                     const std::optional<NameSet>& known, std::vector<std::string>& out) {
  if (!where) {
    return;
  }
  decodeList(decoder, *where, what, out, [&](const Located& item, const std::string& name) {
    if (!known || known->contains(name)) {
      return true;
    }
    decoder.error(item, strCat("unknown ", what, " '", name, "'", suggestion(name, *known)));
    return false;
  });
}

// `score` and `prompt_tokens`: a comparison whose number `valid` accepts (else reports `rule`).
template <class Valid>
void readComparison(Decoder& decoder, const std::optional<Located>& value, Valid valid,
                    std::string_view rule, std::optional<Comparison>& out) {
  if (!value) {
    return;
  }
  const auto text = decoder.scalar(*value, "a comparison such as \">= 0.8\"");
  if (!text) {
    return;
  }
  auto parsed = Comparison::parse(*text);
  if (!parsed) {
    decoder.error(*value, parsed.error().message);
  } else if (!valid(parsed->value)) {
    decoder.error(*value, strCat(rule, ", got '", *text, "'"));
  } else {
    out = *parsed;
  }
}

void readOptionalBool(Decoder& decoder, const std::optional<Located>& value,
                      std::optional<bool>& out) {
  bool flag = false;
  if (decoder.readBool(value, flag)) {
    out = flag;
  }
}

void decodeWhen(RoutingContext& ctx, const Located& where, RouteCondition& out) {
  Decoder& decoder = ctx.decoder;
  const Mapping when(decoder, where,
                     {{"sensitivity", "difficulty", "score", "high_stakes", "domain", "injection",
                       "detectors", "teams", "keys", "models", "endpoints", "prompt_tokens"}});
  const auto sensitivity = when.optional("sensitivity");
  std::string level;
  if (decoder.readNonEmptyString(sensitivity, level) && ctx.levels) {
    if (auto condition = LevelCondition::parse(level, *ctx.levels)) {
      out.sensitivity = *condition;
    } else {
      decoder.error(*sensitivity, condition.error().message);
    }
  }
  bool complex = false;
  if (decoder.readEnum(when.optional("difficulty"), kDifficultyLabels, "difficulty label",
                       complex)) {
    out.complex = complex;
  }
  readComparison(
      decoder, when.optional("score"), [](double v) { return v <= 1; },
      "the score is between 0 and 1", out.score);
  readOptionalBool(decoder, when.optional("high_stakes"), out.high_stakes);
  if (const auto domain = when.optional("domain")) {  // a domain name or a list of them
    auto check = [&](const Located& item, const std::string& name) {
      if (auto parsed = router::parseDomain(name)) {
        out.domains.push_back(*parsed);
        return true;
      }
      decoder.error(item, strCat("unknown domain '", name,
                                 "' (code, math, science, legal, medical, finance, creative, "
                                 "general)"));
      return false;
    };
    std::vector<std::string> names;
    std::string name;
    if (!domain->node.IsScalar()) {
      decodeList(decoder, *domain, "domain", names, check);
    } else if (decoder.readNonEmptyString(domain, name)) {
      check(*domain, name);
    }
  }
  readOptionalBool(decoder, when.optional("injection"), out.injection);
  if (const auto detectors = when.optional("detectors")) {
    decodeList(decoder, *detectors, "detector", out.detectors,
               [&](const Located& item, const std::string& name) {
                 if (ctx.detectors.contains(name)) {
                   return true;
                 }
                 const std::string hint = suggestion(name, ctx.detectors);
                 decoder.error(item, strCat("unknown detector '", name, "'",
                                            hint.empty() ? "; see the README's detector table"
                                                         : std::string_view(hint)));
                 return false;
               });
  }
  decodeKnownList(decoder, when.optional("teams"), "team", ctx.teams, out.teams);
  decodeKnownList(decoder, when.optional("keys"), "key", ctx.keys, out.keys);
  if (const auto models = when.optional("models")) {
    decodeList(decoder, *models, "model", out.models,
               [](const Located&, const std::string&) { return true; });
  }
  if (const auto endpoints = when.optional("endpoints")) {
    decodeList(decoder, *endpoints, "endpoint", out.endpoints,
               [&](const Located& item, const std::string& name) {
                 if (std::find(kEndpoints.begin(), kEndpoints.end(), name) != kEndpoints.end()) {
                   return true;
                 }
                 decoder.error(item, strCat("unknown endpoint '", name,
                                            "' (expected one of: chat, embeddings)"));
                 return false;
               });
  }
  readComparison(
      decoder, when.optional("prompt_tokens"),
      [](double v) { return v == static_cast<double>(static_cast<uint64_t>(v)); },
      "a token count is a whole number", out.prompt_tokens);
}

// `route`: a known target or "requested". Returns true when it is one.
bool decodeRoute(RoutingContext& ctx, const std::optional<Located>& value, std::string& out) {
  if (!ctx.decoder.readNonEmptyString(value, out)) {
    return false;
  }
  if (out == router::kRouteRequested || ctx.targets.contains(out)) {
    return true;
  }
  const std::string hint = suggestion(out, ctx.targets);
  ctx.decoder.error(*value,
                    strCat("unknown route '", out,
                           "' (expected a tier, a model alias, a backend or 'requested')", hint));
  return false;
}

// Names of the external backends of `tier`, quoted and comma-separated.
std::string externalBackends(const router::CatalogSpec& catalog, std::string_view tier) {
  std::string out;
  for (const router::BackendSpec* backend : router::targetBackends(catalog, tier)) {
    if (backend->location == router::Location::External) {
      out += strCat(out.empty() ? "'" : ", '", backend->name, "'");
    }
  }
  return out;
}

void decodeFallback(RoutingContext& ctx, const Located& where, const RouteRuleSpec& rule,
                    bool route_ok, std::vector<std::string>& out) {
  const router::CatalogSpec& catalog = ctx.config.catalog;
  decodeList(
      ctx.decoder, where, "tier", out,
      [&](const Located& item, const std::string& tier) {
        if (!ctx.tiers.contains(tier)) {
          ctx.decoder.error(item, strCat("unknown tier '", tier, "'", suggestion(tier, ctx.tiers)));
          return false;
        }
        if (tier == rule.route) {
          ctx.decoder.error(item, strCat("'", tier, "' is the rule's route already"));
          return false;
        }
        if (!route_ok || !router::widensExposure(catalog, rule.route, tier)) {
          return true;
        }
        const std::string external = externalBackends(catalog, tier);
        ctx.decoder.error(
            item,
            rule.route == router::kRouteRequested
                ? strCat("tier '", tier, "' has external backends (", external,
                         ") and route: requested may be a self-hosted model: falling back "
                         "there would widen exposure (route to a tier, or fall back to "
                         "self-hosted tiers only)")
                : strCat("tier '", tier, "' has external backends (", external, ") and route '",
                         rule.route, "' has none: falling back there would widen exposure"));
        return false;
      },
      "omit 'fallback' for no fallback");
}

RouteRuleSpec decodeRule(RoutingContext& ctx, const Located& where, NameIndex& names) {
  Decoder& decoder = ctx.decoder;
  const Mapping rule(decoder, where,
                     {{"name", "when", "action", "route", "transform", "fallback", "message"}});
  RouteRuleSpec out;
  if (!rule.valid()) {
    return out;
  }
  const auto name = rule.required("name");
  if (decoder.readName(name, out.name)) {
    const auto [it, inserted] = names.emplace(out.name, name->mark.line + 1);
    if (!inserted) {
      decoder.error(
          *name, strCat("duplicate rule name '", out.name, "' (first at line ", it->second, ")"));
    }
  }
  if (const auto when = rule.optional("when")) {
    decodeWhen(ctx, *when, out.when);
  }
  const auto action = rule.optional("action");
  const bool action_ok = decoder.readEnum(action, kRouteActions, "action", out.action) || !action;
  const auto route = rule.optional("route");
  const auto transform = rule.optional("transform");
  const auto fallback = rule.optional("fallback");
  const auto message = rule.optional("message");
  decoder.readEnum(transform, kTransforms, "transform", out.transform);
  decoder.readNonEmptyString(message, out.message);
  if (!action_ok) {
    return out;
  }
  if (out.action == RouteAction::Block) {
    for (const auto& [value, key] : {std::pair(route, "route"), std::pair(transform, "transform"),
                                     std::pair(fallback, "fallback")}) {
      if (value) {
        decoder.error(*value,
                      strCat("a block rule has no ", key, " (remove it, or set action: route)"));
      }
    }
    return out;
  }
  if (message) {
    decoder.error(*message, "only applies to action: block");
  }
  bool route_ok = false;
  if (!route) {
    decoder.error(rule.where(), "missing required key 'route' (or set action: block)");
  } else {
    route_ok = decodeRoute(ctx, route, out.route);
  }
  if (fallback) {
    decodeFallback(ctx, *fallback, out, route_ok, out.fallback);
  }
  return out;
}

// difficulty.judge: {backend, band: [low, high], timeout}. The backend must be a declared
// self-hosted one: the judge reads the prompt.
void decodeJudge(Decoder& decoder, const Located& where, const router::CatalogSpec& catalog,
                 router::JudgeSpec& out) {
  const Mapping judge(decoder, where, {{"backend", "band", "timeout"}});
  if (const auto backend = judge.optional("backend")) {
    if (decoder.readName(backend, out.backend)) {
      const auto spec = std::find_if(catalog.backends.begin(), catalog.backends.end(),
                                     [&](const auto& b) { return b.name == out.backend; });
      if (spec == catalog.backends.end()) {
        decoder.error(*backend, strCat("unknown backend '", out.backend, "'"));
      } else if (spec->location != router::Location::SelfHosted) {
        decoder.error(*backend, strCat("'", out.backend,
                                       "' is external; the judge reads the prompt and must be "
                                       "self-hosted"));
      }
    }
  } else {
    decoder.error(where, "missing required key 'backend' (a self-hosted backend that grades)");
  }
  if (const auto band = judge.optional("band")) {
    const std::vector<Located> items = decoder.sequence(*band);
    if (band->node.IsSequence() && items.size() != 2) {
      decoder.error(*band, "expected [low, high], two scores between 0 and 1");
    } else if (items.size() == 2) {
      double low = 0;
      double high = 0;
      const bool read_low = decoder.readNumber(items[0], low);
      const bool read_high = decoder.readNumber(items[1], high);
      if (read_low && read_high && (high > 1 || low >= high)) {
        decoder.error(*band, strCat("expected 0 <= low < high <= 1, got [", items[0].node.Scalar(),
                                    ", ", items[1].node.Scalar(), "]"));
      } else if (read_low && read_high) {
        out.low = low;
        out.high = high;
      }
    }
  }
  decoder.readDuration(judge.optional("timeout"), out.timeout);
}

void decodeDifficulty(Decoder& decoder, const Located& where, const router::CatalogSpec& catalog,
                      router::DifficultySpec& out) {
  const Mapping difficulty(decoder, where, {{"threshold", "model", "conversation", "judge"}});
  const auto threshold = difficulty.optional("threshold");
  double value = 0;
  if (decoder.readNumber(threshold, value)) {
    if (value > 1) {
      decoder.error(*threshold,
                    strCat("must be between 0 and 1, got '", threshold->node.Scalar(), "'"));
    } else {
      out.threshold = value;
    }
  }
  decoder.readNonEmptyString(difficulty.optional("model"), out.model);
  decoder.readEnum(difficulty.optional("conversation"), kBases, "conversation basis",
                   out.conversation);
  if (const auto judge = difficulty.optional("judge")) {
    decodeJudge(decoder, *judge, catalog, out.judge.emplace());
  }
}

}  // namespace

void decodeRouting(Decoder& decoder, const RoutingSections& sections, Config& config) {
  if (sections.difficulty) {
    decodeDifficulty(decoder, *sections.difficulty, config.catalog, config.routing.difficulty);
  }
  if (!sections.routing) {
    return;
  }
  RoutingContext ctx = makeContext(decoder, sections, config);
  const std::vector<Located> items = decoder.sequence(*sections.routing);
  if (items.empty() && sections.routing->node.IsSequence()) {
    decoder.error(*sections.routing,
                  "must not be empty (omit 'routing' to honour the model "
                  "each client asks for)");
  }
  NameIndex names;
  std::optional<std::pair<std::string, int>> catch_all;  // the first rule without conditions
  for (const Located& item : items) {
    RouteRuleSpec rule = decodeRule(ctx, item, names);
    if (catch_all) {
      decoder.error(item, strCat("unreachable: rule '", catch_all->first, "' (line ",
                                 catch_all->second, ") matches every request"));
    } else if (item.node.IsMap() &&
               (!item.node["when"] || item.node["when"].IsNull() ||
                (item.node["when"].IsMap() && item.node["when"].size() == 0))) {
      catch_all.emplace(rule.name, item.mark.line + 1);
    }
    config.routing.rules.push_back(std::move(rule));
  }
}

}  // namespace sy::config
