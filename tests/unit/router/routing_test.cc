// Routing rules: Comparison parsing, glob matching, every condition of RouteTable::match, first
// match wins, the implicit default rule, create()'s checks (including the exposure rule for
// fallbacks), and a rough latency bound for match().
#include "router/routing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace sy::router {
namespace {

using Op = Comparison::Op;

// local (self-hosted a, b), frontier (external x), mixed (a and x); alias `gpt` -> backend x,
// alias `fast` -> tier local.
CatalogSpec catalog() {
  CatalogSpec spec;
  for (const auto& [name, location] :
       {std::pair("a", Location::SelfHosted), std::pair("b", Location::SelfHosted),
        std::pair("x", Location::External)}) {
    BackendSpec backend;
    backend.name = name;
    backend.location = location;
    spec.backends.push_back(backend);
  }
  spec.tiers = {{"local", {"a", "b"}}, {"frontier", {"x"}}, {"mixed", {"a", "x"}}};
  spec.models = {{"gpt", "x", ""}, {"fast", "", "local"}};
  return spec;
}

RouteRuleSpec rule(std::string name, RouteCondition when, std::string route = "local") {
  RouteRuleSpec out;
  out.name = std::move(name);
  out.when = std::move(when);
  out.route = std::move(route);
  return out;
}

RouteTable table(std::vector<RouteRuleSpec> rules) {
  auto created = RouteTable::create(RoutingSpec{{}, std::move(rules)}, catalog());
  EXPECT_TRUE(created.has_value()) << created.error().message;
  return created ? std::move(*created) : RouteTable();
}

// A request with no finding, sensitivity rank 0, score 0.2 (routine), chat, model auto.
struct Request {
  std::vector<std::string_view> detectors;
  RouteInput input{0, 0.2, false, false, false, {}, "team", "key", "auto", "chat", 100};
  const RouteInput& operator()() {
    input.detectors = detectors;
    return input;
  }
};

// The rule the table picks for `request`.
std::string picked(const RouteTable& t, Request& request) { return t.match(request()).name; }

// Whether a table with the single rule {when: when} matches `request`.
bool matches(RouteCondition when, Request& request) {
  return picked(table({rule("r", std::move(when))}), request) == "r";
}

Comparison cmp(std::string_view text) {
  auto parsed = Comparison::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(Comparison{});
}

TEST(ComparisonTest, ParsesEveryOperator) {
  EXPECT_EQ(cmp(">= 0.8"), (Comparison{Op::Ge, 0.8}));
  EXPECT_EQ(cmp(">0.8"), (Comparison{Op::Gt, 0.8}));
  EXPECT_EQ(cmp("<= 4000"), (Comparison{Op::Le, 4000}));
  EXPECT_EQ(cmp("  <  1e3 "), (Comparison{Op::Lt, 1000}));
  EXPECT_EQ(cmp("== 1"), (Comparison{Op::Eq, 1}));
  EXPECT_EQ(cmp("= 0.5"), (Comparison{Op::Eq, 0.5}));
}

TEST(ComparisonTest, RefusesBareNumbersAndGarbage) {
  for (std::string_view text : {"0.8", "", ">=", ">= x", ">= 0.8x", "=> 1", ">= -1", ">= +1",
                                ">= inf", ">= nan", "! 1", ">= 1 2"}) {
    const auto parsed = Comparison::parse(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().message,
              "invalid comparison '" + std::string(text) +
                  "' (expected >=, >, <=, < or == and a number, e.g. \">= 0.8\")");
  }
}

TEST(ComparisonTest, MatchesAtTheBoundary) {
  EXPECT_TRUE(cmp(">= 0.5").matches(0.5));
  EXPECT_FALSE(cmp("> 0.5").matches(0.5));
  EXPECT_TRUE(cmp("> 0.5").matches(0.51));
  EXPECT_TRUE(cmp("<= 0.5").matches(0.5));
  EXPECT_FALSE(cmp("< 0.5").matches(0.5));
  EXPECT_TRUE(cmp("< 0.5").matches(0.49));
  EXPECT_TRUE(cmp("== 2").matches(2));
  EXPECT_FALSE(cmp("== 2").matches(2.001));
}

TEST(GlobTest, StarsAndQuestionMarks) {
  EXPECT_TRUE(globMatch("gpt-*", "gpt-4o"));
  EXPECT_TRUE(globMatch("gpt-*", "gpt-"));
  EXPECT_FALSE(globMatch("gpt-*", "gpt"));
  EXPECT_FALSE(globMatch("gpt-*", "xgpt-4"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("*-mini", "gpt-4o-mini"));
  EXPECT_TRUE(globMatch("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(globMatch("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(globMatch("llama?", "llama3"));
  EXPECT_FALSE(globMatch("llama?", "llama"));
  EXPECT_FALSE(globMatch("llama?", "llama31"));
  EXPECT_TRUE(globMatch("auto", "auto"));
  EXPECT_FALSE(globMatch("auto", "Auto"));  // case-sensitive
}

TEST(RouteTableTest, UsesDifficultyOnlyWhenARuleLooksAtTheClassifier) {
  EXPECT_FALSE(RouteTable().usesDifficulty());
  RouteCondition teams;
  teams.teams = {"legal"};
  EXPECT_FALSE(table({rule("by-team", teams)}).usesDifficulty());
  RouteCondition complex;
  complex.complex = true;
  EXPECT_TRUE(table({rule("by-team", teams), rule("hard", complex)}).usesDifficulty());
  RouteCondition score;
  score.score = Comparison{Comparison::Op::Ge, 0.8};
  EXPECT_TRUE(table({rule("by-score", score)}).usesDifficulty());
  RouteCondition stakes;
  stakes.high_stakes = true;
  EXPECT_TRUE(table({rule("stakes", stakes)}).usesDifficulty());
  RouteCondition domain;
  domain.domains = {Domain::Legal};
  EXPECT_TRUE(table({rule("by-domain", domain)}).usesDifficulty());
}

TEST(RouteTableTest, DomainConditionMatchesAnyListedDomain) {
  RouteCondition sensitive;
  sensitive.domains = {Domain::Legal, Domain::Medical};
  const RouteTable t = table({rule("legal-or-medical", sensitive, "frontier")});
  Request request;
  EXPECT_EQ(picked(t, request), "default");  // General
  request.input.domain = Domain::Medical;
  EXPECT_EQ(picked(t, request), "legal-or-medical");
  request.input.domain = Domain::Code;
  EXPECT_EQ(picked(t, request), "default");
}

TEST(RouteTableTest, NoRulesPicksTheImplicitDefault) {
  Request request;
  const RouteTable t;
  const RouteRuleSpec& picked = t.match(request());
  EXPECT_EQ(picked.name, "default");
  EXPECT_EQ(picked.route, "requested");
  EXPECT_EQ(picked.action, RouteAction::Route);
  EXPECT_EQ(&picked, &t.defaultRule());
}

TEST(RouteTableTest, FirstMatchWinsAndNoMatchFallsToTheDefault) {
  RouteCondition complex;
  complex.complex = true;
  RouteCondition internal;
  internal.sensitivity = LevelCondition{LevelCondition::Op::Ge, 1};
  const RouteTable t = table({rule("complex", complex, "frontier"), rule("internal", internal),
                              rule("complex-too", complex)});
  Request request;
  EXPECT_EQ(picked(t, request), "default");
  request.input.sensitivity_rank = 2;
  EXPECT_EQ(picked(t, request), "internal");
  request.input.complex = true;  // both match: the first wins
  EXPECT_EQ(picked(t, request), "complex");
}

TEST(RouteTableTest, AnEmptyConditionMatchesEverything) {
  Request request;
  EXPECT_TRUE(matches({}, request));
  EXPECT_TRUE(RouteCondition{}.empty());
}

TEST(RouteTableTest, Sensitivity) {
  RouteCondition when;
  when.sensitivity = LevelCondition{LevelCondition::Op::Ge, 3};
  Request request;
  request.input.sensitivity_rank = 2;
  EXPECT_FALSE(matches(when, request));
  request.input.sensitivity_rank = 3;
  EXPECT_TRUE(matches(when, request));
  when.sensitivity = LevelCondition{LevelCondition::Op::Eq, 1};
  EXPECT_FALSE(matches(when, request));
}

TEST(RouteTableTest, DifficultyLabelAndScore) {
  RouteCondition routine;
  routine.complex = false;
  Request request;
  EXPECT_TRUE(matches(routine, request));
  request.input.complex = true;
  EXPECT_FALSE(matches(routine, request));

  RouteCondition score;
  score.score = cmp(">= 0.8");
  request.input.difficulty_score = 0.79;
  EXPECT_FALSE(matches(score, request));
  request.input.difficulty_score = 0.8;
  EXPECT_TRUE(matches(score, request));
}

TEST(RouteTableTest, HighStakesAndInjectionMatchBothWays) {
  Request request;
  RouteCondition stakes;
  stakes.high_stakes = true;
  EXPECT_FALSE(matches(stakes, request));
  request.input.high_stakes = true;
  EXPECT_TRUE(matches(stakes, request));
  stakes.high_stakes = false;
  EXPECT_FALSE(matches(stakes, request));

  RouteCondition injection;
  injection.injection = true;
  EXPECT_FALSE(matches(injection, request));
  request.input.injection = true;
  EXPECT_TRUE(matches(injection, request));
  injection.injection = false;
  EXPECT_FALSE(matches(injection, request));
}

TEST(RouteTableTest, DetectorsMatchAnIdOrAGroup) {
  RouteCondition when;
  when.detectors = {"secrets", "email"};
  Request request;
  EXPECT_FALSE(matches(when, request));  // no finding
  request.detectors = {"phone", "pii"};
  EXPECT_FALSE(matches(when, request));
  request.detectors = {"phone", "pii", "email", "pii"};
  EXPECT_TRUE(matches(when, request));
  request.detectors = {"aws-access-key", "secrets"};  // a group the gateway adds
  EXPECT_TRUE(matches(when, request));
}

TEST(RouteTableTest, TeamsKeysAndEndpoints) {
  Request request;
  RouteCondition teams;
  teams.teams = {"legal", "hr"};
  EXPECT_FALSE(matches(teams, request));
  request.input.team = "hr";
  EXPECT_TRUE(matches(teams, request));
  request.input.team = "";  // a key without a team
  EXPECT_FALSE(matches(teams, request));

  RouteCondition keys;
  keys.keys = {"legal-assistant"};
  EXPECT_FALSE(matches(keys, request));
  request.input.key_id = "legal-assistant";
  EXPECT_TRUE(matches(keys, request));

  RouteCondition endpoints;
  endpoints.endpoints = {"embeddings"};
  EXPECT_FALSE(matches(endpoints, request));
  request.input.endpoint = "embeddings";
  EXPECT_TRUE(matches(endpoints, request));
}

TEST(RouteTableTest, ModelsAreGlobsOnTheRequestedModel) {
  RouteCondition when;
  when.models = {"auto", "gpt-*"};
  Request request;
  EXPECT_TRUE(matches(when, request));
  request.input.requested_model = "gpt-4o";
  EXPECT_TRUE(matches(when, request));
  request.input.requested_model = "llama3";
  EXPECT_FALSE(matches(when, request));
}

TEST(RouteTableTest, PromptTokens) {
  RouteCondition when;
  when.prompt_tokens = cmp("> 4000");
  Request request;
  request.input.prompt_tokens = 4000;
  EXPECT_FALSE(matches(when, request));
  request.input.prompt_tokens = 4001;
  EXPECT_TRUE(matches(when, request));
}

TEST(RouteTableTest, AllConditionsMustHold) {
  RouteCondition when;
  when.complex = true;
  when.teams = {"legal"};
  when.detectors = {"email"};
  Request request;
  request.input.complex = true;
  request.input.team = "legal";
  EXPECT_FALSE(matches(when, request));
  request.detectors = {"email"};
  EXPECT_TRUE(matches(when, request));
  request.input.team = "hr";
  EXPECT_FALSE(matches(when, request));
}

TEST(RouteTableTest, ReturnsTheRuleWithItsOutcome) {
  RouteRuleSpec block = rule("no-secrets", {}, "");
  block.when.detectors = {"secrets"};
  block.action = RouteAction::Block;
  block.message = "no secrets";
  RouteRuleSpec out = rule("out", {}, "frontier");
  out.transform = Transform::Pseudonymize;
  const RouteTable t = table({block, out});
  Request request;
  request.detectors = {"secrets"};
  EXPECT_EQ(t.match(request()).action, RouteAction::Block);
  EXPECT_EQ(t.match(request()).message, "no secrets");
  request.detectors = {};
  EXPECT_EQ(t.match(request()).transform, Transform::Pseudonymize);
  EXPECT_EQ(t.rules().size(), 2u);
}

TEST(ExposureTest, TargetBackendsResolveTiersAliasesAndBackends) {
  const CatalogSpec spec = catalog();
  EXPECT_EQ(targetBackends(spec, "local").size(), 2u);
  ASSERT_EQ(targetBackends(spec, "gpt").size(), 1u);
  EXPECT_EQ(targetBackends(spec, "gpt")[0]->name, "x");
  EXPECT_EQ(targetBackends(spec, "fast").size(), 2u);
  ASSERT_EQ(targetBackends(spec, "b").size(), 1u);
  EXPECT_EQ(targetBackends(spec, "b")[0]->name, "b");
  EXPECT_TRUE(targetBackends(spec, "requested").empty());
  EXPECT_TRUE(targetBackends(spec, "nope").empty());
}

TEST(ExposureTest, OnlySelfHostedRoutesCannotFallBackOutside) {
  const CatalogSpec spec = catalog();
  EXPECT_TRUE(widensExposure(spec, "local", "frontier"));
  EXPECT_TRUE(widensExposure(spec, "fast", "mixed"));
  EXPECT_TRUE(widensExposure(spec, "a", "frontier"));
  EXPECT_TRUE(widensExposure(spec, "requested", "frontier"));
  EXPECT_FALSE(widensExposure(spec, "frontier", "local"));
  EXPECT_FALSE(widensExposure(spec, "mixed", "frontier"));
  EXPECT_FALSE(widensExposure(spec, "gpt", "mixed"));
  EXPECT_FALSE(widensExposure(spec, "local", "local"));
  EXPECT_FALSE(widensExposure(spec, "requested", "local"));
}

std::string createError(std::vector<RouteRuleSpec> rules, DifficultySpec difficulty = {}) {
  auto created =
      RouteTable::create(RoutingSpec{std::move(difficulty), std::move(rules)}, catalog());
  return created ? std::string("ok") : created.error().message;
}

TEST(RouteTableCreateTest, RejectsWhatTheLoaderRejects) {
  EXPECT_EQ(createError({rule("ok", {})}), "ok");
  EXPECT_EQ(createError({rule("bad name", {})}), "routing[0].name: invalid name 'bad name'");
  EXPECT_EQ(createError({rule("r", {}), rule("r", {})}),
            "routing[1].name: duplicate rule name 'r'");
  EXPECT_EQ(createError({rule("r", {}, "")}), "routing[0].route: required for action route");
  EXPECT_EQ(createError({rule("r", {}, "xl")}),
            "routing[0].route: unknown tier, model or backend 'xl'");
  RouteRuleSpec block = rule("r", {});
  block.action = RouteAction::Block;
  EXPECT_EQ(createError({block}), "routing[0]: a block rule has no route, transform or fallback");
  RouteRuleSpec fallback = rule("r", {});
  fallback.fallback = {"frontier"};
  EXPECT_EQ(createError({fallback}),
            "routing[0].fallback: tier 'frontier' has external backends and the route has none: "
            "that would widen exposure");
  fallback.fallback = {"nope"};
  EXPECT_EQ(createError({fallback}), "routing[0].fallback: unknown tier 'nope'");
  fallback.route = "mixed";
  fallback.fallback = {"frontier"};
  EXPECT_EQ(createError({fallback}), "ok");
  RouteRuleSpec glob = rule("r", {});
  glob.when.models = {""};
  EXPECT_EQ(createError({glob}), "routing[0].when: empty name in a list");
  DifficultySpec above_one;
  above_one.threshold = 1.5;
  EXPECT_EQ(createError({}, above_one), "difficulty.threshold: must be between 0 and 1");
  DifficultySpec no_model;
  no_model.model = "";
  EXPECT_EQ(createError({}, no_model), "difficulty.model: must not be empty");
}

// The request path budget: ten rules that all fail late (on the detector list) must stay well
// under a microsecond per match. Sanitizer builds are slower: the bound here is generous.
TEST(RouteTableTest, MatchIsFast) {
  std::vector<RouteRuleSpec> rules;
  for (int i = 0; i < 10; ++i) {
    RouteCondition when;
    when.models = {"gpt-*", "claude-*", "auto"};
    when.teams = {"legal", "team"};
    when.detectors = {"secrets", "iban"};
    rules.push_back(rule("r" + std::to_string(i), when));
  }
  const RouteTable t = table(rules);
  Request request;
  request.detectors = {"email", "pii", "phone", "pii"};
  const RouteInput& input = request();
  constexpr int kRounds = 20'000;
  size_t defaults = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    defaults += &t.match(input) == &t.defaultRule() ? 1 : 0;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(defaults, static_cast<size_t>(kRounds));
  EXPECT_LT(elapsed / kRounds, std::chrono::microseconds(20));
}

}  // namespace
}  // namespace sy::router
