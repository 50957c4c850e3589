// DlpPolicy: first-match action rules per detector, group, level and destination; defaults;
// validation against the engine and the levels. Also the sensitivity levels and conditions.
#include "policies/dlp_policy.h"

#include <gtest/gtest.h>

#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using testing::makeEngine;

Finding finding(std::string id, DetectorClass detector_class, std::string level) {
  Finding f;
  f.detector_id = std::move(id);
  f.detector_class = detector_class;
  f.level = std::move(level);
  f.end = 1;
  return f;
}

TEST(SensitivityLevelsTest, RanksAscendingAndParsesConditions) {
  SensitivityLevels levels;
  EXPECT_EQ(levels.rank("public"), 0);
  EXPECT_EQ(levels.rank("restricted"), 3);
  EXPECT_EQ(levels.rank("secret"), -1);
  auto ge = LevelCondition::parse(">= confidential", levels);
  ASSERT_TRUE(ge);
  EXPECT_FALSE(ge->matches(1));
  EXPECT_TRUE(ge->matches(2));
  EXPECT_TRUE(ge->matches(3));
  auto lt = LevelCondition::parse("<internal", levels);
  ASSERT_TRUE(lt);
  EXPECT_TRUE(lt->matches(0));
  EXPECT_FALSE(lt->matches(1));
  auto eq = LevelCondition::parse("internal", levels);
  ASSERT_TRUE(eq);
  EXPECT_TRUE(eq->matches(1));
  EXPECT_FALSE(eq->matches(2));
  auto bad = LevelCondition::parse(">= top-secret", levels);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown sensitivity level 'top-secret'"), std::string::npos);
}

TEST(SensitivityLevelsTest, RejectsEmptyAndDuplicateLevels) {
  EXPECT_FALSE(SensitivityLevels::create({}));
  EXPECT_FALSE(SensitivityLevels::create({"a", ""}));
  auto duplicate = SensitivityLevels::create({"low", "high", "low"});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().message, "duplicate sensitivity level 'low'");
}

TEST(DlpPolicyTest, DefaultsBlockRestrictedAndPseudonymizeConfidentialOnlyForExternal) {
  auto engine = makeEngine();
  auto policy = DlpPolicy::create(DlpPolicySpec{}, *engine);
  ASSERT_TRUE(policy) << policy.error().message;
  const Finding card = finding("credit_card", DetectorClass::Pii, "restricted");
  const Finding email = finding("email", DetectorClass::Pii, "confidential");
  const Finding ip = finding("ipv4", DetectorClass::Pii, "internal");
  EXPECT_EQ(policy->requestAction(card, Location::External).action, PolicyAction::Block);
  EXPECT_EQ(policy->requestRule(policy->requestAction(card, Location::External).rule).name,
            "restricted-stays-home");
  EXPECT_EQ(policy->requestAction(card, Location::SelfHosted).action, PolicyAction::Allow);
  EXPECT_EQ(policy->requestAction(card, Location::SelfHosted).rule, -1);
  EXPECT_EQ(policy->requestAction(email, Location::External).action, PolicyAction::Pseudonymize);
  EXPECT_EQ(policy->requestAction(email, Location::SelfHosted).action, PolicyAction::Allow);
  EXPECT_EQ(policy->requestAction(ip, Location::External).action, PolicyAction::Allow);
  // Answers are scanned only when the policy names response rules (scanning holds text back).
  EXPECT_FALSE(policy->scanResponses());
  DlpPolicySpec with_rules;
  with_rules.response_rules = {{"r", {"secrets"}, "", std::nullopt, PolicyAction::Redact}};
  auto scanning = DlpPolicy::create(with_rules, *engine);
  ASSERT_TRUE(scanning);
  EXPECT_TRUE(scanning->scanResponses());
  const Finding token = finding("secret.github_token", DetectorClass::Secret, "restricted");
  EXPECT_EQ(scanning->responseAction(token).action, PolicyAction::Redact);
  EXPECT_EQ(scanning->responseAction(email).action, PolicyAction::Allow);
}

