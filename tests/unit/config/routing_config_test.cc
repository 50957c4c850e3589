// The `difficulty` and `routing` sections: error cases with exact located messages (one per
// validation rule, the exposure rule for fallbacks included), a full policy decoding to the
// expected structs (which RouteTable::create() accepts), and absent sections keeping defaults.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "router/routing.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

using router::Comparison;
using router::RouteAction;
using router::Transform;

const std::string kSha = "sha256:" + std::string(64, 'a');

std::string str(std::string_view a, std::string_view b = "", std::string_view c = "") {
  return std::string(a).append(b).append(c);
}

// After the sections under test: self-hosted `a`, external `x`; tiers local (a), frontier (x),
// mixed (a, x); aliases gpt -> x and fast -> local.
constexpr std::string_view kCatalogPart =
    "backends:\n"
    "  - {name: a, url: http://h, model: m}\n"
    "  - {name: x, url: https://api.example.com, model: m, location: external}\n"
    "tiers:\n"
    "  local: {backends: [a]}\n"
    "  frontier: {backends: [x]}\n"
    "  mixed: {backends: [a, x]}\n"
    "models:\n"
    "  gpt: {backend: x}\n"
    "  fast: {tier: local}\n";
// Team legal.
constexpr std::string_view kTeamsPart = "teams:\n  legal: {}\n";
// Keys legal-assistant (team legal) and batch (team analytics, not declared).
const std::string kKeysPart =
    str("keys:\n  - {id: legal-assistant, team: legal, hash: '", kSha,
        str("'}\n  - {id: batch, team: analytics, hash: '", kSha, "'}\n"));
// All of the above, served anonymously too.
const std::string kWorld = str(kCatalogPart, kTeamsPart, str(kKeysPart, kAnonymous));

std::string at(std::string_view position, std::string_view message) {
  return str("policy.yaml:", position, ": ").append(message);
}

// Top-level `lines` from line 1, then the world.
std::string top(std::string_view lines) { return str(lines, kWorld); }
// `routing:` on line 1, `items` from line 2.
std::string routing(std::string_view items) { return top(str("routing:\n", items)); }
// Rule `r` (name on line 2), its `fields` (4 spaces) from line 3.
std::string rule(std::string_view fields) { return routing(str("  - name: r\n", fields)); }
// Rule `r` routed to local, its `when:` on line 3, `conditions` (6 spaces) from line 4.
std::string when(std::string_view conditions) {
  return rule(str("    route: local\n    when:\n", conditions));
}

const std::string kRuleKeys =
    "(expected one of: name, when, action, route, transform, fallback, message)";
const std::string kWhenKeys =
    "(expected one of: sensitivity, difficulty, score, high_stakes, domain, injection, detectors, "
    "teams, keys, models, endpoints, prompt_tokens)";
const std::string kUnknownRoute = "(expected a tier, a model alias, a backend or 'requested')";
const std::string kComparisonRule = "(expected >=, >, <=, < or == and a number, e.g. \">= 0.8\")";

const std::vector<ErrorCase> kDifficultyCases = {
    {"UnknownKey",
     top("difficulty:\n  treshold: 0.5\n"),
     {at("2:3", "difficulty.treshold: unknown key (expected one of: threshold, model, conversation, judge)")}},
    {"IsAScalar",
     top("difficulty: high\n"),
     {at("1:13", "difficulty: expected a mapping, got 'high'")}},
    {"ThresholdAboveOne",
     top("difficulty: {threshold: 1.5}\n"),
     {at("1:25", "difficulty.threshold: must be between 0 and 1, got '1.5'")}},
    {"ThresholdNegative",
     top("difficulty: {threshold: -0.1}\n"),
     {at("1:25", "difficulty.threshold: must be >= 0, got '-0.1'")}},
    {"ModelEmpty",
     top("difficulty: {model: ''}\n"),
     {at("1:21", "difficulty.model: must not be empty")}},
    {"ConversationUnknown",
     top("difficulty: {conversation: last}\n"),
     {at("1:28",
         "difficulty.conversation: unknown conversation basis 'last' (expected one of: "
         "first_turn, latest_turn)")}},
    {"JudgeWithoutBackend",
     top("difficulty: {judge: {timeout: 1s}}\n"),
     {at("1:21", "difficulty.judge: missing required key 'backend' (a self-hosted backend that "
                 "grades)")}},
    {"JudgeUnknownBackend",
     top("difficulty: {judge: {backend: nope}}\n"),
     {at("1:31", "difficulty.judge.backend: unknown backend 'nope'")}},
    {"JudgeBandReversed",
     top("difficulty: {judge: {backend: a, band: [0.8, 0.2]}}\n"),
     {at("1:40", "difficulty.judge.band: expected 0 <= low < high <= 1, got [0.8, 0.2]")}},
    {"JudgeBandOfThree",
     top("difficulty: {judge: {backend: a, band: [0.1, 0.2, 0.3]}}\n"),
     {at("1:40", "difficulty.judge.band: expected [low, high], two scores between 0 and 1")}},
    {"JudgeValid", top("difficulty: {judge: {backend: a, band: [0.3, 0.8], timeout: 500ms}}\n"),
     {}},
    {"Valid",
     top("difficulty: {threshold: 0.55, model: /var/lib/switchyard/d.bin, conversation: "
         "latest_turn}\n"),
     {}},
    {"Null", top("difficulty: ~\n"), {}},
};

