// The streaming redactor: values split across chunks at every byte position are caught exactly
// as in a one-shot scan, pseudonyms split anywhere are restored, and the hold-back stays bounded.
#include "policies/streaming_redactor.h"

#include <gtest/gtest.h>

#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using testing::defaultEngine;
using testing::fakeToken;
using testing::kAlnum;
using testing::kBase64Url;

DlpAction policyAction(const Finding& f) {
  if (f.detector_id == "email") {
    return DlpAction::Pseudonymize;
  }
  if (f.detector_id == "credit_card") {
    return DlpAction::Mask;
  }
  if (f.detector_class == DetectorClass::Injection) {
    return DlpAction::Allow;
  }
  return DlpAction::Redact;
}

std::string oneShot(std::string_view text) {
  auto findings = defaultEngine().scan(text);
  std::vector<DlpAction> actions;
  for (const auto& f : findings) {
    actions.push_back(policyAction(f));
  }
  Pseudonymizer p;
  return testing::numberTokens(applyActions(text, findings, actions, &p));
}

std::string streamed(const std::vector<std::string_view>& chunks) {
  Pseudonymizer p;
  StreamingRedactor redactor(&defaultEngine(), policyAction, &p);
  std::string out;
  for (auto chunk : chunks) {
    out += redactor.feed(chunk);
  }
  return testing::numberTokens(out + redactor.finish());
}

const std::string& sampleAnswer() {
  static const std::string text =
      "Sure! I updated the record for jane.doe@example.com: card 4111 1111 1111 1111, "
      "phone +1 415 555 0132, IBAN GB82 WEST 1234 5698 7654 32 and SSN 536-22-1234. "
      "The deploy token is ghp_" +
      fakeToken(kAlnum, 36, 50) +
      " and the database is "
      "postgres://svc:Qz7" +
      fakeToken(kAlnum, 10, 51) +
      "@db.internal:5432/main. "
      "Reach me at 10.20.30.40 if anything else is needed; jane.doe@example.com again.";
  return text;
}

TEST(StreamingRedactorTest, MatchesTheOneShotResultForEverySplitPosition) {
  const std::string& text = sampleAnswer();
  const std::string expected = oneShot(text);
  ASSERT_NE(expected, text);
  for (size_t split = 0; split <= text.size(); ++split) {
    std::string_view view(text);
    ASSERT_EQ(streamed({view.substr(0, split), view.substr(split)}), expected)
        << "split at byte " << split;
  }
}

TEST(StreamingRedactorTest, MatchesTheOneShotResultWhenFedByteByByte) {
  const std::string& text = sampleAnswer();
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) {
    bytes.push_back(std::string_view(text).substr(i, 1));
  }
  EXPECT_EQ(streamed(bytes), oneShot(text));
}

TEST(StreamingRedactorTest, MatchesTheOneShotResultForThreeWaySplitsAroundEachFinding) {
  const std::string& text = sampleAnswer();
  const std::string expected = oneShot(text);
  for (const auto& f : defaultEngine().scan(text)) {
    for (size_t a = f.start; a <= f.end; ++a) {
      size_t b = std::min(text.size(), a + 1 + (f.length() / 2));
      std::string_view view(text);
      ASSERT_EQ(streamed({view.substr(0, a), view.substr(a, b - a), view.substr(b)}), expected)
          << f.detector_id << " split at " << a << " and " << b;
    }
  }
}

TEST(StreamingRedactorTest, ReportsFindingsWithStreamOffsets) {
  const std::string& text = sampleAnswer();
  StreamingRedactor redactor(&defaultEngine(), policyAction, nullptr);
  for (size_t i = 0; i < text.size(); i += 13) {
    redactor.feed(std::string_view(text).substr(i, 13));
  }
  redactor.finish();
  auto expected = defaultEngine().scan(text);
  ASSERT_EQ(redactor.findings().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(redactor.findings()[i].detector_id, expected[i].detector_id);
    EXPECT_EQ(redactor.findings()[i].start, expected[i].start);
    EXPECT_EQ(redactor.findings()[i].end, expected[i].end);
  }
}

TEST(StreamingRedactorTest, RestoresPseudonymsSplitAtEveryPosition) {
  Pseudonymizer p;
  const std::string email = p.tokenFor("EMAIL", "jane.doe@example.com");
  const std::string phone = p.tokenFor("PHONE", "+1 415 555 0132");
  const std::string card = p.tokenFor("CREDIT_CARD", "4111 1111 1111 1111");
  // Look-alikes: a token of the old shape, a token-shaped string never issued, a cut-off token.
  const std::string answer = "Dear " + email + ", we will call " + phone + " about the card " +
                             card + ". <EMAIL_1>, <EMAIL_ZZZZZ>, " + email.substr(0, 9) +
                             " and <notatoken> stay as they are; " + email + "!";
  const std::string expected =
      "Dear jane.doe@example.com, we will call +1 415 555 0132 about the card 4111 1111 1111 "
      "1111. <EMAIL_1>, <EMAIL_ZZZZZ>, " +
      email.substr(0, 9) + " and <notatoken> stay as they are; jane.doe@example.com!";
  ASSERT_EQ(p.restore(answer), expected);
  for (const DlpEngine* engine : {static_cast<const DlpEngine*>(nullptr), &defaultEngine()}) {
    for (size_t split = 0; split <= answer.size(); ++split) {
      StreamingRedactor redactor(engine, policyAction, &p);
      std::string out = redactor.feed(std::string_view(answer).substr(0, split));
      out += redactor.feed(std::string_view(answer).substr(split));
      out += redactor.finish();
      ASSERT_EQ(out, expected) << "split at " << split << (engine ? " with engine" : "");
    }
    // Byte by byte.
    StreamingRedactor redactor(engine, policyAction, &p);
    std::string out;
    for (char c : answer) {
      out += redactor.feed(std::string_view(&c, 1));
    }
    out += redactor.finish();
    ASSERT_EQ(out, expected) << (engine ? "byte by byte with engine" : "byte by byte");
  }
}