TEST(DlpPolicyTest, FirstMatchingRuleWinsAcrossIdsGroupsLevelsAndDestinations) {
  DlpConfig config;
  config.custom.push_back(testing::patternRule("customer-id", R"(\bCUST-\d{8}\b)"));
  auto engine = makeEngine(config);
  DlpPolicySpec spec;
  spec.request_rules = {
      {"no-secrets", {"secrets"}, "", std::nullopt, PolicyAction::Block},
      {"mask-customers-out", {"customer-id"}, "", Location::External, PolicyAction::Mask},
      {"emails-redacted", {"email"}, "", std::nullopt, PolicyAction::Redact},
      {"confidential-out", {}, ">= confidential", Location::External, PolicyAction::Pseudonymize},
  };
  auto policy = DlpPolicy::create(spec, *engine);
  ASSERT_TRUE(policy) << policy.error().message;
  const Finding aws = finding("secret.aws_access_key", DetectorClass::Secret, "restricted");
  const Finding customer = finding("customer-id", DetectorClass::Custom, "confidential");
  const Finding email = finding("email", DetectorClass::Pii, "confidential");
  const Finding phone = finding("phone", DetectorClass::Pii, "confidential");
  EXPECT_EQ(policy->requestAction(aws, Location::SelfHosted).action, PolicyAction::Block);
  EXPECT_EQ(policy->requestAction(customer, Location::External).action, PolicyAction::Mask);
  EXPECT_EQ(policy->requestAction(customer, Location::SelfHosted).action, PolicyAction::Allow);
  EXPECT_EQ(policy->requestAction(email, Location::External).action, PolicyAction::Redact);
  EXPECT_EQ(policy->requestAction(phone, Location::External).action, PolicyAction::Pseudonymize);
  EXPECT_EQ(policy->requestAction(phone, Location::External).rule, 3);
}

TEST(DlpPolicyTest, SensitivityIsTheHighestLevelOfTheFindings) {
  auto engine = makeEngine();
  auto policy = DlpPolicy::create(DlpPolicySpec{}, *engine);
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->sensitivity({}), 0);
  const std::vector<Finding> findings = {finding("ipv4", DetectorClass::Pii, "internal"),
                                         finding("email", DetectorClass::Pii, "confidential")};
  EXPECT_EQ(policy->levels().name(policy->sensitivity(findings)), "confidential");
}

TEST(DlpPolicyTest, ReportsEveryProblemWithItsPath) {
  auto engine = makeEngine();
  DlpPolicySpec spec;
  spec.request_rules = {
      {"a", {"emial"}, "", std::nullopt, PolicyAction::Block},
      {"a", {}, ">= top", std::nullopt, PolicyAction::Block},
  };
  spec.response_rules = {{"r", {}, "", std::nullopt, PolicyAction::Block}};
  auto policy = DlpPolicy::create(spec, *engine);
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().code_id, "invalid_dlp_policy");
  const std::string& message = policy.error().message;
  EXPECT_NE(message.find("dlp.actions[0] (a): unknown detector 'emial'"), std::string::npos);
  EXPECT_NE(message.find("dlp.actions[1] (a): duplicate rule name"), std::string::npos);
  EXPECT_NE(message.find("dlp.actions[1] (a): unknown sensitivity level 'top'"),
            std::string::npos);
  EXPECT_NE(message.find("dlp.responses.actions[0] (r): response rules allow only"),
            std::string::npos);
}

TEST(DlpPolicyTest, DetectorLevelsMustBeDeclaredLevels) {
  auto engine = makeEngine();
  DlpPolicySpec spec;
  spec.levels = *SensitivityLevels::create({"low", "high"});
  spec.request_rules = {};
  spec.response_rules = {};
  auto policy = DlpPolicy::create(spec, *engine);
  ASSERT_FALSE(policy);
  EXPECT_NE(policy.error().message.find("detector 'email' has level 'confidential', which is "
                                        "not a declared sensitivity level"),
            std::string::npos);
}

}  // namespace
}  // namespace sy::policies
