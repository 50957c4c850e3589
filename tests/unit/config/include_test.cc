// `include:`: a policy split over files is assembled into one, each error and warning is located
// in its own file, and cycles, repeated includes and sections set twice are refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/config/lint.h"

namespace sy::config {
namespace {

namespace fs = std::filesystem;

class IncludeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sy_include_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "teams");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  // Errors as "file-name:line:col: message", the file relative to the test's folder.
  std::vector<std::string> errors(const std::string& main) {
    std::vector<std::string> out;
    auto loaded = loadConfigFile(main);
    if (loaded) {
      return out;
    }
    const std::string prefix = dir_.string() + "/";
    for (const ConfigError& error : loaded.error()) {
      std::string text = error.str();
      for (size_t at; (at = text.find(prefix)) != std::string::npos;) {
        text.erase(at, prefix.size());
      }
      out.push_back(text);
    }
    return out;
  }

  fs::path dir_;
};

constexpr std::string_view kMain = R"(backends:
  - {name: a, url: http://h, model: m}
tiers:
  t: {backends: [a]}
include: [teams/analytics.yaml, dlp.yaml]
auth: {anonymous: true}
routing:
  - {name: all-local, route: t}
)";

TEST_F(IncludeTest, KeysTeamsAndCustomRulesFromIncludedFilesJoinTheMainPolicy) {
  write("teams/analytics.yaml", R"(teams:
  analytics: {limits: {rpm: 10}}
keys:
  - {id: batch, hash: "sha256:2836fbe2bec536b3a06950a684cd15bf5cab2622374386c0275b7301085b688a", team: analytics}
)");
  write("dlp.yaml", "dlp:\n  custom:\n    - {name: cust, pattern: 'CUST-\\d+'}\n");
  const auto config = loadConfigFile(write("main.yaml", std::string(kMain)));
  ASSERT_TRUE(config) << config.error().front().str();
  ASSERT_EQ(config->auth.keys.size(), 1u);
  EXPECT_EQ(config->auth.keys[0].team, "analytics");
  ASSERT_EQ(config->dlp.custom.size(), 1u);
  EXPECT_EQ(config->dlp.custom[0].name, "cust");
  ASSERT_EQ(config->sources.files.size(), 3u);
  EXPECT_EQ(fs::path(config->sources.files[1].path).filename(), "analytics.yaml");
}

TEST_F(IncludeTest, AnIncludedFileWithOnlyCommentsAddsNothing) {
  write("teams/analytics.yaml", "# no keys yet\n\n");
  write("dlp.yaml", "");
  const auto config = loadConfigFile(write("main.yaml", std::string(kMain)));
  ASSERT_TRUE(config) << config.error().front().str();
  EXPECT_EQ(config->sources.files.size(), 3u);
}

TEST_F(IncludeTest, AnErrorInAnIncludedFileIsReportedInThatFileAtItsOwnLine) {
  write("teams/analytics.yaml", "teams:\n  analytics: {limits: {rpm: 0}}\n");
  write("dlp.yaml", "dlp:\n  custom:\n    - {name: cust, pattern: 'CUST-(\\d+'}\n");
  EXPECT_EQ(errors(write("main.yaml", std::string(kMain))),
            (std::vector<std::string>{
                "teams/analytics.yaml:2:29: teams.analytics.limits.rpm: must be > 0, got '0' (omit "
                "it for no limit)",
                "dlp.yaml:3:29: dlp.custom[0].pattern: invalid RE2 pattern: missing ): "
                "CUST-(\\d+"}));
}

TEST_F(IncludeTest, ACycleIsRefusedNamingTheFilesInIt) {
  write("teams/analytics.yaml", "include: [../dlp.yaml]\n");
  write("dlp.yaml", "include: [main.yaml]\n");
  EXPECT_EQ(errors(write("main.yaml", std::string(kMain))),
            (std::vector<std::string>{
                "main.yaml:5:33: include[1]: 'dlp.yaml' is already included",
                "dlp.yaml:1:11: include[0]: include cycle: main.yaml -> analytics.yaml -> "
                "dlp.yaml -> main.yaml"}));
}

TEST_F(IncludeTest, AMissingFileIsReportedWhereItIsIncluded) {
  write("dlp.yaml", "{}\n");
  EXPECT_EQ(errors(write("main.yaml", std::string(kMain))),
            (std::vector<std::string>{"main.yaml:5:11: include[0]: cannot read "
                                      "'teams/analytics.yaml': No such file or directory"}));
}

TEST_F(IncludeTest, OnlyRegularFilesAreIncluded) {
  write("dlp.yaml", "{}\n");
  std::string main(kMain);
  main.replace(main.find("teams/analytics.yaml"), 20, "/dev/zero");
  EXPECT_EQ(errors(write("main.yaml", main)),
            (std::vector<std::string>{"main.yaml:5:11: include[0]: '/dev/zero' is not a regular "
                                      "file"}));
}

TEST_F(IncludeTest, ASectionWithOneOwnerSetInTwoFilesIsRefused) {
  write("teams/analytics.yaml", "routing:\n  - {name: other, route: t}\nteams:\n  x: {}\n");
  write("dlp.yaml", "teams:\n  x: {}\ndlp: {actions: []}\n");
  EXPECT_EQ(errors(write("main.yaml", std::string(kMain) + "dlp: {default_pack: true}\n")),
            (std::vector<std::string>{
                "teams/analytics.yaml:1:1: routing: already set at main.yaml:7 (only backends, "
                "keys, tiers, models, teams, dlp.custom, dlp.allow_patterns, dlp.detectors and "
                "auth.admin_keys may be split across included files)",
                "dlp.yaml:2:3: teams.x: duplicate key (first at teams/analytics.yaml:4)"}));
}

TEST_F(IncludeTest, LintWarningsPointIntoTheIncludedFile) {
  write("teams/analytics.yaml", "{}\n");
  write("dlp.yaml", "backends:\n  - {name: spare, url: http://s, model: m}\n");
  const auto config = loadConfigFile(write("main.yaml", std::string(kMain)));
  ASSERT_TRUE(config) << config.error().front().str();
  const auto warnings = lintWarnings(*config);
  ASSERT_FALSE(warnings.empty());
  const auto unused = std::find_if(warnings.begin(), warnings.end(), [](const auto& w) {
    return w.message.find("'spare' is unused") != std::string::npos;
  });
  ASSERT_NE(unused, warnings.end());
  EXPECT_EQ(fs::path(unused->file).filename(), "dlp.yaml");
  EXPECT_EQ(unused->line, 2);
}

}  // namespace
}  // namespace sy::config