TEST(StreamingRedactorTest, RestoreOnlyModeHoldsBackNoMoreThanAPartialToken) {
  Pseudonymizer p;
  const std::string token = p.tokenFor("EMAIL", "a@b.io");
  ASSERT_EQ(token.size(), 13u);  // "<EMAIL_" + 5 random characters + ">"
  StreamingRedactor redactor(nullptr, nullptr, &p);
  EXPECT_EQ(redactor.feed("Hello "), "Hello ");
  EXPECT_EQ(redactor.feed(token.substr(0, 4)), "");
  EXPECT_EQ(redactor.feed(token.substr(4) + " bye <"), "a@b.io bye ");
  EXPECT_EQ(redactor.finish(), "<");
}

TEST(StreamingRedactorTest, RedactsWhatAScanBoundLeftUnexamined) {
  DlpConfig config;
  config.max_matches_per_pattern = 2;
  auto engine = testing::makeEngine(config);
  const std::string text = "a@b.io c@d.io e@f.io g@h.io end";
  std::vector<std::string> recorded;
  StreamingRedactor redactor(
      engine.get(),
      [&](const Finding& f) {
        recorded.push_back(f.detector_id);
        return DlpAction::Allow;  // the policy would let everything through
      },
      nullptr);
  std::string out = redactor.feed(text);
  out += redactor.finish();
  // Everything from the first candidate past the bound to the end of the range it was in.
  EXPECT_EQ(out, "a@b.io c@d.io [SCAN_LIMIT]");
  EXPECT_NE(std::find(recorded.begin(), recorded.end(), kScanLimitDetectorId), recorded.end());
}

TEST(StreamingRedactorTest, BoundsTheHoldBackByTheWindow) {
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += "The quick brown fox jumps over the lazy dog. ";
  }
  StreamingRedactor redactor(&defaultEngine(), policyAction, nullptr);
  const size_t window = defaultEngine().streamWindowBytes();
  std::string out;
  for (size_t i = 0; i < text.size(); i += 7) {
    out += redactor.feed(std::string_view(text).substr(i, 7));
    ASSERT_LE(redactor.heldBytes(), window + 7);
  }
  out += redactor.finish();
  EXPECT_EQ(out, text);
  EXPECT_EQ(redactor.heldBytes(), 0u);
}

TEST(StreamingRedactorTest, RedactsTheWholeOfATokenLongerThanTheWindow) {
  std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJ" + fakeToken(kBase64Url, 1500, 60) + "." +
                    fakeToken(kBase64Url, 342, 61);
  std::string text = "token: " + jwt + " end of answer";
  StreamingRedactor redactor(&defaultEngine(), policyAction, nullptr);
  std::string out;
  for (size_t i = 0; i < text.size(); i += 40) {
    out += redactor.feed(std::string_view(text).substr(i, 40));
  }
  out += redactor.finish();
  EXPECT_EQ(out, "token: [JWT] end of answer");
  ASSERT_EQ(redactor.findings().size(), 1u);
  EXPECT_EQ(redactor.findings()[0].start, 7u);
  EXPECT_EQ(redactor.findings()[0].end, 7 + jwt.size());
}

TEST(StreamingRedactorTest, RedactsAPrivateKeyLongerThanTheWindowUpToItsEndMarker) {
  std::string body;
  for (int line = 0; line < 25; ++line) {
    body += fakeToken("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64,
                      70 + line) +
            "\n";
  }
  std::string key = "-----BEGIN PRIVATE KEY-----\n" + body + "-----END PRIVATE KEY-----";
  std::string text = "Here it is:\n" + key + "\nKeep it safe.";
  StreamingRedactor redactor(&defaultEngine(), policyAction, nullptr);
  std::string out;
  for (size_t i = 0; i < text.size(); i += 16) {
    out += redactor.feed(std::string_view(text).substr(i, 16));
  }
  out += redactor.finish();
  EXPECT_EQ(out, "Here it is:\n[PRIVATE_KEY]\nKeep it safe.");
}

TEST(StreamingRedactorTest, NeverSplitsAMultiByteCharacter) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "é€😀 ";
  }
  StreamingRedactor redactor(&defaultEngine(), policyAction, nullptr, {.window_bytes = 5});
  std::string out;
  for (size_t i = 0; i < text.size(); i += 3) {
    std::string piece = redactor.feed(std::string_view(text).substr(i, 3));
    ASSERT_TRUE(piece.empty() || (static_cast<unsigned char>(piece[0]) & 0xC0) != 0x80);
    out += piece;
  }
  out += redactor.finish();
  EXPECT_EQ(out, text);
}

TEST(StreamingRedactorTest, FinishIsIdempotent) {
  StreamingRedactor redactor(&defaultEngine(), policyAction, nullptr);
  EXPECT_EQ(redactor.feed("mail a@b.io"), "");
  EXPECT_EQ(redactor.finish(), "mail [EMAIL]");
  EXPECT_EQ(redactor.finish(), "");
}

}  // namespace
}  // namespace sy::policies
