// The canonical audit line: key order, number formats, escaping, hashing, and parsing back.
#include "observability/audit_record.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cmath>
#include <limits>

#include "tests/unit/observability/audit_test_support.h"

namespace sy::observability {
namespace {

using testing::sampleRecord;

AuditRecord chained(AuditRecord record, uint64_t seq) {
  record.seq = seq;
  record.boot_id = "0123456789abcdef0123456789abcdef";
  record.prev_hash = std::string(kAuditGenesisHash);
  return record;
}

TEST(AuditRecordTest, CanonicalLineHasFixedKeyOrderNoWhitespaceAndFixedNumberFormats) {
  const std::string text = canonicalAuditText(chained(sampleRecord(2), 7));
  EXPECT_EQ(text,
            "{\"seq\":7,\"boot_id\":\"0123456789abcdef0123456789abcdef\",\"phase\":\"decision\","
            "\"time\":\"2026-01-02T03:04:05.678Z\",\"policy_version\":\"3f2a9c0d1e4b5a67\","
            "\"request_id\":\"req-2\",\"key_id\":\"analytics-batch\",\"team\":\"team-a\","
            "\"endpoint\":\"chat\",\"requested_model\":\"auto\","
            "\"model\":\"llama-3.1-8b\",\"tier\":\"local\",\"backend\":\"llama-local\",\"rule\":"
            "\"pii-stays-local\",\"sensitivity\":\"confidential\",\"difficulty\":{\"score\":0.2500,"
            "\"label\":\"easy\"},\"findings\":[{\"detector\":\"pii.email\",\"count\":2,\"action\":"
            "\"redact\"}],\"outcome\":\"forwarded\",\"status\":0,\"tokens\":{\"prompt\":102,"
            "\"completion\":22},\"cost_usd\":0.000250,\"latency_ms\":14.500,\"prev_hash\":\"" +
                std::string(kAuditGenesisHash) + "\"}");
}

TEST(AuditRecordTest, AbsentScoreAndNonFiniteNumbersAreNull) {
  AuditRecord record = chained(sampleRecord(1), 1);
  record.difficulty.score.reset();
  record.cost_usd = std::numeric_limits<double>::quiet_NaN();
  record.latency_ms = std::numeric_limits<double>::infinity();
  const std::string text = canonicalAuditText(record);
  EXPECT_NE(text.find("\"difficulty\":{\"score\":null,"), std::string::npos) << text;
  EXPECT_NE(text.find("\"cost_usd\":null,\"latency_ms\":null,"), std::string::npos) << text;
  record.cost_usd = -0.0;
  EXPECT_NE(canonicalAuditText(record).find("\"cost_usd\":0.000000,"), std::string::npos);
}

TEST(AuditRecordTest, EscapesStringsAndReplacesInvalidUtf8SoTheLineParses) {
  AuditRecord record = chained(sampleRecord(1), 1);
  record.requested_model = "a\"b\\c\nd\x01 \xc3\xa9 \xff\xfe end";
  const std::string text = canonicalAuditText(record);
  EXPECT_NE(text.find(R"("requested_model":"a\"b\\c\nd\u0001 é \ufffd\ufffd end")"),
            std::string::npos)
      << text;
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(AuditRecordTest, HashIsSha256OrHmacSha256InLowercaseHex) {
  EXPECT_EQ(auditHash("abc", ""),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(auditHash("what do ya want for nothing?", "Jefe"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AuditRecordTest, SplitCutsTheFinalHashMemberAndGivesBackTheHashedBytes) {
  const std::string text = canonicalAuditText(chained(sampleRecord(3), 3));
  const std::string hash = auditHash(text, "");
  const std::string line = withAuditHash(text, hash);
  ASSERT_TRUE(line.ends_with(",\"hash\":\"" + hash + "\"}"));
  const auto split = splitAuditLine(line);
  ASSERT_TRUE(split.has_value()) << split.error().message;
  EXPECT_EQ(split->hashed, text);
  EXPECT_EQ(split->hash, hash);
  EXPECT_FALSE(splitAuditLine(text).has_value());
  EXPECT_FALSE(splitAuditLine(testing::replaced(line, hash, std::string(64, 'X'))).has_value());
}

TEST(AuditRecordTest, ParseReadsBackEveryField) {
  AuditRecord original = chained(sampleRecord(5), 42);
  original.findings.push_back({"secret.aws_key", 1, "block"});
  const std::string text = canonicalAuditText(original);
  original.hash = auditHash(text, "");
  const auto parsed = parseAuditRecord(withAuditHash(text, original.hash));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->seq, 42u);
  EXPECT_EQ(parsed->boot_id, original.boot_id);
  EXPECT_EQ(parsed->prev_hash, original.prev_hash);
  EXPECT_EQ(parsed->hash, original.hash);
  EXPECT_EQ(parsed->request_id, "req-5");
  EXPECT_EQ(parsed->rule, "pii-stays-local");
  ASSERT_EQ(parsed->findings.size(), 2u);
  EXPECT_EQ(parsed->findings[1].detector, "secret.aws_key");
  EXPECT_EQ(parsed->findings[1].action, "block");
  EXPECT_EQ(parsed->tokens.prompt, 105u);
  EXPECT_EQ(parsed->status, 200u);
  EXPECT_DOUBLE_EQ(*parsed->difficulty.score, 0.25);
  EXPECT_DOUBLE_EQ(parsed->latency_ms, 17.5);
  // Serializing the parsed record gives the same bytes back.
  EXPECT_EQ(canonicalAuditText(*parsed), text);
}

TEST(AuditRecordTest, DifficultyDomainIsWrittenOnlyWhenClassifiedAndReadBack) {
  AuditRecord record = chained(sampleRecord(1), 1);
  EXPECT_EQ(canonicalAuditText(record).find("\"domain\""), std::string::npos);  // as before
  record.difficulty.domain = "legal";
  const std::string text = canonicalAuditText(record);
  EXPECT_NE(text.find("\"difficulty\":{\"score\":0.2500,\"label\":\"easy\",\"domain\":\"legal\"}"),
            std::string::npos)
      << text;
  const auto parsed = parseAuditRecord(withAuditHash(text, auditHash(text, "")));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->difficulty.domain, "legal");
  EXPECT_EQ(canonicalAuditText(*parsed), text);
}

TEST(AuditRecordTest, CachedPromptTokensAreWrittenOnlyWhenThereWereAnyAndReadBack) {
  AuditRecord record = chained(sampleRecord(1), 1);
  record.tokens = {120, 30, 0};
  EXPECT_EQ(canonicalAuditText(record).find("\"cached\""), std::string::npos);
  record.tokens.cached = 100;
  const std::string text = canonicalAuditText(record);
  EXPECT_NE(text.find("\"tokens\":{\"prompt\":120,\"completion\":30,\"cached\":100}"),
            std::string::npos)
      << text;
  const auto parsed = parseAuditRecord(withAuditHash(text, auditHash(text, "")));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->tokens.cached, 100u);
  EXPECT_EQ(canonicalAuditText(*parsed), text);
}

TEST(AuditRecordTest, ClientRequestIdFollowsRequestIdOnlyWhenSetAndReadsBack) {
  AuditRecord record = chained(sampleRecord(1), 1);
  EXPECT_EQ(canonicalAuditText(record).find("client_request_id"), std::string::npos);
  record.client_request_id = "client-7";
  const std::string text = canonicalAuditText(record);
  EXPECT_NE(text.find("\"request_id\":\"req-1\",\"client_request_id\":\"client-7\",\"key_id\""),
            std::string::npos)
      << text;
  const auto parsed = parseAuditRecord(withAuditHash(text, auditHash(text, "")));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->client_request_id, "client-7");
  EXPECT_EQ(canonicalAuditText(*parsed), text);
}

TEST(AuditRecordTest, ReloadRecordNamesBothPolicyVersionsAndItsTriggerAndReadsBack) {
  const AuditRecord record = chained(sampleRecord(7), 7);
  const std::string text = canonicalAuditText(record);
  EXPECT_NE(text.find("\"phase\":\"reload\",\"time\":\"2026-01-02T03:04:05.678Z\","
                      "\"policy_version\":\"3f2a9c0d1e4b5a67\",\"previous_policy_version\":"
                      "\"0a1b2c3d4e5f6789\",\"trigger\":\"file\",\"request_id\":\"\""),
            std::string::npos)
      << text;
  const auto parsed = parseAuditRecord(withAuditHash(text, auditHash(text, "")));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->policy_version, "3f2a9c0d1e4b5a67");
  EXPECT_EQ(parsed->previous_policy_version, "0a1b2c3d4e5f6789");
  EXPECT_EQ(parsed->trigger, "file");
  EXPECT_EQ(canonicalAuditText(*parsed), text);
}

TEST(AuditRecordTest, RejectedReloadRecordCarriesItsErrorSummaryAfterTheTrigger) {
  AuditRecord record = chained(sampleRecord(7), 7);
  record.previous_policy_version.clear();
  record.outcome = "rejected";
  record.error = "1 error; first: policy.yaml:3:9: routing[0].route: unknown tier 'x'";
  const std::string text = canonicalAuditText(record);
  EXPECT_NE(text.find("\"trigger\":\"file\",\"error\":\"1 error; first: policy.yaml:3:9: "
                      "routing[0].route: unknown tier 'x'\",\"request_id\""),
            std::string::npos)
      << text;
  const auto parsed = parseAuditRecord(withAuditHash(text, auditHash(text, "")));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->error, record.error);
  EXPECT_EQ(canonicalAuditText(*parsed), text);
}

