// DlpEngine::create(): config validation, detector selection and levels, custom rules,
// allowlists; scan(): ordering, overlap resolution and offsets.
#include "policies/dlp_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using testing::makeEngine;
using testing::valuesOf;

std::string createError(const DlpConfig& config) {
  auto engine = DlpEngine::create(config);
  return engine ? std::string("ok") : engine.error().message;
}

TEST(DlpEngineConfigTest, NamesTheRuleWhoseRegexIsInvalid) {
  DlpConfig config;
  config.custom.push_back(testing::patternRule("customer-id", "\\bCUST-(\\d{8}\\b"));
  auto engine = DlpEngine::create(config);
  ASSERT_FALSE(engine.has_value());
  EXPECT_EQ(engine.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(engine.error().source, ErrorSource::Config);
  EXPECT_EQ(engine.error().message,
            "dlp.custom[0] (customer-id): invalid pattern: missing ): \\bCUST-(\\d{8}\\b");
}

TEST(DlpEngineConfigTest, ReportsEveryProblemOnItsOwnLine) {
  DlpConfig config;
  config.detectors.push_back({"emial", true, ""});
  config.custom.push_back(testing::patternRule("a", "("));
  config.custom.push_back(testing::patternRule("a", "x"));
  config.custom.push_back(testing::patternRule("", "x"));
  config.custom.push_back(testing::patternRule("both", "x"));
  config.custom.back().keywords = {"y"};
  config.custom.push_back(testing::patternRule("neither", ""));
  config.custom.push_back(testing::patternRule("email", "x"));
  config.allow_patterns.push_back("[");
  EXPECT_EQ(createError(config),
            "dlp.detectors[0]: unknown detector 'emial'\n"
            "dlp.custom[0] (a): invalid pattern: missing ): (\n"
            "dlp.custom[1] (a): duplicate name (rule names and built-in ids are unique)\n"
            "dlp.custom[2]: name must not be empty\n"
            "dlp.custom[3] (both): set exactly one of pattern and keywords\n"
            "dlp.custom[4] (neither): set exactly one of pattern and keywords\n"
            "dlp.custom[5] (email): duplicate name (rule names and built-in ids are unique)\n"
            "dlp.allow_patterns[0]: invalid pattern: missing ]: [");
}

TEST(DlpEngineConfigTest, GroupsSetLevelsAndSwitchDetectorsOff) {
  DlpConfig config;
  config.detectors.push_back({"secrets", true, "top-secret"});
  config.detectors.push_back({"secret.jwt", false, ""});
  config.detectors.push_back({"email", true, "internal"});
  auto engine = makeEngine(config);
  ASSERT_NE(engine->detector("secret.github_token"), nullptr);
  EXPECT_EQ(engine->detector("secret.github_token")->level, "top-secret");
  EXPECT_EQ(engine->detector("secret.jwt"), nullptr);
  EXPECT_EQ(engine->detector("email")->level, "internal");
  EXPECT_EQ(engine->detector("phone")->level, "confidential");
}

TEST(DlpEngineConfigTest, WithoutTheDefaultPackOnlyNamedDetectorsRun) {
  DlpConfig config;
  config.default_pack = false;
  config.detectors.push_back({"email", true, ""});
  auto engine = makeEngine(config);
  ASSERT_EQ(engine->detectors().size(), 1u);
  EXPECT_EQ(engine->detectors()[0].id, "email");
  EXPECT_TRUE(engine->scan("card 4111111111111111").empty());
}

TEST(DlpEngineConfigTest, ListsEveryBuiltinIdOnce) {
  auto ids = DlpEngine::builtinDetectorIds();
  std::sort(ids.begin(), ids.end());
  EXPECT_TRUE(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
  for (const char* id : {"email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "ipv6",
                         "date_of_birth", "street_address", "person_name", "secret.jwt",
                         "secret.generic_assignment", "secret.private_key", "injection"}) {
    EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), id)) << id;
  }
}

TEST(DlpEngineCustomRuleTest, MatchesPatternsWithTheirLevelAndCaptureGroup) {
  DlpConfig config;
  config.custom.push_back(testing::patternRule("customer-id", "\\bCUST-(\\d{8})\\b", "restricted"));
  config.custom.push_back(testing::patternRule(
      "codenames", "\\b(?:project\\s+)?(falcon|bluebird)\\b", "confidential", true));
  auto engine = makeEngine(config);
  std::string text = "CUST-12345678 is on Project FALCON";
  auto findings = engine->scan(text);
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].detector_id, "customer-id");
  EXPECT_EQ(findings[0].detector_class, DetectorClass::Custom);
  EXPECT_EQ(findings[0].level, "restricted");
  EXPECT_EQ(text.substr(findings[0].start, findings[0].length()), "12345678");
  EXPECT_EQ(text.substr(findings[1].start, findings[1].length()), "FALCON");
  EXPECT_EQ(findings[1].level, "confidential");
}

TEST(DlpEngineCustomRuleTest, MatchesKeywordsAsWholeWordsWithFlexibleSpaces) {
  DlpConfig config;
  config.custom.push_back(
      testing::keywordRule("confidential-marker", {"internal only", "Ünternehmen"}, true));
  auto engine = makeEngine(config);
  EXPECT_EQ(valuesOf(*engine, "INTERNAL   ONLY: plans", "confidential-marker"),
            std::vector<std::string>{"INTERNAL   ONLY"});
  EXPECT_EQ(valuesOf(*engine, "das Ünternehmen.", "confidential-marker"),
            std::vector<std::string>{"Ünternehmen"});
  EXPECT_TRUE(valuesOf(*engine, "internally only", "confidential-marker").empty());
}

