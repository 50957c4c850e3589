// `responses:` (the Responses API's conversation store): error cases with exact messages, one
// per validation rule, the defaults when the section is absent, and every field decoded.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

using namespace std::chrono_literals;

// `responses:` on line 1, `fields` (2 spaces) from line 2, then the catalog.
std::string responses(std::string_view fields) {
  return std::string("responses:\n").append(fields).append(kCatalog);
}

std::string at(std::string_view position, std::string_view message) {
  return std::string("policy.yaml:").append(position).append(": ").append(message);
}

const std::vector<ErrorCase> kResponsesCases = {
    {"UnknownKey",
     responses("  keep: true\n"),
     {at("2:3",
         "responses.keep: unknown key (expected one of: store, ttl, max_bytes_per_response, "
         "max_responses_per_key, builtin_tools)")}},
    {"NotAMapping",
     "responses: true\n" + std::string(kCatalog),
     {at("1:12", "responses: expected a mapping, got 'true'")}},
    {"StoreIsAStrictBoolean",
     responses("  store: yes\n"),
     {at("2:10", "responses.store: expected true or false, got 'yes'")}},
    {"TtlWithoutUnit",
     responses("  ttl: 30\n"),
     {at("2:8", "responses.ttl: invalid duration '30' (use e.g. 500ms, 10s, 2m, 1h)")}},
    {"TtlZero", responses("  ttl: 0s\n"), {at("2:8", "responses.ttl: duration must be > 0, got '0s'")}},
    {"TtlBeyondAYear",
     responses("  ttl: 400d\n"),
     {at("2:8", "responses.ttl: duration '400d' is too large (max 8760h)")}},
    {"MaxBytesAboveTheCap",
     responses("  max_bytes_per_response: 17MiB\n"),
     {at("2:27",
         "responses.max_bytes_per_response: size '17MiB' is too large (max 16777216 bytes)")}},
    {"MaxBytesZero",
     responses("  max_bytes_per_response: 0\n"),
     {at("2:27", "responses.max_bytes_per_response: size must be > 0, got '0'")}},
    {"MaxResponsesZero",
     responses("  max_responses_per_key: 0\n"),
     {at("2:26", "responses.max_responses_per_key: must be > 0, got '0'")}},
    {"BuiltinToolsUnknownValue",
     responses("  builtin_tools: yes\n"),
     {at("2:18", "responses.builtin_tools: unknown builtin_tools 'yes' (expected one of: refuse, "
                 "allow)")}},
    {"Full",
     responses("  store: true\n  ttl: 7d\n  max_bytes_per_response: 16MiB\n"
               "  max_responses_per_key: 50\n"),
     {}},
};

INSTANTIATE_TEST_SUITE_P(Responses, ConfigErrorTest, testing::ValuesIn(kResponsesCases),
                         errorCaseName);

TEST(ResponsesConfigTest, AbsentSectionKeepsNothingWithBoundedDefaults) {
  const auto config = loadConfigString(std::string(kCatalog), "policy.yaml");
  ASSERT_TRUE(config) << config.error().front().str();
  EXPECT_FALSE(config->responses.store);
  EXPECT_EQ(config->responses.ttl, std::chrono::hours(24 * 30));
  EXPECT_EQ(config->responses.max_bytes_per_response, 1u << 20);
  EXPECT_EQ(config->responses.max_responses_per_key, 1000u);
  EXPECT_EQ(config->responses.builtin_tools, BuiltinTools::Refuse);
}

TEST(ResponsesConfigTest, DecodesEveryField) {
  const auto config = loadConfigString(
      responses("  store: true\n  ttl: 7d\n  max_bytes_per_response: 256KiB\n"
                "  max_responses_per_key: 50\n  builtin_tools: allow\n"),
      "policy.yaml");
  ASSERT_TRUE(config) << config.error().front().str();
  EXPECT_TRUE(config->responses.store);
  EXPECT_EQ(config->responses.ttl, std::chrono::hours(24 * 7));
  EXPECT_EQ(config->responses.max_bytes_per_response, 256u << 10);
  EXPECT_EQ(config->responses.max_responses_per_key, 50u);
  EXPECT_EQ(config->responses.builtin_tools, BuiltinTools::Allow);
}

}  // namespace
}  // namespace sy::config
