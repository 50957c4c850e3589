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
  EXPECT_EQ(testing::numberTokens(applyActions(text, findings, actions, &pseudonymizer)),
            "<EMAIL_1> ****1111 10.0.0.1");
}

TEST(DlpTransformTest, MergesOverlappingFindingsUnderTheStrictestAction) {
  std::string text = "xx 1234567890 yy";
  std::vector<Finding> findings = {at(text, "1234567", "phone"), at(text, "4567890", "custom")};
  std::vector<DlpAction> actions = {DlpAction::Mask, DlpAction::Redact};
  EXPECT_EQ(applyActions(text, findings, actions, nullptr), "xx [CUSTOM] yy");
}

// "<LABEL_" + 5 characters of Crockford base32 + ">".
bool hasTokenShape(std::string_view token, std::string_view label) {
  if (token.size() != label.size() + 8 || !token.starts_with("<") || !token.ends_with(">") ||
      token.substr(1, label.size()) != label || token[label.size() + 1] != '_') {
    return false;
  }
  constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  for (char c : token.substr(label.size() + 2, 5)) {
    if (kAlphabet.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

TEST(PseudonymizerTest, GivesTheSameValueTheSameTokenAndDistinctValuesDistinctOnes) {
  Pseudonymizer p;
  const std::string a = p.tokenFor("EMAIL", "a@b.io");
  const std::string c = p.tokenFor("EMAIL", "c@d.io");
  EXPECT_TRUE(hasTokenShape(a, "EMAIL")) << a;
  EXPECT_TRUE(hasTokenShape(c, "EMAIL")) << c;
  EXPECT_NE(a, c);
  EXPECT_EQ(p.tokenFor("EMAIL", "a@b.io"), a);
  const std::string phone = p.tokenFor("PHONE", "a@b.io");
  EXPECT_TRUE(hasTokenShape(phone, "PHONE")) << phone;
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(p.maxTokenLength(), 13u);
}

TEST(PseudonymizerTest, TokensAreNotPredictableAcrossRequests) {
  // Two requests with the same value get different tokens (25 random bits each: the chance
  // that 20 pairs all collide is nil).
  int same = 0;
  for (int i = 0; i < 20; ++i) {
    Pseudonymizer first;
    Pseudonymizer second;
    same += first.tokenFor("EMAIL", "a@b.io") == second.tokenFor("EMAIL", "a@b.io") ? 1 : 0;
  }
  EXPECT_LT(same, 2);
}

TEST(PseudonymizerTest, RestoresKnownTokensAndLeavesLookAlikesAlone) {
  Pseudonymizer p;
  std::string text = "write to jane@example.com and jane@example.com";
  std::vector<Finding> findings = {at(text, "jane@example.com", "email"),
                                   at(text, "jane@example.com", "email", 20)};
  std::vector<DlpAction> actions(2, DlpAction::Pseudonymize);
  std::string out = applyActions(text, findings, actions, &p);
  const std::string token = out.substr(9, 13);
  EXPECT_EQ(out, "write to " + token + " and " + token);
  const std::string cut = token.substr(0, token.size() - 1);
  EXPECT_EQ(p.restore("Sure, " + token + " is noted; <EMAIL_1>, <EMAIL_ZZZZZ> and " + cut +
                      " are not <" + token + ">"),
            "Sure, jane@example.com is noted; <EMAIL_1>, <EMAIL_ZZZZZ> and " + cut +
                " are not <jane@example.com>");
  EXPECT_EQ(p.originalFor(token), "jane@example.com");
  EXPECT_FALSE(p.originalFor("<EMAIL_1>").has_value());
}

TEST(PseudonymizerTest, NeverIssuesATokenTheClientSent) {
  // Every token the alphabet allows for one label is reserved but one: the pseudonymizer must
  // pick that one (2^25 tokens would take too long; reserve() is checked via collisions with a
  // reserved set built from the first draws instead).
  Pseudonymizer probe;
  std::string client_text;
  for (int i = 0; i < 64; ++i) {
    client_text += probe.tokenFor("EMAIL", "v" + std::to_string(i)) + " ";
  }
  for (int round = 0; round < 50; ++round) {
    Pseudonymizer p;
    p.reserve(client_text);
    const std::string token = p.tokenFor("EMAIL", "jane@example.com");
    EXPECT_EQ(client_text.find(token), std::string::npos);
  }
  // reserve() takes token-shaped strings only, anywhere in a text.
  Pseudonymizer p;
  p.reserve("x<EMAIL_AAAAA>y <A_BBBBB> <EMAIL_1> <_CCCCC> <email_ddddd>");
  // (Nothing observable beyond tokenFor() avoiding them; the shapes are covered by
  // RequestDlpTest.NeverIssuesATokenEqualToOneInTheRequest.)
  EXPECT_TRUE(hasTokenShape(p.tokenFor("A", "v"), "A"));
}

TEST(PseudonymizerTest, UserTurnsScopeRestoresOnlyValuesSeenInTheUsersOwnTurns) {
  Pseudonymizer p(RestoreScope::UserTurns);
  const std::string system = p.tokenFor("EMAIL", "ceo@corp.example", TextSource::System);
  const std::string tool = p.tokenFor("EMAIL", "cust@corp.example", TextSource::Untrusted);
  const std::string user = p.tokenFor("EMAIL", "me@corp.example", TextSource::User);
  const std::string both = p.tokenFor("EMAIL", "both@corp.example", TextSource::Assistant);
  EXPECT_EQ(p.tokenFor("EMAIL", "both@corp.example", TextSource::User), both);
  EXPECT_EQ(p.size(), 2u);
  EXPECT_EQ(p.restore(system + " " + tool + " " + user + " " + both),
            system + " " + tool + " me@corp.example both@corp.example");
  EXPECT_FALSE(p.originalFor(system).has_value());

  Pseudonymizer all(RestoreScope::All);
  const std::string token = all.tokenFor("EMAIL", "ceo@corp.example", TextSource::System);
  EXPECT_EQ(all.restore(token), "ceo@corp.example");
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
