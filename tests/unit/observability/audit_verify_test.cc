// verifyAuditFiles: every kind of tampering is found and named by record number; HMAC mode;
// truncated and torn lines.
#include "observability/audit_verify.h"

#include <gtest/gtest.h>

#include "observability/audit_record.h"
#include "tests/unit/observability/audit_test_support.h"

namespace sy::observability {
namespace {

using namespace testing;  // NOLINT: the helpers of audit_test_support.h

// A log of 10 records (seq 1..10 on lines 1..10), written by AuditLog.
class AuditVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.path = dir_.file("audit.jsonl");
    config_.hmac_key = key_;
    writeRecords(config_, 10);
    lines_ = readLines(config_.path);
    ASSERT_EQ(lines_.size(), 10u);
  }

  // Verifies the file after replacing its lines with `lines`.
  VerifyResult verifyLines(const std::vector<std::string>& lines) {
    writeLines(config_.path, lines);
    return verifyAuditFiles({config_.path}, key_);
  }

  // The problem, which must exist.
  std::string problemOf(const std::vector<std::string>& lines) {
    const VerifyResult result = verifyLines(lines);
    EXPECT_FALSE(result.ok);
    return result.problem;
  }

  std::string hashOf(const std::string& line) { return parseAuditRecord(line)->hash; }

  TempDir dir_;
  std::string key_;
  AuditConfig config_;
  std::vector<std::string> lines_;
};

class AuditVerifyHmacTest : public AuditVerifyTest {
 protected:
  AuditVerifyHmacTest() { key_ = "k3y-from-SWITCHYARD_AUDIT_KEY"; }
};

TEST_F(AuditVerifyTest, AnUntouchedLogVerifies) {
  const VerifyResult result = verifyAuditFiles({config_.path}, "");
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.records, 10u);
  EXPECT_TRUE(result.warnings.empty());
}

TEST_F(AuditVerifyTest, AModifiedFieldIsReportedByItsRecordNumber) {
  lines_[4] = replaced(lines_[4], "\"team\":\"team-a\"", "\"team\":\"team-b\"");
  EXPECT_EQ(problemOf(lines_),
            config_.path + ":5: record seq 5: hash does not match the record (modified)");
}

TEST_F(AuditVerifyTest, AModifiedRecordWithARecomputedHashBreaksTheNextLink) {
  lines_[4] = rehashed(replaced(lines_[4], "\"cost_usd\":0.000625", "\"cost_usd\":0.000001"));
  EXPECT_EQ(problemOf(lines_), config_.path +
                                   ":6: record seq 6: prev_hash does not match the hash of record "
                                   "seq 5 (record 5 was modified, or this record was inserted)");
}

TEST_F(AuditVerifyTest, ADeletedLineIsReportedAsAMissingRecord) {
  lines_.erase(lines_.begin() + 4);
  EXPECT_EQ(problemOf(lines_),
            config_.path + ":5: record seq 6: record seq 5 is missing (deleted)");
  lines_.erase(lines_.begin() + 4);
  EXPECT_EQ(problemOf(lines_),
            config_.path + ":5: record seq 7: records seq 5..6 are missing (deleted)");
}

TEST_F(AuditVerifyTest, SwappedLinesAreReportedAsReordered) {
  std::swap(lines_[3], lines_[4]);
  EXPECT_EQ(problemOf(lines_), config_.path +
                                   ":4: record seq 5: comes before record seq 4: records were "
                                   "reordered");
}

TEST_F(AuditVerifyTest, ARecordMovedFurtherDownIsReportedWhereItGoesMissing) {
  const std::string moved = lines_[1];
  lines_.erase(lines_.begin() + 1);
  lines_.insert(lines_.begin() + 6, moved);  // 1 3 4 5 6 7 2 8 ...
  EXPECT_EQ(problemOf(lines_),
            config_.path + ":2: record seq 3: record seq 2 is missing (deleted)");
}

TEST_F(AuditVerifyTest, AForgedLineWithItsOwnHashIsReportedAsInserted) {
  // The forger copies record 6, links it to record 5 and recomputes its hash (SHA-256 needs no
  // key): the forgery itself checks out, and the original record 6 after it repeats its seq.
  const std::string forged =
      rehashed(replaced(lines_[5], "\"outcome\":\"forwarded\"", "\"outcome\":\"blocked\""));
  lines_.insert(lines_.begin() + 5, forged);
  EXPECT_EQ(problemOf(lines_),
            config_.path +
                ":7: record seq 6: seq repeats the previous record's: a record was inserted or "
                "duplicated");
}

