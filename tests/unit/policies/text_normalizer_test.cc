// Normalization before matching and the map back to original offsets; encoded-blob decoding.
#include "policies/text_normalizer.h"

#include <gtest/gtest.h>

#include "policies/blob_decoder.h"
#include "policies/unicode_fold.h"

namespace sy::policies {
namespace {

TEST(TextNormalizerTest, LeavesPureAsciiAloneWithoutCopying) {
  std::string text = "plain ascii 123";
  NormalizedText n = normalizeText(text, {});
  EXPECT_TRUE(n.identity());
  EXPECT_EQ(n.text().data(), text.data());
  EXPECT_EQ(n.toOriginal(6, 11), (std::pair<size_t, size_t>{6, 11}));
}

TEST(TextNormalizerTest, FoldsFullWidthAndMapsEachCharacterToItsBytes) {
  std::string text = "a\xEF\xBC\x91\xEF\xBC\x92z";  // a１２z
  NormalizedText n = normalizeText(text, {});
  EXPECT_EQ(n.text(), "a12z");
  EXPECT_EQ(n.toOriginal(1, 3), (std::pair<size_t, size_t>{1, 7}));
  EXPECT_EQ(n.toOriginal(3, 4), (std::pair<size_t, size_t>{7, 8}));
}

TEST(TextNormalizerTest, StripsZeroWidthAndBidiControlsButKeepsThemInsideSpans) {
  std::string text =
      "\xE2\x80\x8F"
      "ab\xE2\x80\x8B"
      "cd\xE2\x80\xAE";  // RLM ab ZWSP cd RLO
  NormalizedText n = normalizeText(text, {});
  EXPECT_EQ(n.text(), "abcd");
  EXPECT_EQ(n.toOriginal(0, 4), (std::pair<size_t, size_t>{3, 10}));  // RLO at the edge: out
}

TEST(TextNormalizerTest, FoldsOtherScriptDigitsSpacesAndDashes) {
  // Arabic-Indic 4, no-break space, en dash, mathematical bold 7
  std::string text = "\xD9\xA4\xC2\xA0\xE2\x80\x93\xF0\x9D\x9F\x95";
  EXPECT_EQ(normalizeText(text, {}).text(), "4 -7");
}

TEST(TextNormalizerTest, FoldsEveryScriptsDigitsIncludingSuperscriptsAndSubscripts) {
  // superscript 4 1, subscript 2, Devanagari 7, Tamil 3, Myanmar 9, circled 5
  std::string text =
      "\xE2\x81\xB4\xC2\xB9\xE2\x82\x82\xE0\xA5\xAD\xE0\xAF\xA9\xE1\x81\x89\xE2\x91\xA4";
  NormalizedText n = normalizeText(text, {});
  EXPECT_EQ(n.text(), "4127395");
  EXPECT_EQ(n.toOriginal(1, 2), (std::pair<size_t, size_t>{3, 5}));  // the 2-byte superscript 1
}

TEST(TextNormalizerTest, FoldsConfusableLettersKeepingTheirCase) {
  // Cyrillic A K (capital) I (capital, looks like 'I' and 'l'), Cyrillic small er, Greek omicron
  std::string text =
      "\xD0\x90\xD0\x9A\xD0\x86"
      "A \xD1\x80\xCE\xBF";
  EXPECT_EQ(normalizeText(text, {}).text(), "AKIA po");
  EXPECT_GT(foldTable().size(), 1000u);
}

TEST(TextNormalizerTest, LeavesLettersWithoutAnAsciiLookAlikeAndHanNumeralsAlone) {
  std::string text = "\xD0\xB6 \xE4\xB8\x89 \xC3\xA9";  // Cyrillic zhe, Han three, e-acute
  EXPECT_EQ(normalizeText(text, {}).text(), text);
}

TEST(TextNormalizerTest, KeepsOtherCharactersAndInvalidBytesAsTheyAre) {
  std::string text = "caf\xC3\xA9 \xFF\xFE ok";
  NormalizedText n = normalizeText(text, {});
  EXPECT_EQ(n.text(), text);
  EXPECT_EQ(n.toOriginal(3, 5), (std::pair<size_t, size_t>{3, 5}));
}

TEST(TextNormalizerTest, CanBeSwitchedOff) {
  std::string text = "\xEF\xBC\x91";
  EXPECT_TRUE(normalizeText(text, {.fold_unicode = false, .strip_invisible = false}).identity());
}

TEST(TextNormalizerTest, FindsHiddenCharacterRuns) {
  std::string zw3 = "\xE2\x80\x8B\xE2\x80\x8C\xE2\x80\x8D";
  auto runs = findHiddenCharacterRuns("x" + zw3 +
                                      "y\xE2\x80\x8B"
                                      "z");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0], (std::pair<size_t, size_t>{1, 10}));
}

