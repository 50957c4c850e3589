// Scan bounds fail closed: every bound that keeps a scan's work linear (candidates per pattern,
// decoded bytes, encoded run length, decoding depth) is reported when it is hit, with the part of
// the text it left unexamined; below the bounds nothing is reported.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "policies/dlp_engine.h"
#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using testing::makeEngine;

std::string base64(std::string_view bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string emails(size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i) {
    text += "u" + std::to_string(i) + "@example.com ";
  }
  return text;
}

TEST(ScanLimitsTest, MoreThan65536FindingsInOneTextReachTheDefaultBound) {
  const auto& engine = testing::defaultEngine();
  const std::string text = emails(65536 + 10);
  const ScanResult result = engine.scanText(text);
  ASSERT_TRUE(result.limit.has_value());
  EXPECT_EQ(result.limit->bound, ScanBound::MatchesPerPattern);
  EXPECT_EQ(result.limit->end, text.size());
  // Everything up to the bound was examined and found.
  EXPECT_EQ(result.findings.size(), 65536u);
  EXPECT_EQ(result.limit->begin, text.find("u65536@"));
}

TEST(ScanLimitsTest, ALoweredMatchBoundIsReportedFromTheFirstCandidatePastIt) {
  DlpConfig config;
  config.max_matches_per_pattern = 3;
  auto engine = makeEngine(config);
  const std::string text = "to a@b.io, c@d.io and e@f.io; then g@h.io and 4111 1111 1111 1111";
  const ScanResult result = engine->scanText(text);
  ASSERT_TRUE(result.limit.has_value());
  EXPECT_EQ(result.limit->bound, ScanBound::MatchesPerPattern);
  EXPECT_EQ(result.limit->begin, text.find("g@h.io"));
  // Other patterns keep their own count: the card is still found.
  EXPECT_EQ(testing::valuesOf(*engine, text, "credit_card").size(), 1u);

  const std::string three = "to a@b.io, c@d.io and e@f.io.";
  EXPECT_FALSE(engine->scanText(three).limit.has_value());
  EXPECT_EQ(engine->scanText(three).findings.size(), 3u);
}

TEST(ScanLimitsTest, DecodedTextPastTheBudgetIsReportedButBinaryIsNot) {
  DlpConfig config;
  config.evasion.max_decoded_bytes = 64;
  auto engine = makeEngine(config);
  const std::string first = base64("the first note is plain text and nothing else at all");
  const std::string second = base64("send it to jane.doe@example.com before noon, thanks");
  const std::string text = "a " + first + " b " + second + " c";
  const ScanResult result = engine->scanText(text);
  ASSERT_TRUE(result.limit.has_value());
  EXPECT_EQ(result.limit->bound, ScanBound::DecodedBytes);
  EXPECT_EQ(result.limit->begin, text.find(second));
  EXPECT_EQ(result.limit->end, text.find(second) + second.size());

  std::string binary;
  for (int i = 0; i < 60; ++i) {
    binary += static_cast<char>(0x80 + (i * 7) % 64);  // not UTF-8: no text to hide
  }
  EXPECT_FALSE(engine->scanText("a " + first + " b " + base64(binary) + " c").limit.has_value());
}