TEST_F(AuditVerifyTest, AForgedLineWithAWrongPrevHashIsReportedAtTheForgery) {
  lines_[5] = rehashed(replaced(lines_[5], hashOf(lines_[4]), hashOf(lines_[2])));
  EXPECT_EQ(problemOf(lines_), config_.path +
                                   ":6: record seq 6: prev_hash does not match the hash of record "
                                   "seq 5 (record 5 was modified, or this record was inserted)");
}

TEST_F(AuditVerifyTest, AChangedPrevHashIsReported) {
  lines_[6] = replaced(lines_[6], hashOf(lines_[5]), std::string(64, 'a'));
  EXPECT_EQ(problemOf(lines_),
            config_.path + ":7: record seq 7: hash does not match the record (modified)");
}

TEST_F(AuditVerifyTest, ATruncatedLastLineIsAWarningNotABreak) {
  std::string text;
  for (size_t i = 0; i < 9; ++i) {
    text += lines_[i] + "\n";
  }
  text += lines_[9].substr(0, lines_[9].size() / 2);
  writeFile(config_.path, text);
  const VerifyResult result = verifyAuditFiles({config_.path}, "");
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.records, 9u);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find(config_.path + ":10: truncated last line"), std::string::npos)
      << result.warnings[0];
}

TEST_F(AuditVerifyTest, TornLinesWithNoRecordAfterThemAreWarnings) {
  // A crash, then a crash again while the restart was writing its first batch.
  std::string text;
  for (const std::string& line : lines_) {
    text += line + "\n";
  }
  writeFile(config_.path, text + "{\"seq\":11,\"bo\n{\"seq\":11,\"boot_id\":\"7f");
  const VerifyResult result = verifyAuditFiles({config_.path}, "");
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.records, 10u);
  ASSERT_EQ(result.warnings.size(), 2u);
  EXPECT_NE(result.warnings[0].find(":11: unparsable line"), std::string::npos);
  EXPECT_NE(result.warnings[1].find(":12: truncated last line"), std::string::npos);
}

TEST_F(AuditVerifyTest, ATruncatedLineFollowedByRecordsThatDoNotLinkIsABreak) {
  lines_[4] = lines_[4].substr(0, 100);
  EXPECT_EQ(problemOf(lines_).substr(0, config_.path.size() + 21),
            config_.path + ":5: unparsable line (");
  EXPECT_NE(problemOf(lines_).find("after record seq 4"), std::string::npos);
}

TEST_F(AuditVerifyTest, TheChainIsCheckedAcrossFilesInTheOrderGiven) {
  const std::string first = dir_.file("part1");
  const std::string second = dir_.file("part2");
  writeLines(first, {lines_.begin(), lines_.begin() + 4});
  writeLines(second, {lines_.begin() + 4, lines_.end()});
  const VerifyResult result = verifyAuditFiles({first, second}, "");
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.records, 10u);
  EXPECT_EQ(verifyAuditFiles({second, first}, "").problem,
            first + ":1: record seq 1: seq goes back from 10: records were reordered");
  const VerifyResult tail_only = verifyAuditFiles({second}, "");
  EXPECT_TRUE(tail_only.ok) << tail_only.problem;
  ASSERT_EQ(tail_only.warnings.size(), 1u);
  EXPECT_NE(tail_only.warnings[0].find(":1: record seq 5: the chain starts here"),
            std::string::npos);
}

TEST_F(AuditVerifyTest, AnUnreadableFileIsAProblem) {
  const VerifyResult result = verifyAuditFiles({config_.path, dir_.file("nope")}, "");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, dir_.file("nope") + ": cannot open: No such file or directory");
}

TEST_F(AuditVerifyHmacTest, VerifiesOnlyWithTheRightKey) {
  EXPECT_TRUE(verifyAuditFiles({config_.path}, key_).ok);
  const VerifyResult wrong = verifyAuditFiles({config_.path}, "another-key");
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.problem, config_.path +
                               ":1: record seq 1: hash does not match the record (modified, or "
                               "a wrong or missing HMAC key)");
  EXPECT_FALSE(verifyAuditFiles({config_.path}, "").ok);
}

TEST_F(AuditVerifyHmacTest, AForgerWithoutTheKeyIsCaughtAtTheForgery) {
  const std::string forged =
      rehashed(replaced(lines_[5], "\"outcome\":\"forwarded\"", "\"outcome\":\"blocked\""));
  lines_.insert(lines_.begin() + 5, forged);
  EXPECT_EQ(problemOf(lines_),
            config_.path + ":6: record seq 6: hash does not match the record (modified)");
}

}  // namespace
}  // namespace sy::observability
