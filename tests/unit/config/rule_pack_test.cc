// dlp.rule_packs: a gitleaks TOML file read through toml++ (gateway/config/gitleaks_pack.h),
// its located errors, the policy key, and the rules' gitleaks semantics in the DLP engine
// (keywords, secret group, entropy, rule and global allowlists).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/config/gitleaks_pack.h"
#include "policies/dlp_engine.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

std::vector<std::string> errorStrings(const std::expected<Config, ConfigErrors>& loaded) {
  std::vector<std::string> out;
  if (!loaded) {
    for (const ConfigError& error : loaded.error()) {
      out.push_back(error.str());
    }
  }
  return out;
}

// A TOML file in a fresh temporary directory, removed with the fixture.
class RulePackTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sy_rule_pack_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;
};

constexpr const char* kPack = R"(title = "team rules"

[allowlist]
description = "global"
stopwords = ["example"]

[[rules]]
id = "acme-key"
description = "Acme API key"
regex = '''(?i)acme[\w.-]{0,20}\s*[:=]\s*['"]?(acme_[a-z0-9]{20})'''
keywords = ["ACME_"]
entropy = 3.0

[[rules]]
id = "widget-token"
regex = '''(wt)-([A-Za-z0-9]{16})'''
secretGroup = 2
keywords = ["wt-"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''(?i)test fixture''']

[[rules]]
id = "p12-file"
path = '''\.p12$'''
)";

policies::DlpConfig withPack(const policies::RulePack& pack) {
  policies::DlpConfig config;
  config.default_pack = false;
  config.rule_packs.push_back(pack);
  return config;
}

TEST_F(RulePackTest, ReadsRulesKeywordsEntropyGroupsAndAllowlists) {
  const GitleaksLoad load = loadGitleaksPack(write("rules.toml", kPack), "rules.toml");
  ASSERT_TRUE(load.errors.empty()) << testing::PrintToString(load.errors);
  ASSERT_EQ(load.pack.rules.size(), 2u);
  EXPECT_EQ(load.skipped_ids, (std::vector<std::string>{"p12-file"}));
  const policies::PackRule& acme = load.pack.rules[0];
  EXPECT_EQ(acme.id, "acme-key");
  EXPECT_EQ(acme.description, "Acme API key");
  EXPECT_EQ(acme.keywords, (std::vector<std::string>{"acme_"}));  // lower-cased, as gitleaks
  EXPECT_DOUBLE_EQ(acme.entropy, 3.0);
  EXPECT_EQ(acme.where, "rules.toml:7:1");
  const policies::PackRule& widget = load.pack.rules[1];
  EXPECT_EQ(widget.secret_group, 2);
  ASSERT_EQ(widget.allowlists.size(), 1u);
  EXPECT_EQ(widget.allowlists[0].target, policies::PackAllowlist::Target::Line);
  ASSERT_EQ(load.pack.global_allowlists.size(), 1u);
  EXPECT_EQ(load.pack.global_allowlists[0].stopwords, (std::vector<std::string>{"example"}));
}

TEST_F(RulePackTest, InvalidRulesAreLocatedInTheTomlFile) {
  const GitleaksLoad load = loadGitleaksPack(write("bad.toml", R"([[rules]]
id = "broken"
regex = '''(abc'''

[[rules]]
id = "typo"
regex = '''x'''
keyword = ["x"]

[[rules]]
id = "group"
regex = '''x'''
secretGroup = "two"
)"),
                                             "bad.toml");
  EXPECT_EQ(load.errors,
            (std::vector<std::string>{
                "bad.toml:3:9: rule 'broken': invalid regex: missing ): (abc",
                "bad.toml:8:11: rule: unknown key 'keyword'",
                "bad.toml:13:15: rule 'group': secretGroup must be an integer in [0, 15]"}));
}

TEST_F(RulePackTest, TomlSyntaxErrorsAreLocated) {
  const GitleaksLoad load =
      loadGitleaksPack(write("syntax.toml", "[[rules]]\nid = \"x\nregex = 'a'\n"), "syntax.toml");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(load.errors[0].starts_with("syntax.toml:2:")) << load.errors[0];
}

TEST_F(RulePackTest, TheEngineAppliesGitleaksSemantics) {
  GitleaksLoad load = loadGitleaksPack(write("rules.toml", kPack), "rules.toml");
  load.pack.level = "confidential";
  auto engine = policies::DlpEngine::create(withPack(load.pack));
  ASSERT_TRUE(engine.has_value()) << engine.error().message;
  const std::string text = "ACME_TOKEN = 'acme_k3x9q7m2p4w8r6t1y5z0'";
  auto findings = (*engine)->scan(text);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].detector_id, "acme-key");
  EXPECT_EQ(findings[0].detector_class, policies::DetectorClass::Secret);
  EXPECT_EQ(findings[0].level, "confidential");
  EXPECT_EQ(text.substr(findings[0].start, findings[0].length()), "acme_k3x9q7m2p4w8r6t1y5z0");
  // Entropy at or under the rule's: not a secret.
  EXPECT_TRUE((*engine)->scan("acme_key: acme_aaaaaaaaaaaaaaaaaaaa").empty());
  // The global allowlist's stopword.
  EXPECT_TRUE((*engine)->scan("acme_key: acme_example3x9q7m2p4w8r").empty());
  // secretGroup 2: the value after "wt-".
  const std::string widget = "token wt-Ab3dE5gH7jK9mN1p here";
  findings = (*engine)->scan(widget);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(widget.substr(findings[0].start, findings[0].length()), "Ab3dE5gH7jK9mN1p");
  // The rule's line allowlist.
  EXPECT_TRUE((*engine)->scan("test fixture: wt-Ab3dE5gH7jK9mN1p").empty());
}

TEST_F(RulePackTest, RuleIdsMustBeUniqueAcrossPacksAndCustomRules) {
  GitleaksLoad load = loadGitleaksPack(write("rules.toml", kPack), "rules.toml");
  policies::DlpConfig config = withPack(load.pack);
  config.rule_packs.push_back(load.pack);
  auto engine = policies::DlpEngine::create(config);
  ASSERT_FALSE(engine.has_value());
  EXPECT_NE(engine.error().message.find("rules.toml:7:1: rule 'acme-key': duplicate id"),
            std::string::npos)
      << engine.error().message;
}

TEST_F(RulePackTest, ThePolicyLoadsPacksRelativeToItsFile) {
  write("rules.toml", kPack);
  const std::string policy = (dir_ / "policy.yaml").string();
  auto loaded = loadConfigString(std::string("dlp:\n  rule_packs:\n    - {format: gitleaks, "
                                             "path: rules.toml, level: confidential}\n") +
                                     std::string(kCatalog),
                                 policy);
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  ASSERT_EQ(loaded->dlp.rule_packs.size(), 1u);
  EXPECT_EQ(loaded->dlp.rule_packs[0].level, "confidential");
  EXPECT_EQ(loaded->dlp.rule_packs[0].rules.size(), 2u);
}

TEST_F(RulePackTest, ActionRulesMayNameAPacksRuleIds) {
  write("rules.toml", kPack);
  const std::string policy = (dir_ / "policy.yaml").string();
  auto loaded = loadConfigString(
      std::string("dlp:\n  rule_packs:\n    - {format: gitleaks, path: rules.toml}\n"
                  "  actions:\n    - {name: acme, detectors: [acme-key], action: block}\n"
                  "    - {name: typo, detectors: [acme-kye], action: block}\n") +
          std::string(kCatalog),
      policy);
  ASSERT_FALSE(loaded.has_value());
  const auto errors = errorStrings(loaded);
  ASSERT_EQ(errors.size(), 1u) << testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("unknown detector 'acme-kye'"), std::string::npos) << errors[0];
}

TEST_F(RulePackTest, ThePolicyReportsPackErrorsAtItsPathKey) {
  write("bad.toml", "[[rules]]\nid = \"broken\"\nregex = '''(abc'''\n");
  const std::string policy = (dir_ / "policy.yaml").string();
  auto loaded = loadConfigString(
      std::string("dlp:\n  rule_packs:\n    - {format: gitleaks, path: bad.toml}\n"
                  "    - {format: yara, path: x}\n    - {format: gitleaks, path: none.toml}\n") +
          std::string(kCatalog),
      policy);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(
      errorStrings(loaded),
      (std::vector<std::string>{
          policy + ":3:32: dlp.rule_packs[0].path: bad.toml:3:9: rule 'broken': invalid regex: "
                   "missing ): (abc",
          policy + ":4:16: dlp.rule_packs[1].format: unknown rule pack format 'yara' (gitleaks)",
          policy + ":5:32: dlp.rule_packs[2].path: cannot read rule pack '" +
              (dir_ / "none.toml").string() + "'"}));
}

}  // namespace
}  // namespace sy::config