TEST(AuditRecordTest, SurfaceAndShadowAreWrittenOnlyWhenSetAndReadBack) {
  AuditRecord record = chained(sampleRecord(3), 3);
  const std::string plain = canonicalAuditText(record);
  EXPECT_EQ(plain.find("surface"), std::string::npos);
  EXPECT_EQ(plain.find("shadow"), std::string::npos);
  record.surface = "anthropic";
  record.shadow = AuditRecord::Shadow{"0123456789abcdef", "block", 403, "", "", "no-pii-out",
                                      "confidential", {"action", "status", "rule"}};
  const std::string text = canonicalAuditText(record);
  EXPECT_NE(text.find("\"endpoint\":\"chat\",\"surface\":\"anthropic\","), std::string::npos)
      << text;
  EXPECT_NE(text.find(",\"shadow\":{\"policy_version\":\"0123456789abcdef\",\"action\":"
                      "\"block\",\"status\":403,\"tier\":\"\",\"backend\":\"\",\"rule\":"
                      "\"no-pii-out\",\"sensitivity\":\"confidential\",\"differs\":[\"action\","
                      "\"status\",\"rule\"]},\"prev_hash\""),
            std::string::npos)
      << text;
  const auto parsed = parseAuditRecord(withAuditHash(text, auditHash(text, "")));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->surface, "anthropic");
  ASSERT_TRUE(parsed->shadow.has_value());
  EXPECT_EQ(parsed->shadow->rule, "no-pii-out");
  EXPECT_EQ(parsed->shadow->status, 403u);
  EXPECT_EQ(parsed->shadow->differs.size(), 3u);
  EXPECT_EQ(canonicalAuditText(*parsed), text);
}

