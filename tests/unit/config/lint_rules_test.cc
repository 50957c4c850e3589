// lint warnings about rules, reach, keys and patterns (gateway/config/lint_rules.cc): each case
// is a policy and exactly the warnings it gets, as `switchyard lint` prints them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/config/lint.h"

namespace sy::config {
namespace {

// Two tiers, one key with limits; every tier reached, nothing shadowed: no warning.
constexpr std::string_view kBase = R"(backends:
  - {name: a, url: http://h, model: m}
  - {name: b, url: https://x, model: m, location: external, cost: {input_per_mtok: 1, output_per_mtok: 1}}
tiers:
  local: {backends: [a]}
  cloud: {backends: [b]}
keys:
  - {id: k, hash: "sha256:2836fbe2bec536b3a06950a684cd15bf5cab2622374386c0275b7301085b688a", limits: {rpm: 5}}
)";

struct LintCase {
  std::string name;
  std::string yaml;  // appended to kBase
  std::vector<std::string> warnings;
};

class LintRulesTest : public ::testing::TestWithParam<LintCase> {};

TEST_P(LintRulesTest, ReportsExactlyTheExpectedWarnings) {
  const LintCase& c = GetParam();
  const auto config = loadConfigString(std::string(kBase) + c.yaml, "policy.yaml");
  ASSERT_TRUE(config) << config.error().front().str();
  std::vector<std::string> actual;
  for (const ConfigWarning& warning : lintWarnings(*config)) {
    actual.push_back(warning.str());
  }
  EXPECT_EQ(actual, c.warnings) << "YAML:\n" << kBase << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, LintRulesTest,
    ::testing::Values(
        LintCase{"NoWarnings", "routing:\n  - {name: hard, when: {difficulty: complex}, route: cloud}\n"
                               "  - {name: rest, route: local}\n", {}},
        LintCase{"RoutingRuleCoveredByAGroup",
                 "routing:\n"
                 "  - {name: secrets, when: {detectors: [secrets]}, route: local}\n"
                 "  - {name: gh, when: {detectors: [secret.github_token], models: [auto]}, route: cloud}\n",
                 {"policy.yaml:11:5: warning: routing[1]: rule 'gh' can never match: the earlier "
                  "rule 'secrets' (routing[0]) matches every request it matches"}},
        LintCase{"RoutingRuleInsideAnEarlierRangeAndLevels",
                 "routing:\n"
                 "  - {name: a, when: {sensitivity: \">= confidential\", score: \">= 0.5\"}, route: local}\n"
                 "  - {name: b, when: {sensitivity: restricted, score: \"> 0.7\"}, route: cloud}\n"
                 "  - {name: c, when: {sensitivity: restricted, score: \"> 0.2\"}, route: cloud}\n",
                 {"policy.yaml:11:5: warning: routing[1]: rule 'b' can never match: the earlier "
                  "rule 'a' (routing[0]) matches every request it matches"}},
        LintCase{"RoutingRulesByDomain",
                 "routing:\n"
                 "  - {name: legal, when: {domain: [legal, medical]}, route: cloud}\n"
                 "  - {name: med, when: {domain: medical}, route: cloud}\n"
                 "  - {name: any-complex, when: {difficulty: complex}, route: cloud}\n",
                 {"policy.yaml:11:5: warning: routing[1]: rule 'med' can never match: the earlier "
                  "rule 'legal' (routing[0]) matches every request it matches"}},
        // A glob inside another glob ("gpt-4*" in "gpt-*") is not compared: only names are.
        LintCase{"ModelGlobsAndNarrowerConditions",
                 "teams: {t: {limits: {rpm: 1}}}\n"
                 "routing:\n"
                 "  - {name: gpt, when: {models: [\"gpt-*\"]}, route: cloud}\n"
                 "  - {name: mine, when: {models: [gpt-4o, gpt-4o-mini], teams: [t]}, route: local}\n"
                 "  - {name: other, when: {models: [\"gpt-4*\"]}, route: local}\n",
                 {"policy.yaml:12:5: warning: routing[1]: rule 'mine' can never match: the earlier "
                  "rule 'gpt' (routing[0]) matches every request it matches"}},
        LintCase{"DlpActionRulesShadowedByGroupAndLevel",
                 "dlp:\n  actions:\n"
                 "    - {name: secrets-out, detectors: [secrets], action: block}\n"
                 "    - {name: gh-out, detectors: [secret.github_token], destination: external, action: block}\n"
                 "    - {name: conf, level: \">= confidential\", action: pseudonymize}\n"
                 "    - {name: restricted, level: restricted, destination: external, action: block}\n"
                 "    - {name: email, detectors: [email], action: redact}\n",
                 {"policy.yaml:12:7: warning: dlp.actions[1]: rule 'gh-out' can never apply: the "
                  "earlier rule 'secrets-out' (dlp.actions[0]) matches every finding it matches",
                  "policy.yaml:14:7: warning: dlp.actions[3]: rule 'restricted' can never apply: "
                  "the earlier rule 'conf' (dlp.actions[2]) matches every finding it matches"}},
        LintCase{"UnreachableTier",
                 "routing:\n  - {name: all, route: local}\n",
                 {"policy.yaml:6:3: warning: tiers.cloud: tier 'cloud' is unreachable: no routing "
                  "rule routes or falls back to it, no model alias names it, and every request "
                  "matches a routing rule that names its target"}},
        LintCase{"AnAliasOrRouteRequestedReachesATier",
                 "models: {gpt: {tier: cloud}}\nrouting:\n  - {name: all, route: requested}\n", {}},
        LintCase{"CustomPatterns",
                 "dlp:\n  custom:\n"
                 "    - {name: empty, pattern: 'x*'}\n"
                 "    - {name: big, pattern: '[a-z]{1,900}'}\n"
                 "    - {name: fine, pattern: '\\bNW-\\d{8}\\b'}\n",
                 {"policy.yaml:11:30: warning: dlp.custom[0].pattern: custom rule 'empty' matches "
                  "the empty string, so it can match anywhere (findings of no text); require at "
                  "least one character",
                  "policy.yaml:12:28: warning: dlp.custom[1].pattern: custom rule 'big' is "
                  "expensive for the DLP engine's RE2 set (program size 1803, more than 1000): "
                  "every scan of every request pays for it; narrow wide counted repetitions such "
                  "as '[a-z]{1,500}'"}},
        LintCase{"ResponseStoreWithKeys", "responses: {store: true}\n", {}},
        LintCase{"ResponseStoreWithAnonymousRequests",
                 "auth: {anonymous: true}\nresponses:\n  store: true\n",
                 {"policy.yaml:11:10: warning: responses.store: anonymous requests are never "
                  "stored (conversations are scoped to a key): previous_response_id works only "
                  "for requests with a key"}}),
    [](const ::testing::TestParamInfo<LintCase>& info) { return info.param.name; });

// Keys are a list in kBase: these cases write their own.
TEST(LintRulesKeysTest, KeyWithoutLimitsAndAScopeItsSensitivityAlwaysRefuses) {
  const std::string yaml = R"(backends:
  - {name: a, url: http://h, model: m}
  - {name: b, url: https://x, model: m, location: external, cost: {input_per_mtok: 1, output_per_mtok: 1}}
tiers:
  local: {backends: [a]}
  cloud: {backends: [b]}
teams:
  t: {allow: {max_external_sensitivity: internal}}
keys:
  - {id: k1, hash: "sha256:2836fbe2bec536b3a06950a684cd15bf5cab2622374386c0275b7301085b688a", team: t, sensitivity_floor: confidential, allow: {tiers: [local, cloud]}}
  - {id: k2, hash: "sha256:1759f23c6f819742628539b76b6609a2ac3bac3b55177368ddd59fdff06bda7b", limits: {rpm: 5}}
)";
  const auto config = loadConfigString(yaml, "policy.yaml");
  ASSERT_TRUE(config) << config.error().front().str();
  std::vector<std::string> actual;
  for (const ConfigWarning& warning : lintWarnings(*config)) {
    actual.push_back(warning.str());
  }
  EXPECT_EQ(actual,
            (std::vector<std::string>{
                "policy.yaml:10:5: warning: keys[0]: key 'k1' has no limits, nor has its team "
                "'t': its requests, tokens and spend are unbounded (set limits: {rpm, tpm, "
                "concurrency, budget_usd})",
                "policy.yaml:10:160: warning: keys[0].allow.tiers[1]: key 'k1' may use tier "
                "'cloud', whose backends are all external, but its sensitivity_floor "
                "'confidential' is above its max_external_sensitivity 'internal': every request "
                "routed there is refused (403)"}));
}

}  // namespace
}  // namespace sy::config