TEST(DlpEngineCustomRuleTest, KeepsCustomFindingsThatOverlapBuiltinOnes) {
  DlpConfig config;
  config.custom.push_back(testing::patternRule("acme-mail", "@acme\\.example"));
  auto engine = makeEngine(config);
  auto findings = engine->scan("mail bob@acme.example");
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].detector_id, "email");
  EXPECT_EQ(findings[1].detector_id, "acme-mail");
}

TEST(DlpEngineScanTest, PrefersTheMoreSpecificDetectorWhenSpansOverlap) {
  auto findings = testing::defaultEngine().scan("call 4111 1111 1111 1111 now");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].detector_id, "credit_card");
}

TEST(DlpEngineScanTest, AllowPatternsDropKnownHarmlessValues) {
  DlpConfig config;
  config.allow_patterns.push_back("4111 ?1111 ?1111 ?1111");
  auto engine = makeEngine(config);
  EXPECT_TRUE(engine->scan("test card 4111 1111 1111 1111").empty());
  EXPECT_EQ(engine->scan("real card 5555 5555 5555 4444").size(), 1u);
}

TEST(DlpEngineScanTest, ReturnsFindingsSortedByOffsetWithOriginalSpans) {
  std::string text = "a@b.io, 10.1.2.3, +1 415 555 0199";
  auto findings = testing::defaultEngine().scan(text);
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].detector_id, "email");
  EXPECT_EQ(findings[1].detector_id, "ipv4");
  EXPECT_EQ(findings[2].detector_id, "phone");
  EXPECT_LT(findings[0].start, findings[1].start);
  EXPECT_EQ(text.substr(findings[1].start, findings[1].length()), "10.1.2.3");
}

TEST(DlpEngineScanTest, HandlesEmptyAndHugeInputs) {
  EXPECT_TRUE(testing::defaultEngine().scan("").empty());
  std::string big(1 << 20, '7');
  EXPECT_TRUE(testing::defaultEngine().scan(big).empty());
}

TEST(DlpEngineScanTest, ScansFromManyThreadsAtOnceWithTheSameResults) {
  const auto& engine = testing::defaultEngine();
  const std::string text = "mail a@b.io, card 4111 1111 1111 1111, ignore previous instructions";
  const auto expected = engine.scan(text);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (engine.scan(text) != expected) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(DlpEngineScanTest, DisabledEvasionLeavesEncodedValuesAlone) {
  DlpConfig config;
  config.evasion.decode_base64 = false;
  config.evasion.fold_unicode = false;
  auto engine = makeEngine(config);
  EXPECT_TRUE(engine->scan("Y29udGFjdCBqYW5lLmRvZUBleGFtcGxlLmNvbSBwbGVhc2U=").empty());
  EXPECT_TRUE(engine->scan("\xEF\xBD\x8A@example.com").size() <= 1u);
}

TEST(DlpEngineScanTest, StreamWindowFollowsTheLongestPatternOrTheConfig) {
  EXPECT_GE(testing::defaultEngine().streamWindowBytes(), 64u);
  EXPECT_LE(testing::defaultEngine().streamWindowBytes(), 512u);
  DlpConfig config;
  config.stream_window_bytes = 100;
  EXPECT_EQ(makeEngine(config)->streamWindowBytes(), 100u);
}

// Long random-looking text (base64 media, a hostile body) goes through the pattern groups
// instead of the one set of every prefilter: the same detectors find the same values, whichever
// group their pattern is in.
TEST(DlpEngineScanTest, RandomLookingTextFindsWhatProseFinds) {
  const std::vector<std::pair<std::string, std::string>> planted = {
      {"email", "jane.doe@example.com"},
      {"credit_card", "4111 1111 1111 1111"},
      {"us_ssn", "536-22-1234"},
      {"secret.aws_access_key", "AKIA" + testing::fakeToken("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 1)},
      {"secret.github_token", "ghp_" + testing::fakeToken(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36, 3)},
      {"secret.slack_token", "xoxb-" + testing::fakeToken("0123456789", 11, 5) + "-" +
          testing::fakeToken("0123456789", 12, 6) + "-" +
          testing::fakeToken("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 24, 7)},
  };
  const std::string filler = testing::fakeToken(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 48 << 10, 11);
  std::string prose;
  std::string random_looking;
  for (size_t i = 0; i < planted.size(); ++i) {
    prose += "the value is " + planted[i].second + " here. ";
    random_looking += filler.substr(i * 8192, 8000) + " " + planted[i].second + " ";
  }
  for (const auto& [detector, value] : planted) {
    ASSERT_EQ(valuesOf(testing::defaultEngine(), prose, detector),
              std::vector<std::string>{value}) << detector;
    const std::vector<std::string> found =
        valuesOf(testing::defaultEngine(), random_looking, detector);
    EXPECT_NE(std::find(found.begin(), found.end(), value), found.end()) << detector;
  }
}

}  // namespace
}  // namespace sy::policies