TEST(ScanLimitsTest, AnEncodedRunLongerThanTheBoundIsReportedWhenItHoldsText) {
  DlpConfig config;
  config.evasion.max_blob_chars = 40;
  auto engine = makeEngine(config);
  const std::string blob = base64("card 4111 1111 1111 1111 for the order, thanks a lot");
  ASSERT_GT(blob.size(), 40u);
  const std::string text = "data: " + blob + " end";
  const ScanResult result = engine->scanText(text);
  ASSERT_TRUE(result.limit.has_value());
  EXPECT_EQ(result.limit->bound, ScanBound::BlobChars);
  EXPECT_EQ(result.limit->begin, 6u);
  EXPECT_EQ(result.limit->end, 6 + blob.size());

  const std::string url = "https://x.example/?q=" + std::string(30, 'a') + "%40" +
                          std::string(30, 'b');
  const ScanResult escaped = engine->scanText(url);
  ASSERT_TRUE(escaped.limit.has_value());
  EXPECT_EQ(escaped.limit->bound, ScanBound::BlobChars);

  std::string binary;
  for (int i = 0; i < 60; ++i) {
    binary += static_cast<char>(0x80 + (i * 7) % 64);
  }
  EXPECT_FALSE(engine->scanText("data: " + base64(binary) + " end").limit.has_value());
  // Long runs of letters that decode to nothing readable are not encoded text.
  EXPECT_FALSE(engine->scanText(std::string(100, 'A')).limit.has_value());
}

TEST(ScanLimitsTest, LongEncodedRunsAreJudgedByAllTheirBytes) {
  DlpConfig config;
  config.evasion.max_blob_chars = 64;
  auto engine = makeEngine(config);
  std::string image = "\x89PNG\r\n\x1a\n";
  while (image.size() < 30000) {
    image += static_cast<char>(0x80 + image.size() % 64);
  }
  EXPECT_FALSE(engine->scanText("img " + base64(image)).limit.has_value());
  std::string text;
  while (text.size() < 30000) {
    text += "a long note that hides a card 4111 1111 1111 1111 somewhere. ";
  }
  const ScanResult result = engine->scanText("doc " + base64(text));
  ASSERT_TRUE(result.limit.has_value());
  EXPECT_EQ(result.limit->bound, ScanBound::BlobChars);
  // Readable text after a readable prefix, and binary after a readable prefix.
  EXPECT_FALSE(engine->scanText("x " + base64(text.substr(0, 2000) + image)).limit.has_value());
}

TEST(ScanLimitsTest, ABlobInsideABlobReachesTheDecodingDepth) {
  const auto& engine = testing::defaultEngine();
  const std::string inner = base64("card 4111 1111 1111 1111 please");
  const std::string twice = base64("here it is: " + inner + " ok");
  const ScanResult result = engine.scanText("see " + twice);
  ASSERT_TRUE(result.limit.has_value());
  EXPECT_EQ(result.limit->bound, ScanBound::DecodeDepth);
  EXPECT_EQ(result.limit->begin, 4u);
  EXPECT_EQ(result.limit->end, 4 + twice.size());

  const ScanResult once = engine.scanText("see " + inner);
  EXPECT_FALSE(once.limit.has_value());
  EXPECT_EQ(once.findings.size(), 1u);
}

TEST(ScanLimitsTest, OrdinaryTextReachesNoBound) {
  const auto& engine = testing::defaultEngine();
  EXPECT_FALSE(engine.scanText("").limit.has_value());
  std::string prose;
  while (prose.size() < (1 << 20)) {
    prose += "The quick brown fox jumps over the lazy dog, 42 times a day. ";
  }
  EXPECT_FALSE(engine.scanText(prose).limit.has_value());
  // (A megabyte of '7' is not ordinary: as hex it decodes to "www...", readable text longer
  // than max_blob_chars, so it does reach a bound.)
  EXPECT_FALSE(engine.scanText("Mail jane@example.com the report, card 4111 1111 1111 1111.")
                   .limit.has_value());
}

TEST(ScanLimitsTest, NamesEveryBound) {
  EXPECT_EQ(toString(ScanBound::MatchesPerPattern), "matches per pattern");
  EXPECT_EQ(toString(ScanBound::DecodedBytes), "decoded bytes");
  EXPECT_EQ(toString(ScanBound::BlobChars), "encoded run length");
  EXPECT_EQ(toString(ScanBound::DecodeDepth), "decoding depth");
  EXPECT_EQ(toString(ScanBound::TextBytes), "text size");
}

}  // namespace
}  // namespace sy::policies
