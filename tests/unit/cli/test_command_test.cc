// `switchyard test` through runTests(): passing and failing cases, expected vs. actual for each
// failure, the "N passed, N failed" last line, --jsonl, and located errors in a cases file.
#include "gateway/cli/test_command.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/cli/temp_file.h"

namespace sy::cli {
namespace {

constexpr std::string_view kPolicy = R"(backends:
  - {name: home, url: http://h, model: llama}
  - {name: cloud, url: https://c, model: gpt-4o, location: external, cost: {input_per_mtok: 1, output_per_mtok: 1}}
tiers:
  local: {backends: [home]}
  frontier: {backends: [cloud]}
models:
  gpt-4o: {backend: cloud}
keys:
  - {id: app, hash: "sha256:2836fbe2bec536b3a06950a684cd15bf5cab2622374386c0275b7301085b688a", team: web, limits: {rpm: 5}}
routing:
  - {name: no-secrets, when: {detectors: [secrets]}, action: block}
  - {name: rest, route: requested}
)";

constexpr std::string_view kCases = R"(defaults: {key: app, model: gpt-4o}
cases:
  - name: email is pseudonymized for the cloud
    request: {prompt: "mail jane.doe@example.com"}
    expect:
      action: redact
      backend: cloud
      tier: ~
      rule: rest
      detectors: [email]
      sensitivity: confidential
      upstream: {contains: ["<EMAIL_"], excludes: ["jane.doe@example.com"]}
  - name: a team name picks its key
    request: {key: "", team: web, prompt: "hello"}
    expect: {action: allow, status: 200, backends: [cloud]}
  - name: wrong on purpose
    request: {prompt: "hello", model: local}
    expect: {backend: cloud, status: 200}
)";

TEST(TestCommandTest, PrintsEachFailureWithExpectedAndActualAndTheCountsLast) {
  const TempFile policy(".yaml", kPolicy);
  const TempFile cases(".tests.yaml", kCases);
  const TestOutput output = runTests(policy.path(), {cases.path()}, false);
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.err, "");
  EXPECT_EQ(output.out,
            "ok    email is pseudonymized for the cloud\n"
            "ok    a team name picks its key\n"
            "FAIL  wrong on purpose  (" + cases.path() + ":16)\n"
            "      backend\n"
            "        expected: cloud\n"
            "        actual:   [\"home\"]\n"
            "2 passed, 1 failed\n");
}

TEST(TestCommandTest, JsonlGivesOneObjectPerCaseAndTheCountsLast) {
  const TempFile policy(".yaml", kPolicy);
  const TempFile cases(".tests.yaml", kCases);
  const TestOutput output = runTests(policy.path(), {cases.path()}, true);
  EXPECT_EQ(output.status, 1);
  EXPECT_NE(output.out.find("{\"case\":\"wrong on purpose\",\"where\":\"" + cases.path() +
                            ":16\",\"passed\":false,\"failures\":[{\"field\":\"backend\","
                            "\"expected\":\"cloud\",\"actual\":[\"home\"]}]"),
            std::string::npos)
      << output.out;
  EXPECT_TRUE(output.out.ends_with("\n{\"passed\":2,\"failed\":1}\n")) << output.out;
}

TEST(TestCommandTest, AllPassingExitsZero) {
  const TempFile policy(".yaml", kPolicy);
  const TempFile cases(".tests.yaml", R"(cases:
  - name: a secret is refused by its rule
    request: {key: app, model: gpt-4o, prompt: "db_password = 'Tr0ub4dor-xK9mQz7Lw2'"}
    expect: {action: block, status: 403, blocked_by: no-secrets}
  - name: no key is a 401
    request: {model: gpt-4o, prompt: "hi"}
    expect: {action: block, status: 401, code: missing_api_key}
)");
  const TestOutput output = runTests(policy.path(), {cases.path()}, false);
  EXPECT_EQ(output.status, 0) << output.out;
  EXPECT_TRUE(output.out.ends_with("2 passed, 0 failed\n")) << output.out;
}

TEST(TestCommandTest, ACasesFileWithUnknownKeysIsReportedAtTheirPositionsAndNothingRuns) {
  const TempFile policy(".yaml", kPolicy);
  const TempFile cases(".tests.yaml", R"(cases:
  - name: typo
    request: {key: app, surface: grpc}
    expect: {acton: allow}
)");
  const TestOutput output = runTests(policy.path(), {cases.path()}, false);
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.out, "");
  EXPECT_EQ(output.err,
            cases.path() +
                ":3:34: cases[0].request.surface: expected openai, anthropic or responses\n" +
                cases.path() +
                ":4:14: cases[0].expect.acton: unknown key (expected one of: action, status, "
                "code, tier, backend, backends, model, rule, blocked_by, detectors, "
                "sensitivity, difficulty, upstream)\n");
}

TEST(TestCommandTest, AnInvalidPolicyIsReportedAndNothingRuns) {
  const TempFile policy(".yaml", "backends: []\n");
  const TempFile cases(".tests.yaml", kCases);
  const TestOutput output = runTests(policy.path(), {cases.path()}, false);
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.out, "");
  EXPECT_NE(output.err.find(policy.path() + ":"), std::string::npos);
}

}  // namespace
}  // namespace sy::cli
