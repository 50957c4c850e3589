// Redact, mask, pseudonymize and restore.
#include "policies/dlp_transform.h"

#include <gtest/gtest.h>

#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

Finding at(std::string_view text, std::string_view value, std::string id, size_t from = 0) {
  size_t start = text.find(value, from);
  return {std::move(id), DetectorClass::Pii, "confidential", start, start + value.size(), false};
}

TEST(DlpTransformTest, RedactsWithOneLabelPerDetector) {
  std::string text = "mail jane@example.com, key ghp_abc";
  std::vector<Finding> findings = {at(text, "jane@example.com", "email"),
                                   at(text, "ghp_abc", "secret.github_token")};
  EXPECT_EQ(redact(text, findings), "mail [EMAIL], key [GITHUB_TOKEN]");
  EXPECT_EQ(labelFor("customer-id"), "CUSTOMER_ID");
  EXPECT_EQ(labelFor("secret.generic_assignment"), "SECRET");
}

TEST(DlpTransformTest, MasksCardsToTheLastFourAndEmailsToTheDomain) {
  EXPECT_EQ(maskValue("credit_card", "4111 1111 1111 1111"), "****1111");
  EXPECT_EQ(maskValue("email", "jane.doe@example.com"), "j***@example.com");
  EXPECT_EQ(maskValue("us_ssn", "536-22-1234"), "****1234");
  EXPECT_EQ(maskValue("custom", "abc"), "****");
}

TEST(DlpTransformTest, AppliesTheActionChosenForEachFinding) {
  std::string text = "a@b.io 4111111111111111 10.0.0.1";
  std::vector<Finding> findings = {at(text, "a@b.io", "email"),
                                   at(text, "4111111111111111", "credit_card"),
                                   at(text, "10.0.0.1", "ipv4")};
  std::vector<DlpAction> actions = {DlpAction::Pseudonymize, DlpAction::Mask, DlpAction::Allow};
  Pseudonymizer pseudonymizer;
  EXPECT_EQ(applyActions(text, findings, actions, &pseudonymizer), "<EMAIL_1> ****1111 10.0.0.1");
}

TEST(DlpTransformTest, MergesOverlappingFindingsUnderTheStrictestAction) {
  std::string text = "xx 1234567890 yy";
  std::vector<Finding> findings = {at(text, "1234567", "phone"), at(text, "4567890", "custom")};
  std::vector<DlpAction> actions = {DlpAction::Mask, DlpAction::Redact};
  EXPECT_EQ(applyActions(text, findings, actions, nullptr), "xx [CUSTOM] yy");
}

TEST(PseudonymizerTest, GivesTheSameValueTheSameTokenAndNumbersPerLabel) {
  Pseudonymizer p;
  EXPECT_EQ(p.tokenFor("EMAIL", "a@b.io"), "<EMAIL_1>");
  EXPECT_EQ(p.tokenFor("EMAIL", "c@d.io"), "<EMAIL_2>");
  EXPECT_EQ(p.tokenFor("EMAIL", "a@b.io"), "<EMAIL_1>");
  EXPECT_EQ(p.tokenFor("PHONE", "a@b.io"), "<PHONE_1>");
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(p.maxTokenLength(), 9u);
}

TEST(PseudonymizerTest, RestoresKnownTokensAndLeavesLookAlikesAlone) {
  Pseudonymizer p;
  std::string text = "write to jane@example.com and jane@example.com";
  std::vector<Finding> findings = {at(text, "jane@example.com", "email"),
                                   at(text, "jane@example.com", "email", 20)};
  std::vector<DlpAction> actions(2, DlpAction::Pseudonymize);
  std::string out = applyActions(text, findings, actions, &p);
  EXPECT_EQ(out, "write to <EMAIL_1> and <EMAIL_1>");
  EXPECT_EQ(p.restore("Sure, <EMAIL_1> is noted; <EMAIL_2> and <EMAIL_1 are not <<EMAIL_1>>"),
            "Sure, jane@example.com is noted; <EMAIL_2> and <EMAIL_1 are not "
            "<jane@example.com>");
  EXPECT_EQ(p.originalFor("<EMAIL_1>"), "jane@example.com");
  EXPECT_FALSE(p.originalFor("<EMAIL_9>").has_value());
}

TEST(PseudonymizerTest, RoundTripsEveryDefaultFindingOfAText) {
  const auto& engine = testing::defaultEngine();
  std::string text =
      "Jane (jane@example.com, +1 415 555 0132) paid with 4111 1111 1111 1111 from "
      "GB82 WEST 1234 5698 7654 32; SSN 536-22-1234.";
  auto findings = engine.scan(text);
  ASSERT_EQ(findings.size(), 5u);
  Pseudonymizer p;
  std::vector<DlpAction> actions(findings.size(), DlpAction::Pseudonymize);
  std::string masked = applyActions(text, findings, actions, &p);
  EXPECT_EQ(masked.find("jane@"), std::string::npos);
  EXPECT_TRUE(engine.scan(masked).empty()) << masked;
  EXPECT_EQ(p.restore(masked), text);
}

}  // namespace
}  // namespace sy::policies
