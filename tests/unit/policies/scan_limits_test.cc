// Scan bounds fail closed: every bound that keeps a scan's work linear (candidates per pattern,
// decoded bytes, encoded run length, decoding depth) is reported when it is hit, with the part of
// the text it left unexamined; below the bounds nothing is reported.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "policies/blob_decoder.h"
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

  const std::string url =
      "https://x.example/?q=" + std::string(30, 'a') + "%40" + std::string(30, 'b');
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

// `levels` encodings of a card, each level wrapped in a few words: 1 is base64(card text).
std::string nested(int levels) {
  std::string text = base64("card 4111 1111 1111 1111 please");
  for (int level = 2; level <= levels; ++level) {
    text = base64("level " + std::to_string(level) + ": " + text + " ok");
  }
  return text;
}

TEST(ScanLimitsTest, BlobsInsideBlobsAreDecodedUpToTheLastLevel) {
  const auto& engine = testing::defaultEngine();
  for (int levels = 1; levels <= kMaxDecodeDepth; ++levels) {
    const std::string blob = nested(levels);
    const ScanResult result = engine.scanText("see " + blob);
    EXPECT_FALSE(result.limit.has_value()) << levels;
    ASSERT_EQ(result.findings.size(), 1u) << levels;
    EXPECT_EQ(result.findings[0].detector_id, "credit_card");
    EXPECT_TRUE(result.findings[0].decoded);
    EXPECT_GE(result.findings[0].start, 4u);
    EXPECT_LE(result.findings[0].end, 4 + blob.size());
  }
}

TEST(ScanLimitsTest, ABlobAtTheLastLevelHoldingAnotherReachesTheDecodingDepth) {
  const auto& engine = testing::defaultEngine();
  const std::string blob = nested(kMaxDecodeDepth + 1);
  const ScanResult result = engine.scanText("see " + blob);
  ASSERT_TRUE(result.limit.has_value());
  EXPECT_EQ(result.limit->bound, ScanBound::DecodeDepth);
  // The region is the last decoded level's blob, inside the outermost run.
  EXPECT_GE(result.limit->begin, 4u);
  EXPECT_LE(result.limit->end, 4 + blob.size());
  EXPECT_LT(result.limit->begin, result.limit->end);
  EXPECT_TRUE(result.findings.empty());

  // A last level holding only short or binary encoded-looking runs is not a bound.
  std::string inner = "notes kept as is, id c2VjcmV0 and a hash 9f86d081884c7d659a2feaa0c55ad015";
  for (int level = 1; level <= kMaxDecodeDepth; ++level) {
    inner = base64("level " + std::to_string(level) + ": " + inner + " ok");
  }
  EXPECT_FALSE(engine.scanText("see " + inner).limit.has_value());
}

TEST(ScanLimitsTest, ReadableRunsInsideADecodedBlobPastTheBudgetAreReported) {
  DlpConfig config;
  config.evasion.max_decoded_bytes = 100;
  auto engine = makeEngine(config);
  // The outer blob (about 85 bytes decoded) fits; the inner one (about 45 more) does not.
  const std::string inner = base64("mail jane.doe@example.com by noon, thanks a lot");
  const std::string outer = base64("forwarded: " + inner + " end");
  const std::string text = "see " + outer;
  const ScanResult result = engine->scanText(text);
  ASSERT_TRUE(result.limit.has_value());
  EXPECT_EQ(result.limit->bound, ScanBound::DecodedBytes);
  EXPECT_GT(result.limit->begin, 4u);  // the inner run's part of the outer one
  EXPECT_LT(result.limit->end, text.size());
}

std::string utf16le(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out += c;
    out += '\0';
  }
  return out;
}

std::string hexWith(std::string_view bytes, std::string_view separator) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) {
      out += separator;
    }
    out += kDigits[static_cast<unsigned char>(bytes[i]) >> 4];
    out += kDigits[static_cast<unsigned char>(bytes[i]) & 15];
  }
  return out;
}

TEST(ScanLimitsTest, WrappedUtf16AndHexDumpRunsLongerThanTheBoundAreReported) {
  DlpConfig config;
  config.evasion.max_blob_chars = 100;
  auto engine = makeEngine(config);
  const std::string letter =
      "Hello team, please charge my card 4111 1111 1111 1111 for the order and send the "
      "receipt to the usual address. Thanks, Sam.";
  // Every line is under the bound; the wrapped run as a whole is not.
  std::string wrapped;
  const std::string encoded = base64(letter);
  for (size_t i = 0; i < encoded.size(); i += 76) {
    wrapped += (i > 0 ? "\n" : "") + encoded.substr(i, 76);
  }
  for (const std::string& run : {wrapped, base64(utf16le(letter)), hexWith(letter, " ")}) {
    ASSERT_GT(run.size(), 100u);
    const std::string text = "data: " + run + " end";
    const ScanResult result = engine->scanText(text);
    ASSERT_TRUE(result.limit.has_value()) << run;
    EXPECT_EQ(result.limit->bound, ScanBound::BlobChars) << run;
    EXPECT_EQ(result.limit->begin, 6u) << run;
    EXPECT_EQ(result.limit->end, 6 + run.size()) << run;
  }
  // Under the bound, the same runs are decoded and the card is found.
  for (const std::string& run : {wrapped, base64(utf16le(letter)), hexWith(letter, " ")}) {
    const ScanResult result = testing::defaultEngine().scanText("data: " + run + " end");
    EXPECT_FALSE(result.limit.has_value()) << run;
    EXPECT_EQ(result.findings.size(), 1u) << run;
  }
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
