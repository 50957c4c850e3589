// `switchyard audit verify`, through its functions: argument parsing, output and exit status.
#include "gateway/cli/audit_command.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "gateway/cli/audit_export.h"

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
  EXPECT_EQ(usageError({}), "audit needs a subcommand: verify or export");
  EXPECT_EQ(usageError({"check"}), "unknown audit subcommand 'check' (expected: verify, export)");
  EXPECT_EQ(usageError({"export", "a"}), "audit export needs --requests (what to export)");
  EXPECT_EQ(usageError({"export", "--requests"}), "audit export needs at least one FILE");
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

namespace sy::cli {
namespace {

// A request as the gateway logs it: a completion record, with no prompt text.
observability::AuditRecord completion(std::string id, std::string key, std::string endpoint) {
  observability::AuditRecord record;
  record.phase = "completion";
  record.policy_version = "3f2a9c0d1e4b5a67";
  record.request_id = std::move(id);
  record.key_id = std::move(key);
  record.team = "web";
  record.endpoint = std::move(endpoint);
  record.requested_model = "auto";
  record.rule = "default";
  record.tier = "local";
  record.sensitivity = "confidential";
  record.findings.push_back({"email", 2, "redact"});
  record.outcome = "forwarded";
  record.status = 200;
  record.tokens = {10, 5, 0};
  return record;
}

class AuditExportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    observability::AuditConfig config;
    config.path = path_;
    auto log = observability::testing::openLog(config);
    ASSERT_NE(log, nullptr);
    observability::AuditRecord decision = completion("r1", "app", "chat");
    decision.phase = "decision";
    observability::AuditRecord anthropic = completion("r2", "app", "chat");
    anthropic.surface = "anthropic";
    observability::AuditRecord reload;
    reload.phase = "reload";
    reload.outcome = "rejected";
    reload.trigger = "signal";
    reload.error = "1 error; first: p.yaml:1:1: bad";
    observability::AuditRecord models = completion("r4", "app", "models");
    for (auto& record : {decision, completion("r1", "app", "chat"), anthropic, reload, models,
                         completion("r3", "", "embeddings")}) {
      const Status status = observability::testing::appendAndWait(*log, record);
      ASSERT_TRUE(status.has_value()) << status.error().message;
    }
  }
  TempDir dir_;
  std::string path_ = dir_.file("audit.jsonl");
};

TEST_F(AuditExportCommandTest, WritesOneReplayableLinePerLoggedRequestWithAPlaceholderPrompt) {
  const auto request = parseAuditArgs({"export", "--requests", path_});
  ASSERT_TRUE(request.has_value()) << request.error().message;
  const AuditCommandOutput output = runAuditExport(*request, noEnv);
  EXPECT_EQ(output.status, 0) << output.err;
  std::vector<RequestLine> lines;
  std::istringstream in(output.out);
  for (std::string text; std::getline(in, text);) {
    auto line = parseRequestLine(text);  // what explain --compare reads
    ASSERT_TRUE(line.has_value()) << line.error().message << ": " << text;
    lines.push_back(std::move(*line));
  }
  ASSERT_EQ(lines.size(), 3u);  // the decision, reload and models records are not requests
  EXPECT_EQ(lines[0].id, "r1");
  EXPECT_EQ(lines[0].request.key, "app");
  EXPECT_EQ(lines[0].request.team, "web");
  EXPECT_EQ(lines[0].request.surface, "openai");
  EXPECT_EQ(lines[0].request.endpoint, "chat");
  // 10 prompt tokens: about 40 characters of placeholder, never the (unlogged) prompt.
  EXPECT_EQ(lines[0].request.body,
            R"({"model":"auto","messages":[{"role":"user","content":")" + placeholderText(40) +
                R"("}]})");
  EXPECT_EQ(placeholderText(40).size(), 40u);
  EXPECT_EQ(lines[0].recorded.at("rule"), "default");
  EXPECT_EQ(lines[0].recorded.at("findings").as_array().size(), 1u);
  EXPECT_EQ(lines[1].request.surface, "anthropic");
  EXPECT_NE(lines[1].request.body.find(R"("max_tokens":1024)"), std::string::npos);
  EXPECT_EQ(lines[2].request.endpoint, "embeddings");
  EXPECT_EQ(lines[2].request.key, "");
  EXPECT_NE(lines[2].request.body.find(R"("input":"placeholder)"), std::string::npos);
}

TEST_F(AuditExportCommandTest, ExportsNothingFromABrokenChain) {
  auto lines = observability::testing::readLines(path_);
  lines[1] = observability::testing::replaced(lines[1], "\"team\":\"web\"", "\"team\":\"ops\"");
  observability::testing::writeLines(path_, lines);
  const AuditCommandOutput output = runAuditExport({"", {path_}, AuditVerifyRequest::Subcommand::ExportRequests}, noEnv);
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.out, "");
  EXPECT_NE(output.err.find("failed: "), std::string::npos) << output.err;
}

}  // namespace
}  // namespace sy::cli
