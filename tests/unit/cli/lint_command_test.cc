// `switchyard lint` through runLint(): errors fail, warnings print as file:line:col: warning: ...
// and fail only with --strict, and a clean policy prints the ok line.
#include "gateway/cli/lint_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace sy::cli {
namespace {

// A policy file in the temp dir, removed at the end of the test.
class PolicyFile {
 public:
  explicit PolicyFile(std::string_view yaml)
      : path_((std::filesystem::temp_directory_path() /
               ("sy-lint-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml"))
                  .string()) {
    std::ofstream(path_) << yaml;
  }
  ~PolicyFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr std::string_view kClean =
    "backends:\n"
    "  - {name: a, url: http://h, model: m}\n"
    "tiers:\n"
    "  t: {backends: [a]}\n"
    "auth: {anonymous: true}\n";

// Backend `spare` (line 3) is unused.
constexpr std::string_view kUnused =
    "backends:\n"
    "  - {name: a, url: http://h, model: m}\n"
    "  - {name: spare, url: http://g, model: m}\n"
    "tiers:\n"
    "  t: {backends: [a]}\n"
    "auth: {anonymous: true}\n";

TEST(LintCommandTest, ACleanPolicyPrintsTheOkLine) {
  const PolicyFile file(kClean);
  for (const bool strict : {false, true}) {
    const LintOutput output = runLint(file.path(), strict);
    EXPECT_EQ(output.status, 0);
    EXPECT_EQ(output.out, file.path() + ": ok (1 backends, 1 tiers, 0 models)\n");
    EXPECT_EQ(output.err, "");
  }
}

TEST(LintCommandTest, WarningsPrintOnStderrAndPassWithoutStrict) {
  const PolicyFile file(kUnused);
  const std::string warning = file.path() +
                              ":3:5: warning: backends[1]: backend 'spare' is unused: no tier, "
                              "model alias or routing rule names it\n";
  const LintOutput lenient = runLint(file.path(), false);
  EXPECT_EQ(lenient.status, 0);
  EXPECT_EQ(lenient.err, warning);
  EXPECT_EQ(lenient.out, file.path() + ": ok (2 backends, 1 tiers, 0 models)\n");
  const LintOutput strict = runLint(file.path(), true);
  EXPECT_EQ(strict.status, 1);
  EXPECT_EQ(strict.err, warning + file.path() + ": 1 warning (--strict)\n");
  EXPECT_EQ(strict.out, "");
}

TEST(LintCommandTest, ErrorsFailAndNoWarningsArePrinted) {
  const PolicyFile file(
      "backends:\n"
      "  - {name: a, url: http://h, model: m, weight: 0}\n"
      "  - {name: spare, url: http://g, model: m}\n"
      "tiers:\n"
      "  t: {backends: [a]}\n"
      "auth: {anonymous: true}\n");
  const LintOutput output = runLint(file.path(), false);
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.err, file.path() + ":2:48: backends[0].weight: must be > 0, got '0'\n");
  EXPECT_EQ(output.out, "");
}

TEST(LintCommandTest, AnUnreadableFileIsAnError) {
  const LintOutput output = runLint("/nonexistent/policy.yaml", false);
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.err,
            "/nonexistent/policy.yaml:0:0: cannot read file: No such file or directory\n");
}

}  // namespace
}  // namespace sy::cli