const std::vector<ErrorCase> kRoutingCases = {
    {"IsAMapping",
     top("routing: {r: local}\n"),
     {at("1:10", "routing: expected a sequence, got a mapping")}},
    {"IsEmpty",
     top("routing: []\n"),
     {at("1:10",
         "routing: must not be empty (omit 'routing' to honour the model each client asks "
         "for)")}},
    {"Null", top("routing: ~\n"), {}},
    {"ItemIsAScalar",
     routing("  - default\n"),
     {at("2:5", "routing[0]: expected a mapping, got 'default'")}},
    {"WithoutName",
     routing("  - {route: local}\n"),
     {at("2:5", "routing[0]: missing required key 'name'")}},
    {"InvalidName",
     routing("  - {name: 'no spaces', route: local}\n"),
     {at("2:12",
         "routing[0].name: invalid name 'no spaces' (use letters, digits, '.', '_' and '-')")}},
    {"DuplicateName",
     routing("  - {name: r, when: {high_stakes: true}, route: local}\n"
             "  - {name: r, route: frontier}\n"),
     {at("3:12", "routing[1].name: duplicate rule name 'r' (first at line 2)")}},
    {"UnreachableAfterACatchAll",
     routing("  - {name: everything, route: local}\n"
             "  - {name: never, when: {high_stakes: true}, route: frontier}\n"
             "  - {name: never-either, route: frontier}\n"),
     {at("3:5", "routing[1]: unreachable: rule 'everything' (line 2) matches every request"),
      at("4:5", "routing[2]: unreachable: rule 'everything' (line 2) matches every request")}},
    {"AnEmptyWhenIsACatchAll",
     routing("  - {name: everything, when: {}, route: local}\n"
             "  - {name: never, route: frontier}\n"),
     {at("3:5", "routing[1]: unreachable: rule 'everything' (line 2) matches every request")}},
    {"UnknownKey",
     rule("    route: local\n    fallbacks: [mixed]\n"),
     {at("4:5", str("routing[0].fallbacks: unknown key ", kRuleKeys))}},
    {"UnknownAction",
     rule("    action: allow\n"),
     {at("3:13", "routing[0].action: unknown action 'allow' (expected one of: route, block)")}},
    {"RouteMissing",
     rule("    transform: mask\n"),
     {at("2:5", "routing[0]: missing required key 'route' (or set action: block)")}},
    {"RouteEmpty", rule("    route: ''\n"), {at("3:12", "routing[0].route: must not be empty")}},
    {"RouteUnknownWithASuggestion",
     rule("    route: locl\n"),
     {at("3:12", str("routing[0].route: unknown route 'locl' ", kUnknownRoute,
                     "; did you mean 'local'?"))}},
    {"RouteUnknown",
     rule("    route: enormous\n"),
     {at("3:12", str("routing[0].route: unknown route 'enormous' ", kUnknownRoute))}},
    {"RouteToAnAlias", rule("    route: gpt\n"), {}},
    {"RouteToABackend", rule("    route: a\n"), {}},
    {"RouteRequested", rule("    route: requested\n"), {}},
    {"UnknownTransform",
     rule("    route: frontier\n    transform: hash\n"),
     {at("4:16",
         "routing[0].transform: unknown transform 'hash' (expected one of: redact, mask, "
         "pseudonymize)")}},
    {"MessageOnARouteRule",
     rule("    route: local\n    message: no\n"),
     {at("4:14", "routing[0].message: only applies to action: block")}},
    {"BlockWithAMessage", rule("    action: block\n    message: 'Secrets stay home.'\n"), {}},
    {"BlockWithAnEmptyMessage",
     rule("    action: block\n    message: ''\n"),
     {at("4:14", "routing[0].message: must not be empty")}},
    {"BlockWithRouteTransformAndFallback",
     rule("    action: block\n    route: local\n    transform: redact\n    fallback: [local]\n"),
     {at("4:12", "routing[0].route: a block rule has no route (remove it, or set action: route)"),
      at("5:16",
         "routing[0].transform: a block rule has no transform (remove it, or set action: route)"),
      at("6:15",
         "routing[0].fallback: a block rule has no fallback (remove it, or set action: "
         "route)")}},
};