TEST(AuditRecordTest, RecordsWithoutAPolicyVersionKeepTheirOlderLineUnchanged) {
  AuditRecord record = chained(sampleRecord(2), 2);
  record.policy_version.clear();
  const std::string text = canonicalAuditText(record);
  EXPECT_EQ(text.find("policy_version"), std::string::npos);
  EXPECT_NE(text.find("\"time\":\"2026-01-02T03:04:05.678Z\",\"request_id\""), std::string::npos);
  EXPECT_EQ(text.find("trigger"), std::string::npos);
}

TEST(AuditRecordTest, ParseNamesTheMissingOrMistypedMember) {
  const auto no_hash = parseAuditRecord(R"({"seq":1,"boot_id":"b","prev_hash":"p"})");
  ASSERT_FALSE(no_hash.has_value());
  EXPECT_EQ(no_hash.error().message, "hash: missing");
  const auto bad_tokens = parseAuditRecord(
      R"({"seq":1,"boot_id":"b","prev_hash":"p","hash":"h","tokens":{"prompt":-1}})");
  ASSERT_FALSE(bad_tokens.has_value());
  EXPECT_EQ(bad_tokens.error().message, "tokens.prompt: not an unsigned integer");
  EXPECT_FALSE(parseAuditRecord("{\"seq\":1,").has_value());
  EXPECT_FALSE(parseAuditRecord("[1]").has_value());
}

TEST(AuditRecordTest, TimeIsRfc3339UtcWithMillisecondsAndParsesBack) {
  const auto time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1767323045678));
  EXPECT_EQ(formatAuditTime(time), "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(parseAuditTime("2026-01-02T03:04:05.678Z"), time);
  EXPECT_FALSE(parseAuditTime("2026-01-02T03:04:05Z").has_value());
  EXPECT_FALSE(parseAuditTime("2026-01-02T03:04:05.678+01:00").has_value());
}

}  // namespace
}  // namespace sy::observability
