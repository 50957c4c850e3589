// Binary files in request bodies: data URLs and raw base64 split, strict base64 decoding, the
// formats recognized by their first bytes, and the printable runs DLP reads in them.
#include "policies/media_payload.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

TEST(MediaPayloadTest, DataUrlsGiveTheirBase64AndOtherUrlsAreText) {
  EXPECT_EQ(mediaPayload("data:image/png;base64,iVBORw0KGgo="), "iVBORw0KGgo=");
  EXPECT_EQ(mediaPayload("DATA:audio/wav;codecs=1;BASE64,UklGRg=="), "UklGRg==");
  EXPECT_EQ(mediaPayload("iVBORw0KGgo="), "iVBORw0KGgo=");  // raw base64 (input_audio.data)
  EXPECT_EQ(mediaPayload("https://example.com/cat.png"), std::nullopt);
  EXPECT_EQ(mediaPayload("data:text/plain,hello%20there"), std::nullopt);
  EXPECT_EQ(mediaPayload("data:image/png;base64"), std::nullopt);
}

TEST(MediaPayloadTest, DecodesOnlyStrictStandardBase64) {
  std::string out;
  for (std::string_view text : {"aGVsbG8gd29ybGQ=", "aGVsbG8gd29ybGQ", "aGVsbG8gd29ybA==", ""}) {
    ASSERT_TRUE(decodeBase64Strict(text, out)) << text;
  }
  ASSERT_TRUE(decodeBase64Strict("aGVsbG8gd29ybGQ=", out));
  EXPECT_EQ(out, "hello world");
  ASSERT_TRUE(decodeBase64Strict("aGVsbG8gd29ybA", out));
  EXPECT_EQ(out, "hello worl");
  EXPECT_FALSE(decodeBase64Strict("aGVsbG8g\nd29ybGQ=", out));  // wrapped
  EXPECT_FALSE(decodeBase64Strict("aGVs-G8_", out));            // URL-safe
  EXPECT_FALSE(decodeBase64Strict("aGV=bG8g", out));            // padding inside
  EXPECT_FALSE(decodeBase64Strict("aGVsb", out));               // one character too many
  EXPECT_FALSE(decodeBase64Strict("aGVsbG8=x", out));
  EXPECT_FALSE(decodeBase64Strict("my card is 4111", out));
  const std::string bytes = "\x89PNG\r\n\x1a\n\x00\xff\x10 tail"s;
  ASSERT_TRUE(decodeBase64Strict(testing::toBase64(bytes), out));
  EXPECT_EQ(out, bytes);
}

TEST(MediaPayloadTest, RecognizesFormatsByTheirFirstBytes) {
  EXPECT_EQ(sniffMedia("\x89PNG\r\n\x1a\n...."sv), MediaFormat::Image);
  EXPECT_EQ(sniffMedia("\xFF\xD8\xFF\xE0..JFIF"sv), MediaFormat::Image);
  EXPECT_EQ(sniffMedia("GIF89a.."sv), MediaFormat::Image);
  EXPECT_EQ(sniffMedia("RIFF\x10\0\0\0WEBPVP8 "sv), MediaFormat::Image);
  EXPECT_EQ(sniffMedia("RIFF\x10\0\0\0WAVEfmt "sv), MediaFormat::Audio);
  EXPECT_EQ(sniffMedia("ID3\x04\0\0\0\0"sv), MediaFormat::Audio);
  EXPECT_EQ(sniffMedia("\xFF\xFB\x90\x64"sv), MediaFormat::Audio);
  EXPECT_EQ(sniffMedia("fLaC\0\0\0\x22"sv), MediaFormat::Audio);
  EXPECT_EQ(sniffMedia("OggS\0\x02"sv), MediaFormat::Audio);
  EXPECT_EQ(sniffMedia("\0\0\0\x20"
                       "ftypisom"sv),
            MediaFormat::Video);
  EXPECT_EQ(sniffMedia("%PDF-1.7\n"sv), MediaFormat::Pdf);
  EXPECT_EQ(sniffMedia("PK\x03\x04\x14\0"sv), MediaFormat::Archive);
  EXPECT_EQ(sniffMedia("\x1F\x8B\x08\0"sv), MediaFormat::Archive);
  // Text is no format, even text that starts like a tag or a RIFF container.
  EXPECT_EQ(sniffMedia("ID3 tags are metadata"sv), MediaFormat::None);
  EXPECT_EQ(sniffMedia("RIFF is a container"sv), MediaFormat::None);
  EXPECT_EQ(sniffMedia("hello"sv), MediaFormat::None);
  EXPECT_EQ(sniffMedia(""sv), MediaFormat::None);
}

TEST(MediaPayloadTest, PrintableRunsAreTheTextABinaryCarriesInTheClear) {
  const std::string bytes =
      "\x89PNG\r\n\x1a\n\0\0\0\x1ftEXt"
      "Author\0jane.doe@corp.example\x8a\x01"
      "ab\x02\x03"
      "Comment:\tshort\xff"s;
  EXPECT_EQ(printableRuns(bytes), "tEXtAuthor\njane.doe@corp.example\nComment:\tshort\n");
  EXPECT_EQ(printableRuns("abc\x01"
                          "defghijk"sv,
                          3),
            "abc\ndefghijk\n");
  EXPECT_EQ(printableRuns(""sv), "");
}

TEST(MediaPayloadTest, TextIsValidUtf8WithoutControlCharacters) {
  EXPECT_TRUE(isText("plain\ttext\r\nand caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80"sv));
  EXPECT_FALSE(isText("nul\0inside"sv));
  EXPECT_FALSE(isText("\xC3"sv));          // truncated
  EXPECT_FALSE(isText("\xC0\xAF"sv));      // overlong
  EXPECT_FALSE(isText("\xE2\x28\xA1"sv));  // bad continuation
  EXPECT_FALSE(isText("\x4d\xeb\x2d"sv));  // "Test" read as base64
}

TEST(MediaPayloadTest, PdfFiltersAreFound) {
  EXPECT_TRUE(pdfHasFilteredStreams("%PDF-1.7\n1 0 obj <</Length 5 /Filter /FlateDecode>>"sv));
  EXPECT_FALSE(pdfHasFilteredStreams("%PDF-1.4\nBT (Hello) Tj ET"sv));
}

}  // namespace
}  // namespace sy::policies