const std::vector<ErrorCase> kFallbackCases = {
    {"UnknownTier",
     rule("    route: frontier\n    fallback: [mixd]\n"),
     {at("4:16", "routing[0].fallback[0]: unknown tier 'mixd'; did you mean 'mixed'?")}},
    {"AnAliasIsNotATier",
     rule("    route: frontier\n    fallback: [gpt]\n"),
     {at("4:16", "routing[0].fallback[0]: unknown tier 'gpt'")}},
    {"Empty",
     rule("    route: frontier\n    fallback: []\n"),
     {at("4:15", "routing[0].fallback: must not be empty (omit 'fallback' for no fallback)")}},
    {"Duplicate",
     rule("    route: frontier\n    fallback: [mixed, mixed]\n"),
     {at("4:23", "routing[0].fallback[1]: duplicate tier 'mixed'")}},
    {"TheRouteItself",
     rule("    route: frontier\n    fallback: [frontier]\n"),
     {at("4:16", "routing[0].fallback[0]: 'frontier' is the rule's route already")}},
    {"SelfHostedTierToExternal",
     rule("    route: local\n    fallback: [frontier]\n"),
     {at("4:16",
         "routing[0].fallback[0]: tier 'frontier' has external backends ('x') and route "
         "'local' has none: falling back there would widen exposure")}},
    {"SelfHostedTierToMixed",
     rule("    route: local\n    fallback: [mixed]\n"),
     {at("4:16",
         "routing[0].fallback[0]: tier 'mixed' has external backends ('x') and route 'local' "
         "has none: falling back there would widen exposure")}},
    {"SelfHostedAliasToExternal",
     rule("    route: fast\n    fallback: [frontier]\n"),
     {at("4:16",
         "routing[0].fallback[0]: tier 'frontier' has external backends ('x') and route 'fast' "
         "has none: falling back there would widen exposure")}},
    {"SelfHostedBackendToExternal",
     rule("    route: a\n    fallback: [frontier]\n"),
     {at("4:16",
         "routing[0].fallback[0]: tier 'frontier' has external backends ('x') and route 'a' "
         "has none: falling back there would widen exposure")}},
    {"RequestedToExternal",
     rule("    route: requested\n    fallback: [local, frontier]\n"),
     {at("4:23",
         "routing[0].fallback[1]: tier 'frontier' has external backends ('x') and route: "
         "requested may be a self-hosted model: falling back there would widen exposure (route "
         "to a tier, or fall back to self-hosted tiers only)")}},
    {"RequestedToSelfHosted", rule("    route: requested\n    fallback: [local]\n"), {}},
    {"MixedToExternal", rule("    route: mixed\n    fallback: [frontier]\n"), {}},
    {"ExternalAliasToMixed", rule("    route: gpt\n    fallback: [mixed, local]\n"), {}},
    {"ExternalToSelfHosted", rule("    route: frontier\n    fallback: [local]\n"), {}},
    {"UnknownRouteSkipsTheExposureCheck",
     rule("    route: nowhere\n    fallback: [frontier]\n"),
     {at("3:12", str("routing[0].route: unknown route 'nowhere' ", kUnknownRoute))}},
};

