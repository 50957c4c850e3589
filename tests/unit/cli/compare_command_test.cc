// `switchyard explain --compare` through runCompare(): which requests two policies decide
// differently, the fields that differ, the summary by rule pair, bad lines, and exit statuses;
// and the request-line format it reads.
#include "gateway/cli/compare_command.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <sstream>
#include <string>

#include "gateway/cli/request_line.h"
#include "gateway/server/pipeline/decision_diff.h"
#include "tests/unit/cli/temp_file.h"

namespace sy::cli {
namespace {

constexpr std::string_view kCatalog = R"(backends:
  - {name: home, url: http://h, model: llama}
  - {name: cloud, url: https://c, model: gpt-4o, location: external, cost: {input_per_mtok: 1, output_per_mtok: 1}}
tiers:
  local: {backends: [home]}
  frontier: {backends: [cloud]}
models:
  gpt-4o: {backend: cloud}
keys:
  - {id: app, hash: "sha256:2836fbe2bec536b3a06950a684cd15bf5cab2622374386c0275b7301085b688a", team: web}
)";

const std::string kActive = std::string(kCatalog) + R"(routing:
  - {name: no-secrets, when: {detectors: [secrets]}, action: block}
  - {name: rest, route: requested}
)";

const std::string kCandidate = std::string(kCatalog) + R"(routing:
  - {name: no-secrets, when: {detectors: [secrets]}, action: block}
  - {name: email-stays-home, when: {detectors: [email]}, route: local}
  - {name: rest, route: requested}
)";

constexpr std::string_view kSame =
    R"({"id":"same","key":"app","body":{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}})";
constexpr std::string_view kEmail =
    R"({"id":"mail","team":"web","body":{"model":"gpt-4o","messages":[{"role":"user","content":"mail jane.doe@example.com"}]}})";
constexpr std::string_view kUnknownKey =
    R"({"id":"ghost","key":"ghost","body":{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}})";

CompareOutput compare(const std::string& a, const std::string& b, const std::string& input,
                      bool jsonl) {
  const TempFile first("-a.yaml", a);
  const TempFile second("-b.yaml", b);
  std::istringstream in(input);
  return runCompare(first.path(), second.path(), in, jsonl);
}

TEST(CompareCommandTest, ReportsOnlyTheRequestsDecidedDifferentlyWithBothDecisions) {
  const std::string input = std::string(kSame) + "\n" + std::string(kEmail) + "\n\n" +
                            std::string(kUnknownKey) + "\n";
  const CompareOutput output = compare(kActive, kCandidate, input, true);
  EXPECT_EQ(output.status, 1) << output.err;
  EXPECT_EQ(output.err, "");
  std::istringstream lines(output.out);
  std::string first, summary, rest;
  std::getline(lines, first);
  std::getline(lines, summary);
  EXPECT_FALSE(std::getline(lines, rest)) << output.out;
  const auto diff = boost::json::parse(first).as_object();
  EXPECT_EQ(diff.at("line"), 2);
  EXPECT_EQ(diff.at("id"), "mail");
  EXPECT_EQ(boost::json::serialize(diff.at("differs")),
            R"(["action","tier","backend","rule","findings"])");
  const auto& a = diff.at("a").as_object();
  const auto& b = diff.at("b").as_object();
  EXPECT_EQ(a.at("action"), "redact");
  EXPECT_EQ(a.at("backend"), "cloud");
  EXPECT_EQ(a.at("rule"), "rest");
  EXPECT_EQ(b.at("action"), "allow");
  EXPECT_EQ(b.at("tier"), "local");
  EXPECT_EQ(b.at("rule"), "email-stays-home");
  EXPECT_EQ(a.at("sensitivity"), b.at("sensitivity"));
  EXPECT_EQ(summary,
            R"({"requests":3,"differ":1,"invalid":0,"by_rule":[{"a":"rest","b":"email-stays-home","count":1}]})");
}

TEST(CompareCommandTest, TextOutputNamesTheRulePairAndTheChangedFieldsThenTheTotals) {
  const CompareOutput output =
      compare(kActive, kCandidate, std::string(kSame) + "\n" + std::string(kEmail) + "\n", false);
  EXPECT_EQ(output.status, 1);
  EXPECT_NE(output.out.find("line 2 mail: rest -> email-stays-home (action redact -> allow; tier "
                            "- -> local; backend cloud -> home; findings email:pseudonymize -> email:allow)\n"),
            std::string::npos)
      << output.out;
  EXPECT_NE(output.out.find("  1  rest -> email-stays-home\n"), std::string::npos) << output.out;
  EXPECT_TRUE(output.out.ends_with("2 requests, 1 differ\n")) << output.out;
}

TEST(CompareCommandTest, SamePoliciesExitZeroAndBadLinesAreNamedAndExitTwo) {
  CompareOutput output = compare(kActive, kActive, std::string(kEmail) + "\n", true);
  EXPECT_EQ(output.status, 0);
  EXPECT_EQ(output.out, R"({"requests":1,"differ":0,"invalid":0,"by_rule":[]})" "\n");
  output = compare(kActive, kActive,
                   std::string(kSame) + "\n{\"body\":{},\"prompt\":\"x\"}\n[1]\n{\"id\":3,\"body\":{}}\n",
                   true);
  EXPECT_EQ(output.status, 2);
  EXPECT_EQ(output.err,
            "line 2: unknown member 'prompt'\nline 3: not a JSON object\nline 4: id: not a "
            "string\n");
  EXPECT_EQ(output.out, R"({"requests":1,"differ":0,"invalid":3,"by_rule":[]})" "\n");
}

TEST(CompareCommandTest, AnInvalidPolicyDecidesNothing) {
  const CompareOutput output = compare(kActive, "backends: [", std::string(kSame) + "\n", true);
  EXPECT_EQ(output.status, 2);
  EXPECT_EQ(output.out, "");
  EXPECT_NE(output.err.find("invalid YAML"), std::string::npos) << output.err;
}

TEST(RequestLineTest, FormatsWhatItParses) {
  RequestLine line;
  line.id = "r1";
  line.request.key = "app";
  line.request.surface = "anthropic";
  line.request.headers = {{"anthropic-version", "2023-06-01"}};
  line.request.body = R"({"model":"m","max_tokens":5,"messages":[]})";
  line.recorded = boost::json::object{{"rule", "rest"}};
  const std::string text = formatRequestLine(line);
  EXPECT_EQ(text,
            R"({"id":"r1","key":"app","surface":"anthropic","endpoint":"chat","headers":{"anthropic-version":"2023-06-01"},"body":{"model":"m","max_tokens":5,"messages":[]},"recorded":{"rule":"rest"}})");
  const auto parsed = parseRequestLine(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(formatRequestLine(*parsed), text);
  EXPECT_EQ(parseRequestLine(R"({"surface":"grpc","body":{}})").error().message,
            "surface: 'grpc' is not one of the known values");
  EXPECT_EQ(parseRequestLine(R"({"key":"a"})").error().message,
            "body: missing, or not a JSON object");
}

TEST(DecisionDiffTest, RefusalsBeforeRoutingAreBlocksOrErrorsNamedByTheirCode) {
  const auto refused = server::summarizeDecision(
      boost::json::parse(R"({"status":401,"error":{"code":"invalid_api_key"}})").as_object());
  EXPECT_EQ(refused.action, "block");
  EXPECT_EQ(server::ruleLabel(refused), "(invalid_api_key)");
  const auto bad = server::summarizeDecision(
      boost::json::parse(R"({"status":400,"error":{"code":"invalid_json"}})").as_object());
  EXPECT_EQ(bad.action, "error");
  EXPECT_EQ(server::decisionDifferences(refused, bad),
            (std::vector<std::string>{"action", "status", "blocked_by"}));
  EXPECT_TRUE(server::decisionDifferences(bad, bad).empty());
}

}  // namespace
}  // namespace sy::cli
