// `switchyard audit verify`, through its functions: argument parsing, output and exit status.
#include "gateway/cli/audit_command.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "observability/audit_file.h"
#include "tests/unit/observability/audit_test_support.h"

namespace sy::cli {
namespace {

using observability::testing::TempDir;

const char* noEnv(const char*) { return nullptr; }

std::string usageError(std::vector<std::string_view> args) {
  const auto parsed = parseAuditArgs(args);
  return parsed ? std::string("(parsed)") : parsed.error().message;
}

TEST(AuditCommandTest, ParsesTheKeyVariableInBothSpellingsAndTheFiles) {
  auto request = parseAuditArgs({"verify", "--hmac-key-env", "SY_KEY", "a.jsonl", "b.jsonl"});
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->hmac_key_env, "SY_KEY");
  EXPECT_EQ(request->files, (std::vector<std::string>{"a.jsonl", "b.jsonl"}));
  request = parseAuditArgs({"verify", "a.jsonl", "--hmac-key-env=K", "--", "--odd-name"});
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->hmac_key_env, "K");
  EXPECT_EQ(request->files, (std::vector<std::string>{"a.jsonl", "--odd-name"}));
}

TEST(AuditCommandTest, RejectsBadUsage) {
  EXPECT_EQ(usageError({}), "audit needs a subcommand: verify");
  EXPECT_EQ(usageError({"check"}), "unknown audit subcommand 'check' (expected: verify)");
  EXPECT_EQ(usageError({"verify"}), "audit verify needs at least one FILE");
  EXPECT_EQ(usageError({"verify", "--key", "a"}), "audit verify: unknown option '--key'");
  EXPECT_EQ(usageError({"verify", "a", "--hmac-key-env"}),
            "audit verify: --hmac-key-env needs a variable name");
}

class AuditVerifyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    observability::AuditConfig config;
    config.path = path_;
    config.hmac_key = "secret";
    observability::testing::writeRecords(config, 3);
  }
  TempDir dir_;
  std::string path_ = dir_.file("audit.jsonl");
};

TEST_F(AuditVerifyCommandTest, PrintsOkWithTheRecordAndFileCounts) {
  const auto env = [](const char* name) {
    return std::string_view(name) == "SY_AUDIT_KEY" ? "secret" : nullptr;
  };
  const AuditCommandOutput output = runAuditVerify({"SY_AUDIT_KEY", {path_}}, env);
  EXPECT_EQ(output.status, 0);
  EXPECT_EQ(output.out, "ok: 3 records in 1 files\n");
  EXPECT_EQ(output.err, "");
}

TEST_F(AuditVerifyCommandTest, PrintsTheFirstProblemAndExitsOne) {
  const AuditCommandOutput output = runAuditVerify({"", {path_}}, noEnv);
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.out, "failed: " + path_ +
                            ":1: record seq 1: hash does not match the record (modified, or a "
                            "wrong or missing HMAC key)\n");
}

TEST_F(AuditVerifyCommandTest, WarnsAboutATruncatedLastLineAndExitsZero) {
  observability::testing::writeFile(path_, observability::testing::readFile(path_) + "{\"seq\":4,");
  const auto env = [](const char*) { return "secret"; };
  const AuditCommandOutput output = runAuditVerify({"K", {path_}}, env);
  EXPECT_EQ(output.status, 0);
  EXPECT_EQ(output.out, "ok: 3 records in 1 files\n");
  EXPECT_EQ(output.err, "warning: " + path_ +
                            ":4: truncated last line (9 bytes, no newline): a write cut short, "
                            "not part of the chain\n");
}

TEST(AuditVerifyCommandFilesTest, TakesTheFilesOfARotatedLogInAnyOrder) {
  TempDir dir;
  observability::AuditConfig config;
  config.path = dir.file("audit.jsonl");
  config.rotate_bytes = 1000;
  observability::testing::writeRecords(config, 30);
  std::vector<std::string> files = observability::listAuditFiles(config.path);
  ASSERT_GE(files.size(), 10u);  // so that ".1x" sorts before ".2" as text
  std::vector<std::string> globbed = files;
  std::sort(globbed.begin(), globbed.end());  // what a shell glob gives: the live file first
  ASSERT_NE(globbed, files);
  AuditCommandOutput output = runAuditVerify({"", globbed}, noEnv);
  EXPECT_EQ(output.status, 0) << output.out;
  EXPECT_EQ(output.out, "ok: 30 records in " + std::to_string(files.size()) + " files\n");
  globbed.erase(std::find(globbed.begin(), globbed.end(), files[3]));
  output = runAuditVerify({"", globbed}, noEnv);
  EXPECT_EQ(output.status, 1);
  EXPECT_NE(output.out.find("missing (deleted)"), std::string::npos) << output.out;
}

TEST_F(AuditVerifyCommandTest, AnUnsetKeyVariableIsAUsageError) {
  const AuditCommandOutput output = runAuditVerify({"SY_AUDIT_KEY", {path_}}, noEnv);
  EXPECT_EQ(output.status, 2);
  EXPECT_EQ(output.err,
            "switchyard: audit verify: the environment variable SY_AUDIT_KEY (--hmac-key-env) is "
            "not set or empty\n");
}

}  // namespace
}  // namespace sy::cli