const std::vector<ErrorCase> kWhenCases = {
    {"IsASequence",
     rule("    route: local\n    when: [high_stakes]\n"),
     {at("4:11", "routing[0].when: expected a mapping, got a sequence")}},
    {"UnknownKey",
     when("      team: [legal]\n"),
     {at("5:7", str("routing[0].when.team: unknown key ", kWhenKeys))}},
    {"UnknownLevel",
     when("      sensitivity: '>= secret'\n"),
     {at("5:20",
         "routing[0].when.sensitivity: unknown sensitivity level 'secret' (levels: public, "
         "internal, confidential, restricted; a condition is a level, optionally after >=, >, "
         "<= or <)")}},
    {"DeclaredLevel",
     str("sensitivity:\n  levels: [public, internal, confidential, restricted, secret]\n",
         when("      sensitivity: '>= secret'\n")),
     {}},
    {"LevelsRejectedSkipsTheCheck",
     str("sensitivity: {levels: []}\n", when("      sensitivity: '>= secret'\n")),
     {at("1:23", "sensitivity.levels: must not be empty")}},
    {"UnknownDifficulty",
     when("      difficulty: hard\n"),
     {at("5:19",
         "routing[0].when.difficulty: unknown difficulty label 'hard' (expected one of: "
         "routine, complex)")}},
    {"ScoreWithoutOperator",
     when("      score: 0.8\n"),
     {at("5:14", str("routing[0].when.score: invalid comparison '0.8' ", kComparisonRule))}},
    {"ScoreAboveOne",
     when("      score: '>= 2'\n"),
     {at("5:14", "routing[0].when.score: the score is between 0 and 1, got '>= 2'")}},
    {"ScoreIsASequence",
     when("      score: [1]\n"),
     {at("5:14",
         "routing[0].when.score: expected a comparison such as \">= 0.8\", got a sequence")}},
    {"HighStakesIsNotStrict",
     when("      high_stakes: yes\n"),
     {at("5:20", "routing[0].when.high_stakes: expected true or false, got 'yes'")}},
    {"DomainUnknown",
     when("      domain: [legal, lawyerly]\n"),
     {at("5:23", "routing[0].when.domain[1]: unknown domain 'lawyerly' (code, math, science, "
                 "legal, medical, finance, creative, general)")}},
    {"DomainScalarUnknown",
     when("      domain: law\n"),
     {at("5:15", "routing[0].when.domain: unknown domain 'law' (code, math, science, legal, "
                 "medical, finance, creative, general)")}},
    {"DomainEmptyList",
     when("      domain: []\n"),
     {at("5:15", "routing[0].when.domain: must not be empty (omit 'domain' to match every "
                 "domain)")}},
    {"InjectionIsNotStrict",
     when("      injection: 1\n"),
     {at("5:18", "routing[0].when.injection: expected true or false, got '1'")}},
    {"DetectorMisspelled",
     when("      detectors: [secrets, emial]\n"),
     {at("5:28", "routing[0].when.detectors[1]: unknown detector 'emial'; did you mean 'email'?")}},
    {"DetectorUnknown",
     when("      detectors: [everything]\n"),
     {at("5:19",
         "routing[0].when.detectors[0]: unknown detector 'everything'; see the README's "
         "detector table")}},
    {"DetectorCustomRule",
     str("dlp:\n  custom:\n    - {name: project-falcon, keywords: [falcon]}\n",
         when("      detectors: [project-falcon, custom, pii, injection, iban]\n")),
     {}},
    {"DetectorsEmpty",
     when("      detectors: []\n"),
     {at("5:18",
         "routing[0].when.detectors: must not be empty (omit 'detectors' to match every "
         "detector)")}},
    {"DetectorDuplicate",
     when("      detectors: [pii, pii]\n"),
     {at("5:24", "routing[0].when.detectors[1]: duplicate detector 'pii'")}},
    {"TeamMisspelled",
     when("      teams: [lgal]\n"),
     {at("5:15", "routing[0].when.teams[0]: unknown team 'lgal'; did you mean 'legal'?")}},
    {"TeamNamedOnlyByAKey", when("      teams: [analytics, legal]\n"), {}},
    {"TeamsRejectedSkipsTheCheck",
     str("teams: [legal]\nrouting:\n  - {name: r, when: {teams: [sales]}, route: local}\n",
         kCatalogPart, str(kKeysPart, kAnonymous)),
     {at("1:8", "teams: expected a mapping, got a sequence")}},
    {"KeyMisspelled",
     when("      keys: [legal-asistant]\n"),
     {at("5:14",
         "routing[0].when.keys[0]: unknown key 'legal-asistant'; did you mean "
         "'legal-assistant'?")}},
    {"KeysRejectedSkipsTheCheck",
     str("keys: {k: 1}\nrouting:\n  - {name: r, when: {keys: [nobody]}, route: local}\n",
         kCatalogPart, str(kTeamsPart, kAnonymous)),
     {at("1:7", "keys: expected a sequence, got a mapping")}},
    {"KeyAnonymous", when("      keys: [anonymous, batch]\n"), {}},
    {"ModelsAreGlobs", when("      models: ['gpt-*', auto, 'llama?']\n"), {}},
    {"ModelEmpty",
     when("      models: ['']\n"),
     {at("5:16", "routing[0].when.models[0]: must not be empty")}},
    {"UnknownEndpoint",
     when("      endpoints: [chat, models]\n"),
     {at("5:25",
         "routing[0].when.endpoints[1]: unknown endpoint 'models' (expected one of: chat, "
         "embeddings)")}},
    {"PromptTokensFraction",
     when("      prompt_tokens: '> 4000.5'\n"),
     {at("5:22",
         "routing[0].when.prompt_tokens: a token count is a whole number, got '> 4000.5'")}},
    {"PromptTokensGarbage",
     when("      prompt_tokens: '> lots'\n"),
     {at("5:22",
         str("routing[0].when.prompt_tokens: invalid comparison '> lots' ", kComparisonRule))}},
    {"EveryCondition",
     when("      sensitivity: confidential\n      difficulty: complex\n      score: '>= 0.8'\n"
          "      high_stakes: true\n      injection: false\n      detectors: [secrets, email]\n"
          "      teams: [legal]\n      keys: [legal-assistant]\n      models: ['gpt-*']\n"
          "      endpoints: [chat, embeddings]\n      prompt_tokens: '> 4000'\n"),
     {}},
};