TEST(BlobDecoderTest, DecodesReadableBase64AndMapsBytesToCharacters) {
  EvasionConfig config;
  std::string text = "x aGVsbG8gd29ybGQgYWdhaW4= y";  // "hello world again"
  auto blobs = findEncodedBlobs(text, config, 1 << 20);
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_EQ(blobs[0].kind, BlobKind::Base64);
  EXPECT_EQ(blobs[0].text, "hello world again");
  EXPECT_EQ(blobs[0].begin, 2u);
  EXPECT_EQ(blobs[0].src_begin[0], 2u);
  EXPECT_EQ(blobs[0].src_end[2], 6u);  // "hel" <- "aGVs"
}

TEST(BlobDecoderTest, SkipsBinaryAndShortRuns) {
  EvasionConfig config;
  EXPECT_TRUE(findEncodedBlobs("c2VjcmV0", config, 1 << 20).empty());  // too short
  EXPECT_TRUE(findEncodedBlobs("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", config, 1 << 20)
                  .empty());  // a hash: decodes to binary
  EXPECT_TRUE(findEncodedBlobs("internationalization", config, 1 << 20).empty());
}

TEST(BlobDecoderTest, DecodesHexEscapedHexAndUrlEncoding) {
  EvasionConfig config;
  auto hex = findEncodedBlobs("68656c6c6f20776f726c6421", config, 1 << 20);
  ASSERT_EQ(hex.size(), 1u);
  EXPECT_EQ(hex[0].text, "hello world!");
  auto escaped = findEncodedBlobs("\\x68\\x65\\x6c\\x6c\\x6f\\x21", config, 1 << 20);
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_EQ(escaped[0].text, "hello!");
  auto url = findEncodedBlobs("go to a%20b%40c.d now", config, 1 << 20);
  ASSERT_EQ(url.size(), 1u);
  EXPECT_EQ(url[0].text, "a b@c.d");
  EXPECT_EQ(url[0].src_end[1], 10u);  // ' ' <- "%20"
}

TEST(BlobDecoderTest, JoinsTheLinesOfAWrappedRunAndMapsBytesAcrossLineBreaks) {
  EvasionConfig config;
  // base64("hello world again, and again!") wrapped at 16 columns
  std::string text = "x aGVsbG8gd29ybGQg\nYWdhaW4sIGFuZCBh\r\nZ2FpbiE= y";
  auto blobs = findEncodedBlobs(text, config, 1 << 20);
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_EQ(blobs[0].text, "hello world again, and again!");
  EXPECT_EQ(blobs[0].begin, 2u);
  EXPECT_EQ(blobs[0].end, text.size() - 2);
  // "hello world " is the first line; 'a' of "again" comes from the second ("YWdh").
  EXPECT_EQ(blobs[0].src_begin[12], 19u);
}

TEST(BlobDecoderTest, DoesNotJoinLinesThatAreNotTheLinesOfOneWrappedBlob) {
  EvasionConfig config;
  // The first line is 23 characters (not a multiple of 4): two blobs, not one wrapped blob.
  auto odd = findEncodedBlobs("aGVsbG8gd29ybGQgYWdhaW4\naGVsbG8gd29ybGQg", config, 1 << 20);
  ASSERT_EQ(odd.size(), 2u);
  EXPECT_EQ(odd[0].text, "hello world again");
  EXPECT_EQ(odd[1].text, "hello world ");
  // A middle line shorter than the first ends the blob there.
  auto ragged = findEncodedBlobs("aGVsbG8gd29ybGQg\naGVsbG8g\naGVsbG8gd29ybGQg", config, 1 << 20);
  ASSERT_EQ(ragged.size(), 2u);
  EXPECT_EQ(ragged[0].text, "hello world hello ");
  EXPECT_EQ(ragged[1].text, "hello world ");
}

TEST(BlobDecoderTest, ABlobFollowedByALineOfProseIsStillDecoded) {
  EvasionConfig config;
  // 24 characters, no padding: the next line could continue it, but the two together are not
  // readable, so the first line is decoded alone; the line after it is looked at on its own.
  auto blobs = findEncodedBlobs("token:\naGVsbG8gd29ybGQgYWdhaW4h\nThanks\n", config, 1 << 20);
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_EQ(blobs[0].text, "hello world again!");
  EXPECT_EQ(blobs[0].begin, 7u);
  EXPECT_EQ(blobs[0].end, 31u);
  auto two =
      findEncodedBlobs("aGVsbG8gd29ybGQgYWdhaW4h\nThanks\naGVsbG8gd29ybGQg", config, 1 << 20);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].text, "hello world ");
}

