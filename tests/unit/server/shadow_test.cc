// Shadow mode: the candidate policy (`shadow:`) is loaded and validated with the policy, and
// shadowCompare() reports where it decides a request differently from the active one.
#include "gateway/server/pipeline/shadow.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gateway/config/config.h"

namespace sy::server {
namespace {

class ShadowTest : public ::testing::Test {
 protected:
  ShadowTest() {
    std::string pattern = std::filesystem::temp_directory_path() / "sy-shadow-XXXXXX";
    dir_ = ::mkdtemp(pattern.data());
  }
  ~ShadowTest() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static std::string policy(const std::string& routing, const std::string& extra = "") {
    return "auth: {anonymous: true}\n"
           "backends:\n"
           "  - {name: home, url: http://h, model: llama}\n"
           "  - {name: cloud, url: https://c, model: gpt, location: external}\n"
           "tiers:\n"
           "  local: {backends: [home]}\n"
           "  frontier: {backends: [cloud]}\n"
           "keys:\n"
           "  - {id: app, hash: \"sha256:2836fbe2bec536b3a06950a684cd15bf5cab2622374386c0275b7301085b688a\"}\n"
           "routing:\n" + routing + extra;
  }

  std::shared_ptr<const config::Snapshot> load(const std::string& candidate) {
    write("candidate.yaml", candidate);
    const std::string main = write(
        "policy.yaml", policy("  - {name: default, route: frontier}\n", "shadow: candidate.yaml\n"));
    auto config = config::loadConfigFile(main);
    EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().front().str());
    if (!config) {
      return nullptr;
    }
    auto snapshot = config::Snapshot::build(std::move(*config), 1, false);
    EXPECT_TRUE(snapshot.has_value());
    return snapshot ? *snapshot : nullptr;
  }

  std::string dir_;
};

constexpr std::string_view kHello = R"({"model":"auto","messages":[{"role":"user","content":"hi"}]})";
constexpr std::string_view kMail =
    R"({"model":"auto","messages":[{"role":"user","content":"mail jane.doe@example.com"}]})";

TEST_F(ShadowTest, ReportsTheCandidatesDecisionOnlyWhereItDiffers) {
  const auto snapshot = load(policy(
      "  - {name: mail-home, when: {detectors: [email]}, route: local}\n"
      "  - {name: default, route: frontier}\n"));
  ASSERT_NE(snapshot, nullptr);
  ASSERT_NE(snapshot->shadow(), nullptr);
  ExplainOptions options;
  options.principal = &policies::KeyRing::anonymousPrincipal();
  EXPECT_FALSE(shadowCompare(snapshot, kHello, options).has_value());
  const auto differs = shadowCompare(snapshot, kMail, options);
  ASSERT_TRUE(differs.has_value());
  EXPECT_EQ(differs->active_rule, "default");
  EXPECT_EQ(differs->shadow_rule, "mail-home");
  EXPECT_EQ(differs->decision.policy_version, snapshot->shadow()->policyVersion());
  EXPECT_NE(differs->decision.policy_version, snapshot->policyVersion());
  EXPECT_EQ(differs->decision.action, "allow");  // the active one pseudonymizes for the cloud
  EXPECT_EQ(differs->decision.tier, "local");
  EXPECT_EQ(differs->decision.backend, "home");
  EXPECT_EQ(differs->decision.status, 200u);
  EXPECT_EQ(differs->decision.differs,
            (std::vector<std::string>{"action", "tier", "backend", "rule", "findings"}));
}

TEST_F(ShadowTest, AKeyTheCandidateLacksIsA401There) {
  std::string candidate = policy("  - {name: default, route: frontier}\n");
  candidate.replace(candidate.find("{id: app"), 8, "{id: other");
  const auto snapshot = load(candidate);
  ASSERT_NE(snapshot, nullptr);
  ExplainOptions options;
  options.principal = snapshot->keys().find("app");
  ASSERT_NE(options.principal, nullptr);
  const auto differs = shadowCompare(snapshot, kHello, options);
  ASSERT_TRUE(differs.has_value());
  EXPECT_EQ(differs->shadow_rule, "(invalid_api_key)");
  EXPECT_EQ(differs->decision.status, 401u);
  EXPECT_EQ(differs->decision.action, "block");
}

TEST_F(ShadowTest, AnInvalidCandidateMakesThePolicyInvalidWithItsErrorsLocatedInItsFile) {
  const std::string candidate = write("candidate.yaml", policy("  - {name: x, route: nowhere}\n"));
  const std::string main = write("policy.yaml", policy("  - {name: default, route: local}\n",
                                                       "shadow: candidate.yaml\n"));
  const auto config = config::loadConfigFile(main);
  ASSERT_FALSE(config.has_value());
  ASSERT_EQ(config.error().size(), 2u);
  EXPECT_EQ(config.error()[0].str(),
            main + ":12:9: shadow: the candidate policy '" + candidate +
                "' is invalid (its errors follow)");
  EXPECT_EQ(config.error()[1].file, candidate);
}

TEST_F(ShadowTest, ACandidateMayNotNameAShadowOfItsOwnNorAPolicyItself) {
  write("other.yaml", policy("  - {name: default, route: local}\n"));
  const std::string candidate = write(
      "candidate.yaml", policy("  - {name: default, route: local}\n", "shadow: other.yaml\n"));
  const std::string main = write("policy.yaml", policy("  - {name: default, route: local}\n",
                                                       "shadow: candidate.yaml\n"));
  auto config = config::loadConfigFile(main);
  ASSERT_FALSE(config.has_value());
  ASSERT_EQ(config.error().size(), 2u);
  EXPECT_EQ(config.error()[1].str(),
            candidate + ":12:9: shadow: a candidate policy may not name a shadow of its own");
  // A policy naming itself is its own candidate: refused the same way, not loaded forever.
  write("policy.yaml", policy("  - {name: default, route: local}\n", "shadow: policy.yaml\n"));
  config = config::loadConfigFile(main);
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().back().str(),
            main + ":12:9: shadow: a candidate policy may not name a shadow of its own");
}

}  // namespace
}  // namespace sy::server