INSTANTIATE_TEST_SUITE_P(Difficulty, ConfigErrorTest, testing::ValuesIn(kDifficultyCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(Routing, ConfigErrorTest, testing::ValuesIn(kRoutingCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(RoutingFallback, ConfigErrorTest, testing::ValuesIn(kFallbackCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(RoutingWhen, ConfigErrorTest, testing::ValuesIn(kWhenCases),
                         errorCaseName);

// The DESIGN.md example, plus every field.
const std::string kFullRouting = top(R"(difficulty:
  threshold: 0.55
  model: builtin
routing:
  - name: secrets-never-leave
    when: {detectors: [secrets]}
    action: block
    message: "Secrets never leave the building."
  - name: restricted-stays-home
    when: {sensitivity: ">= restricted"}
    route: local
  - name: legal-long
    when:
      teams: [legal]
      keys: [legal-assistant]
      models: ["auto", "gpt-*"]
      endpoints: [chat]
      prompt_tokens: "> 4000"
      high_stakes: true
      domain: [legal, medical]
      injection: false
      score: "< 0.3"
    route: mixed
    fallback: [frontier]
  - name: hard-with-pii-goes-out-pseudonymized
    when: {difficulty: complex, sensitivity: confidential, domain: code}
    route: frontier
    transform: pseudonymize
    fallback: [local]
  - name: default
    route: requested
)");

TEST(RoutingConfigTest, DecodesTheFullExample) {
  const auto loaded = loadConfigString(kFullRouting, "full.yaml");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().front().str();
  const router::RoutingSpec& routing = loaded->routing;
  EXPECT_EQ(routing.difficulty.threshold, 0.55);
  EXPECT_EQ(routing.difficulty.model, "builtin");
  ASSERT_EQ(routing.rules.size(), 5u);

  const router::RouteRuleSpec& block = routing.rules[0];
  EXPECT_EQ(block.name, "secrets-never-leave");
  EXPECT_EQ(block.action, RouteAction::Block);
  EXPECT_EQ(block.when.detectors, std::vector<std::string>{"secrets"});
  EXPECT_EQ(block.message, "Secrets never leave the building.");
  EXPECT_TRUE(block.route.empty());

  const router::RouteRuleSpec& home = routing.rules[1];
  ASSERT_TRUE(home.when.sensitivity.has_value());
  EXPECT_EQ(home.when.sensitivity->op, LevelCondition::Op::Ge);
  EXPECT_EQ(home.when.sensitivity->rank, 3);
  EXPECT_EQ(home.action, RouteAction::Route);
  EXPECT_EQ(home.route, "local");
  EXPECT_EQ(home.transform, Transform::None);
  EXPECT_TRUE(home.fallback.empty());

  const router::RouteCondition& legal = routing.rules[2].when;
  EXPECT_EQ(legal.teams, std::vector<std::string>{"legal"});
  EXPECT_EQ(legal.keys, std::vector<std::string>{"legal-assistant"});
  EXPECT_EQ(legal.models, (std::vector<std::string>{"auto", "gpt-*"}));
  EXPECT_EQ(legal.endpoints, std::vector<std::string>{"chat"});
  EXPECT_EQ(legal.prompt_tokens, (Comparison{Comparison::Op::Gt, 4000}));
  EXPECT_EQ(legal.high_stakes, true);
  EXPECT_EQ(legal.domains, (std::vector<router::Domain>{router::Domain::Legal,
                                                        router::Domain::Medical}));
  EXPECT_EQ(legal.injection, false);
  EXPECT_EQ(legal.score, (Comparison{Comparison::Op::Lt, 0.3}));
  EXPECT_FALSE(legal.complex.has_value());
  EXPECT_FALSE(legal.sensitivity.has_value());
  EXPECT_EQ(routing.rules[2].route, "mixed");
  EXPECT_EQ(routing.rules[2].fallback, std::vector<std::string>{"frontier"});

  const router::RouteRuleSpec& out = routing.rules[3];
  EXPECT_EQ(out.when.complex, true);
  EXPECT_EQ(out.when.sensitivity->op, LevelCondition::Op::Eq);
  EXPECT_EQ(out.when.sensitivity->rank, 2);
  EXPECT_EQ(out.transform, Transform::Pseudonymize);
  EXPECT_EQ(out.when.domains, std::vector<router::Domain>{router::Domain::Code});
  EXPECT_EQ(out.fallback, std::vector<std::string>{"local"});

  EXPECT_EQ(routing.rules[4].name, "default");
  EXPECT_TRUE(routing.rules[4].when.empty());
  EXPECT_EQ(routing.rules[4].route, "requested");
}

TEST(RoutingConfigTest, ARouteTableAcceptsWhatTheLoaderAccepts) {
  const auto loaded = loadConfigString(kFullRouting, "full.yaml");
  ASSERT_TRUE(loaded.has_value());
  const auto table = router::RouteTable::create(loaded->routing, loaded->catalog);
  ASSERT_TRUE(table.has_value()) << table.error().message;
  std::vector<std::string_view> detectors = {"aws-access-key", "secrets"};
  router::RouteInput input;
  input.detectors = detectors;
  EXPECT_EQ(table->match(input).name, "secrets-never-leave");
  input.detectors = {};
  input.sensitivity_rank = 2;
  input.complex = true;
  EXPECT_EQ(table->match(input).name, "default");  // the rule asks for domain: code
  input.domain = router::Domain::Code;
  EXPECT_EQ(table->match(input).name, "hard-with-pii-goes-out-pseudonymized");
  input.complex = false;
  EXPECT_EQ(table->match(input).name, "default");
}

TEST(RoutingConfigTest, OmittedSectionsKeepTheDefaults) {
  const auto loaded = loadConfigString(std::string(kCatalog), "min.yaml");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_FALSE(loaded->routing.difficulty.threshold.has_value());
  EXPECT_EQ(loaded->routing.difficulty.model, "builtin");
  EXPECT_EQ(loaded->routing.difficulty.conversation, router::ConversationBasis::FirstTurn);
  EXPECT_TRUE(loaded->routing.rules.empty());
}

}  // namespace
}  // namespace sy::config
