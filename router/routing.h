// Routing rules: the policy's ordered `routing:` list (first match wins) as value types, and the
// RouteTable that picks the rule for a request. No YAML here (gateway/config decodes it) and no
// I/O. Values only; a RouteTable is immutable after create() and safe for concurrent use from
// every worker. Lives in the snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/glob.h"
#include "core/sensitivity.h"
#include "router/catalog.h"
#include "router/difficulty.h"

namespace sy::router {

enum class RouteAction { Route, Block };

// A DLP transform a rule demands for its destination, applied to every finding when the request
// goes to an external backend (the DLP action rules may still choose a stricter one).
enum class Transform { None, Redact, Mask, Pseudonymize };

std::string_view toString(RouteAction action);   // "route", "block"
std::string_view toString(Transform transform);  // "none", "redact", "mask", "pseudonymize"

// `route: requested`: honour the client's `model` (auto, a tier or a model name).
inline constexpr std::string_view kRouteRequested = "requested";
// The name of the implicit last rule {name: default, route: requested}.
inline constexpr std::string_view kDefaultRuleName = "default";

// A numeric condition: ">= 0.8", "> 4000", "<= 0.2", "< 100", "== 1" ("=" also means equal).
// Spaces around the operator are optional. A bare number is refused: `score: 0.8` is ambiguous.
struct Comparison {
  enum class Op { Ge, Gt, Le, Lt, Eq };
  Op op = Op::Ge;
  double value = 0;

  // Fails (InvalidArgument, source Config) with a message quoting `text`; the number must be
  // finite. Range checks (a score in 0..1, a whole token count) are the caller's.
  static Result<Comparison> parse(std::string_view text);
  bool matches(double x) const;
  bool operator==(const Comparison&) const = default;
};

// `when:` — every condition that is set must hold (AND); lists match when any item does (OR).
// Empty lists and nullopt mean "any".
struct RouteCondition {
  std::optional<LevelCondition> sensitivity;  // on the request's sensitivity rank
  std::optional<bool> complex;                // difficulty: complex (true) | routine (false)
  std::optional<Comparison> score;            // on the difficulty score, 0..1
  std::optional<bool> high_stakes;
  std::vector<Domain> domains;              // the classifier's domain is one of these
  std::optional<bool> injection;            // a prompt-injection detector fired
  std::vector<std::string> detectors;       // detector ids, custom rule names or groups
  std::vector<std::string> teams;           // team names
  std::vector<std::string> keys;            // key ids
  std::vector<std::string> models;          // globs (* and ?) on the requested model
  std::vector<std::string> endpoints;       // chat | embeddings
  std::optional<Comparison> prompt_tokens;  // on the prompt token estimate