TEST(BlobDecoderTest, ReportsReadableRunsLeftOutAtEveryLevelInOuterOffsets) {
  EvasionConfig config;
  // base64("fwd: " + base64("hello world again") + " ok"): the outer blob fits a budget of 40,
  // the inner one (17 bytes) does not.
  std::string text = "z ZndkOiBhR1ZzYkc4Z2QyOXliR1FnWVdkaGFXND0gb2s= z";
  std::vector<SkippedBlob> skipped;
  auto blobs = findEncodedBlobs(text, config, 40, &skipped);
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_EQ(blobs[0].text, "fwd: aGVsbG8gd29ybGQgYWdhaW4= ok");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].reason, SkippedBlob::Reason::OverBudget);
  EXPECT_GT(skipped[0].begin, 2u);
  EXPECT_LT(skipped[0].end, text.size() - 2);
  // With the budget, both levels are decoded and nothing is left out.
  skipped.clear();
  EXPECT_EQ(findEncodedBlobs(text, config, 1 << 20, &skipped).size(), 2u);
  EXPECT_TRUE(skipped.empty());
}

TEST(BlobDecoderTest, ReportsABlobOfTheLastLevelThatHoldsAnotherOne) {
  EvasionConfig config;
  // base64(base64(base64("aGVsbG8gd29ybGQgYWdhaW4="))): the third level still holds base64.
  std::string text = "V1ZWa1YyTXlTa2hQUjJSclRXcHNOVmxyWkZKYU1XeFlXa2RvYUZaNlVUbEpRVDA5";
  std::vector<SkippedBlob> skipped;
  auto blobs = findEncodedBlobs(text, config, 1 << 20, &skipped);
  ASSERT_EQ(blobs.size(), static_cast<size_t>(kMaxDecodeDepth));
  EXPECT_EQ(blobs.back().text, "aGVsbG8gd29ybGQgYWdhaW4= ");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].reason, SkippedBlob::Reason::TooDeep);
  EXPECT_EQ(skipped[0].begin, blobs.back().begin);
  EXPECT_EQ(skipped[0].end, blobs.back().end);
}

TEST(BlobDecoderTest, DecodesUtf16LittleAndBigEndianToUtf8) {
  EvasionConfig config;
  // base64 of UTF-16LE "hello world" and of UTF-16BE "hello world" with a BOM
  auto le = findEncodedBlobs("aABlAGwAbABvACAAdwBvAHIAbABkAA==", config, 1 << 20);
  ASSERT_EQ(le.size(), 1u);
  EXPECT_EQ(le[0].text, "hello world");
  EXPECT_EQ(le[0].src_begin.size(), le[0].text.size());
  auto be = findEncodedBlobs("/v8AaABlAGwAbABvACAAdwBvAHIAbABk", config, 1 << 20);
  ASSERT_EQ(be.size(), 1u);
  EXPECT_EQ(be[0].text, "hello world");
}

TEST(BlobDecoderTest, DecodesBlobsInsideBlobsWithOffsetsIntoTheOuterText) {
  EvasionConfig config;
  // base64(base64("hello world again"))
  std::string text = "z YUdWc2JHOGdkMjl5YkdRZ1lXZGhhVzQ9 z";
  auto blobs = findEncodedBlobs(text, config, 1 << 20);
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[0].text, "aGVsbG8gd29ybGQgYWdhaW4=");
  EXPECT_EQ(blobs[1].text, "hello world again");
  EXPECT_EQ(blobs[1].begin, 2u);
  EXPECT_LE(blobs[1].end, text.size() - 2);
  for (size_t k = 0; k < blobs[1].text.size(); ++k) {
    EXPECT_LT(blobs[1].src_begin[k], blobs[1].src_end[k]);
    EXPECT_LE(blobs[1].src_end[k], text.size() - 2);
  }
}

TEST(BlobDecoderTest, DecodesHexDumpsWithSeparators) {
  EvasionConfig config;
  auto spaced = findEncodedBlobs("dump: 68 65 6c 6c 6f 20 77 6f 72 6c 64 21 end", config, 1 << 20);
  ASSERT_EQ(spaced.size(), 1u);
  EXPECT_EQ(spaced[0].text, "hello world!");
  EXPECT_EQ(spaced[0].begin, 6u);
  EXPECT_EQ(spaced[0].src_end[1], 11u);  // 'e' <- "65"
  auto colons = findEncodedBlobs("68:65:6c:6c:6f:20:77:6f:72:6c:64:21", config, 1 << 20);
  ASSERT_EQ(colons.size(), 1u);
  EXPECT_EQ(colons[0].text, "hello world!");
  EXPECT_TRUE(findEncodedBlobs("be a decade ad de fa ce be ad", config, 1 << 20).empty());
}

TEST(BlobDecoderTest, StopsAtTheDecodeBudget) {
  EvasionConfig config;
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += "aGVsbG8gd29ybGQgYWdhaW4= ";
  }
  EXPECT_EQ(findEncodedBlobs(text, config, 40).size(), 2u);
}

}  // namespace
}  // namespace sy::policies