  bool empty() const;  // no condition at all: matches every request
};

struct RouteRuleSpec {
  std::string name;  // [A-Za-z0-9._-]+, unique
  RouteCondition when;
  RouteAction action = RouteAction::Route;
  std::string route;  // action Route: a tier, a model alias or a backend, or "requested"
  Transform transform = Transform::None;
  std::vector<std::string> fallback;  // tiers to try after the route's own backends fail
  std::string message;                // action Block: shown in the 403 ("" = a generic text)
};

// `difficulty:` — the classifier's settings.
// Which user turn of a conversation the difficulty is judged on. FirstTurn: the conversation's
// opening request (the task), so every later turn (a tool result, "thanks", a new question)
// gets the first turn's label and stays on its tier unless another condition of the rules
// (sensitivity, detectors, models, ...) changes; LatestTurn: each turn is judged on its own last
// user message, earlier user turns as context.
enum class ConversationBasis : uint8_t { FirstTurn, LatestTurn };
std::string_view toString(ConversationBasis basis);  // "first_turn" | "latest_turn"

// A second opinion on ambiguous prompts (difficulty.judge): a self-hosted backend grades the
// judged turn when the classifier's score is within [low, high].
struct JudgeSpec {
  std::string backend;  // a declared self-hosted backend (checked when the snapshot is built)
  double low = 0.4;
  double high = 0.75;
  std::chrono::milliseconds timeout{1'000};  // for connecting and for the answer, each
};

struct DifficultySpec {
  std::optional<double> threshold;  // score >= threshold -> complex; nullopt: the model's own
  std::string model = "builtin";    // "builtin" or the path of a weights file
  ConversationBasis conversation = ConversationBasis::FirstTurn;
  std::optional<JudgeSpec> judge;
};

struct RoutingSpec {
  DifficultySpec difficulty;
  std::vector<RouteRuleSpec> rules;  // in policy order; empty: only the implicit default rule
};

// What the gateway knows about a request when it decides: views into request-owned data, valid
// for the duration of match().
struct RouteInput {
  int sensitivity_rank = 0;
  double difficulty_score = 0;
  bool complex = false;
  bool high_stakes = false;
  bool injection = false;
  // For every finding, its detector id (or custom rule name) AND its group ("pii", "secrets",
  // "injection", "custom"); duplicates are harmless.
  std::span<const std::string_view> detectors;
  std::string_view team;             // "" when the caller has none
  std::string_view key_id;           // "" for anonymous traffic
  std::string_view requested_model;  // the client's `model`, as sent
  std::string_view endpoint;         // "chat" | "embeddings"
  uint64_t prompt_tokens = 0;
  Domain domain = Domain::General;  // the classifier's (General when not classified)
};

// The backends a route or fallback target names in `catalog`: a tier's, an alias's (its backend,
// or its tier's), else the backend of that name, in that order of precedence. Empty when the name
// is unknown, and for "requested" (the client decides at request time).
std::vector<const BackendSpec*> targetBackends(const CatalogSpec& catalog, std::string_view target);

// The exposure rule for fallbacks: falling back from `route` to `fallback_tier` widens exposure
// when that tier has an external backend and the route's own backends have none. "requested"
// counts as self-hosted (the client may have asked for a self-hosted model), so a rule that
// honours the client's model may only fall back to self-hosted tiers. False for unknown names.
bool widensExposure(const CatalogSpec& catalog, std::string_view route,
                    std::string_view fallback_tier);

class RouteTable {
 public:
  // The implicit default rule alone (no `routing:` section).
  RouteTable();

  // Validates the spec against the catalog: difficulty.threshold in 0..1 and a model named;
  // rule names valid and unique; no empty name or glob in a condition list; a route rule has a
  // route that names a tier, alias or backend (or "requested"); a block rule has no route,
  // transform or fallback; fallbacks are known tiers that do not widen exposure (widensExposure).
  // Fails with the first problem (InvalidArgument, source Config, "routing[2].route: ..."); the
  // config loader reports every problem, located, before this runs. Names of levels, detectors,
  // teams and keys are the loader's to check (this module does not know them).
  static Result<RouteTable> create(RoutingSpec spec, const CatalogSpec& catalog);

  // The first rule whose conditions all hold; the implicit default rule when none does. Never
  // allocates; the reference lives as long as the table.
  const RouteRuleSpec& match(const RouteInput& input) const;

  const std::vector<RouteRuleSpec>& rules() const { return spec_.rules; }  // without the default
  const RouteRuleSpec& defaultRule() const { return default_rule_; }
  const DifficultySpec& difficulty() const { return spec_.difficulty; }
  // True when some rule looks at the classifier (difficulty, score, high_stakes or domain): the gateway
  // classifies requests only then (about 10 us per KB of prompt).
  bool usesDifficulty() const { return uses_difficulty_; }

 private:
  explicit RouteTable(RoutingSpec spec);

  RoutingSpec spec_;
  RouteRuleSpec default_rule_;
  bool uses_difficulty_ = false;
};


}  // namespace sy::router
