// How people and tools format sensitive values, and the evasions built on that (issue 13):
// separators between digit groups, values broken over lines, other scripts' digits, confusable
// letters inside keys, PEM headers with odd spacing, wrapped, nested and UTF-16 base64, hex.
// Every positive case checks the finding's exact bytes in the ORIGINAL text and that redaction
// removes exactly those bytes (separators inside the value included).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policies/dlp_transform.h"
#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using testing::defaultEngine;
using testing::fakeToken;

std::string utf8(int32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

// Every ASCII digit of `ascii` written with the digit `zero + d` of another script.
std::string digitsFrom(int32_t zero, std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out += c >= '0' && c <= '9' ? utf8(zero + (c - '0')) : std::string(1, c);
  }
  return out;
}

std::string superscript(std::string_view ascii) {
  static constexpr int32_t kSup[] = {0x2070, 0x00B9, 0x00B2, 0x00B3, 0x2074,
                                     0x2075, 0x2076, 0x2077, 0x2078, 0x2079};
  std::string out;
  for (char c : ascii) {
    out += c >= '0' && c <= '9' ? utf8(kSup[c - '0']) : std::string(1, c);
  }
  return out;
}

// Replaces ASCII characters by look-alikes from Cyrillic and Greek.
std::string confusable(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    switch (c) {
      case 'A':
        out += utf8(0x0410);
        break;  // CYRILLIC CAPITAL A
      case 'K':
        out += utf8(0x041A);
        break;  // CYRILLIC CAPITAL KA
      case 'I':
        out += utf8(0x0406);
        break;  // CYRILLIC CAPITAL BYELORUSSIAN-UKRAINIAN I
      case 'O':
        out += utf8(0x039F);
        break;  // GREEK CAPITAL OMICRON
      case 'p':
        out += utf8(0x0440);
        break;  // CYRILLIC SMALL ER
      case 'h':
        out += utf8(0x04BB);
        break;  // CYRILLIC SMALL SHHA
      case 's':
        out += utf8(0x0455);
        break;  // CYRILLIC SMALL DZE
      case 'a':
        out += utf8(0x0430);
        break;  // CYRILLIC SMALL A
      case 'o':
        out += utf8(0x03BF);
        break;  // GREEK SMALL OMICRON
      case 'e':
        out += utf8(0x0435);
        break;  // CYRILLIC SMALL IE
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
            kAlphabet[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// What `base64` prints: lines of `width` characters ending in `eol`.
std::string wrap(std::string_view text, size_t width, std::string_view eol = "\n") {
  std::string out;
  for (size_t i = 0; i < text.size(); i += width) {
    out += text.substr(i, width);
    out += eol;
  }
  return out;
}

std::string utf16le(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

std::string hex(std::string_view bytes, std::string_view separator = "") {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) {
      out += separator;
    }
    out.push_back(kDigits[static_cast<unsigned char>(bytes[i]) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(bytes[i]) & 15]);
  }
  return out;
}

struct Variant {
  std::string name;
  std::string detector;
  std::string value;
  std::string before = "here it is: ";
  std::string after = " thanks";
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

class NormalizationVariantTest : public ::testing::TestWithParam<Variant> {};

// The value is found as exactly its original bytes, and redaction removes exactly them.
TEST_P(NormalizationVariantTest, FindsTheValueAndRedactionRemovesExactlyItsBytes) {
  const Variant& v = GetParam();
  std::string text = v.before + v.value + v.after;
  std::vector<Finding> mine;
  for (const Finding& f : defaultEngine().scan(text)) {
    if (f.detector_id == v.detector) {
      mine.push_back(f);
    }
  }
  ASSERT_EQ(mine.size(), 1u) << v.name;
  EXPECT_EQ(text.substr(mine[0].start, mine[0].length()), v.value) << v.name;
  EXPECT_EQ(redact(text, mine), v.before + "[" + labelFor(v.detector) + "]" + v.after) << v.name;
}

const std::string kCard = "4111 1111 1111 1111";

std::vector<Variant> cardVariants() {
  std::vector<Variant> out;
  for (std::string sep :
       {"\n", "\t", "/", ",", ".", "-", "\r\n", " / ", ", ", " - ", "\n  ", "_", "|", ":", ";"}) {
    out.push_back({"card groups joined by [" + sep + "]", "credit_card",
                   "4111" + sep + "1111" + sep + "1111" + sep + "1111"});
  }
  out.push_back({"card broken over two lines", "credit_card", "4111 1111\n1111 1111"});
  out.push_back({"card with mixed separators", "credit_card", "4111-1111/1111\n1111"});
  out.push_back({"Mastercard with slashes", "credit_card", "5555/5555/5555/4444"});
  out.push_back({"Amex 4-6-5 over lines", "credit_card", "3782\n822463\n10005"});
  out.push_back({"card in superscript digits", "credit_card", superscript(kCard)});
  out.push_back({"card in subscript digits", "credit_card", digitsFrom(0x2080, kCard)});
  out.push_back({"card in Devanagari digits", "credit_card", digitsFrom(0x0966, kCard)});
  out.push_back({"card in Arabic-Indic digits", "credit_card", digitsFrom(0x0660, kCard)});
  out.push_back({"card in Tamil digits", "credit_card", digitsFrom(0x0BE6, kCard)});
  out.push_back({"card in Myanmar digits", "credit_card", digitsFrom(0x1040, kCard)});
  out.push_back({"card in Thai digits with newlines", "credit_card",
                 digitsFrom(0x0E50, "4111\n1111\n1111\n1111")});
  out.push_back({"card in mixed scripts", "credit_card",
                 superscript("4111") + " " + digitsFrom(0x0966, "1111") + " " +
                     digitsFrom(0xFF10, "1111") + " 1111"});
  return out;
}

std::vector<Variant> ibanAndSsnVariants() {
  return {
      {"IBAN broken over a line", "iban", "GB82 WEST 1234\n5698 7654 32"},
      {"IBAN one group per line", "iban", "GB82\nWEST\n1234\n5698\n7654\n32"},
      {"IBAN over CRLF with indentation", "iban", "DE89 3704 0044\r\n    0532 0130 00"},
      {"IBAN with tabs", "iban", "DE89\t3704\t0044\t0532\t0130\t00"},
      {"IBAN with dashes", "iban", "GB82-WEST-1234-5698-7654-32"},
      {"IBAN with slashes", "iban", "DE89/3704/0044/0532/0130/00"},
      {"IBAN with look-alike letters", "iban", confusable("GB82 WEST 1234 5698 7654 32")},
      {"IBAN in superscript digits", "iban", superscript("GB82 WEST 1234 5698 7654 32")},
      {"SSN dashed then a line break", "us_ssn", "536-22-\n1234"},
      {"SSN dashed over lines", "us_ssn", "536-\n22-\n1234"},
      {"SSN one group per line", "us_ssn", "536\n22\n1234", "SSN:\n"},
      {"SSN spaces and a line break", "us_ssn", "536 22\n1234", "my ssn is "},
      {"SSN with slashes", "us_ssn", "536/22/1234", "social security number "},
      {"SSN one group per line, no context word", "us_ssn", "536\n22\n1234"},
      {"SSN with slashes, no context word", "us_ssn", "536/22/1234"},
      {"SSN in superscript digits", "us_ssn", superscript("536-22-1234")},
      {"SSN in Devanagari digits", "us_ssn", digitsFrom(0x0966, "536-22-1234")},
  };
}

std::vector<Variant> secretVariants() {
  std::string aws = "AKIA" + fakeToken(testing::kUpperBase32, 16, 7);
  std::string ghp = "ghp_" + fakeToken(testing::kAlnum, 36, 11);
  std::string openai = "sk-" + fakeToken(testing::kAlnum, 48, 13);
  std::string body;
  for (int line = 0; line < 4; ++line) {
    body += fakeToken(testing::kAlnum, 64, 20 + static_cast<uint64_t>(line)) + "\n";
  }
  return {
      {"AWS key with Cyrillic A, K, I", "secret.aws_access_key",
       confusable("AKIA") + aws.substr(4)},
      {"AWS key with a Cyrillic letter inside", "secret.aws_access_key",
       aws.substr(0, 10) + confusable("A") + aws.substr(11)},
      {"GitHub token with Cyrillic h and p", "secret.github_token",
       "g" + confusable("hp") + ghp.substr(3)},
      {"GitHub token with look-alikes in the body", "secret.github_token",
       ghp.substr(0, 8) + confusable(ghp.substr(8, 20)) + ghp.substr(28)},
      {"OpenAI key with a Cyrillic s", "secret.openai_key", confusable("s") + openai.substr(1)},
      {"PEM header with two spaces", "secret.private_key",
       "-----BEGIN  RSA PRIVATE KEY-----\n" + body + "-----END  RSA PRIVATE KEY-----"},
      {"PEM header with spaces inside the dashes", "secret.private_key",
       "----- BEGIN PRIVATE KEY -----\n" + body + "----- END PRIVATE KEY -----"},
      {"PEM header in lower case", "secret.private_key",
       "-----begin rsa private key-----\n" + body + "-----end rsa private key-----"},
      {"PEM header with a tab and a double space", "secret.private_key",
       "-----BEGIN\tEC PRIVATE  KEY-----\n" + body + "-----END EC PRIVATE KEY-----"},
  };
}

INSTANTIATE_TEST_SUITE_P(Cards, NormalizationVariantTest, ::testing::ValuesIn(cardVariants()));
INSTANTIATE_TEST_SUITE_P(IbansAndSsns, NormalizationVariantTest,
                         ::testing::ValuesIn(ibanAndSsnVariants()));
INSTANTIATE_TEST_SUITE_P(Secrets, NormalizationVariantTest, ::testing::ValuesIn(secretVariants()));

// Encoded values: the finding is decoded and lies within the encoded run; redacting it leaves
// no decodable copy of the value behind.
struct EncodedVariant {
  std::string name;
  std::string detector;
  std::string encoded;
};

void PrintTo(const EncodedVariant& v, std::ostream* os) { *os << v.name; }

class EncodedVariantTest : public ::testing::TestWithParam<EncodedVariant> {};

TEST_P(EncodedVariantTest, FindsTheValueInsideTheEncodedRun) {
  const EncodedVariant& v = GetParam();
  std::string text = "attached: " + v.encoded + " -- end";
  std::vector<Finding> mine;
  for (const Finding& f : defaultEngine().scan(text)) {
    if (f.detector_id == v.detector) {
      mine.push_back(f);
    }
  }
  ASSERT_FALSE(mine.empty()) << v.name;
  for (const Finding& f : mine) {
    EXPECT_TRUE(f.decoded) << v.name;
    EXPECT_GE(f.start, 10u) << v.name;
    EXPECT_LE(f.end, 10 + v.encoded.size()) << v.name;
  }
  std::string redacted = redact(text, mine);
  bool still_there = false;
  for (const Finding& f : defaultEngine().scan(redacted)) {
    still_there |= f.detector_id == v.detector;
  }
  EXPECT_FALSE(still_there) << v.name << ": " << redacted;
}

std::vector<EncodedVariant> encodedVariants() {
  std::string letter =
      "Hello team, for the reimbursement please charge my card 4111 1111 1111 1111 which "
      "expires next year, and send the receipt to the usual address. Thanks a lot, Sam.";
  std::string ssn = "Applicant record: name Sam, ssn 536-22-1234, status approved for review.";
  return {
      {"base64 wrapped at 76 columns", "credit_card", wrap(base64(letter), 76)},
      {"base64 wrapped at 64 columns with CRLF", "credit_card", wrap(base64(letter), 64, "\r\n")},
      {"base64 wrapped at 76 columns, SSN", "us_ssn", wrap(base64(ssn), 76)},
      {"base64 wrapped at 76 columns, two lines", "us_ssn",
       wrap(base64("Customer record follows. Field value: ssn 536-22-1234. End of record."), 76)},
      {"double-encoded base64", "credit_card", base64(base64(letter))},
      {"double-encoded base64, wrapped", "credit_card", wrap(base64(base64(letter)), 76)},
      {"UTF-16LE base64", "credit_card", base64(utf16le(letter))},
      {"UTF-16LE base64 with a BOM", "us_ssn", base64("\xFF\xFE" + utf16le(ssn))},
      {"hex", "credit_card", hex("card 4111111111111111 ok")},
      {"hex with spaces between bytes", "credit_card", hex("card 4111111111111111 ok", " ")},
      {"hex with colons between bytes", "us_ssn", hex("ssn 536-22-1234", ":")},
      {"base64 of hex", "credit_card", base64(hex("card 4111111111111111 ok"))},
      {"base64 of a key with look-alike letters", "secret.aws_access_key",
       base64("key " + confusable("AKIA") + fakeToken(testing::kUpperBase32, 16, 7) + " ok")},
      {"base64 of superscript digits", "credit_card", base64("card " + superscript(kCard))},
  };
}

INSTANTIATE_TEST_SUITE_P(Blobs, EncodedVariantTest, ::testing::ValuesIn(encodedVariants()));

// Clean text with numbers in it (decimals, prices, lists, dates, versions, code), other
// scripts, and look-alikes of a value that is not there.
class CleanTextTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CleanTextTest, HasNoPiiOrSecretFinding) {
  for (const Finding& f : defaultEngine().scan(GetParam())) {
    EXPECT_TRUE(f.detector_class != DetectorClass::Pii && f.detector_class != DetectorClass::Secret)
        << f.detector_id << " in: " << GetParam();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Prose, CleanTextTest,
    ::testing::Values("Totals: 4,111.11 and 1,111.11, then 1,111.11 and 1,111.11 again.",
                      "The prices were 4111.11, 1111.11, 1111.11, 1111.11 in that order.",
                      "nums = [4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
                      "digits: 4,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
                      "Pi is 3.1415926535 8979 3238 4626 4338 3279 approximately.",
                      "Revenue 2019/2020/2021/2022 grew by 4.5%, 5.5%, 6.1%, 7.2%.",
                      "Schedule: 2024/01/15, 2024/02/15, 2024/03/15 and 2024/04/15.",
                      "Population 1,234,567,890,123 people over 4 continents.",
                      "coords 41.1111, -111.1111 and 41.2222, -111.2222",
                      "version 4.11.1111.1111 was released with build 1111",
                      "Scores by year:\n2011\n2012\n2013\n2014\n2015\n",
                      "Table:\n| 4111 | 1111 |\n| 1111 | 1112 |\n",
                      "The answer is 536 22 1234 in base ten.",
                      "Ширина 4111 мм, высота 1111 мм; вес 1111 кг, цена 1111 руб.",
                      "Κωδικός έκδοσης ΑΒΓ, περίοδος 2024/2025.",
                      "Привет! Как дела? Это обычный текст без секретов и ключей.",
                      "1/2 cup, 1/4 cup, 3/4 cup and 1/8 teaspoon of salt",
                      "id\tqty\tcode\n536\t22\t1234\n",
                      "Ranges: 4000, 4500/5000, 5500 and 4111, 1111/1111, 1111.",
                      "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----",
                      "----- begin private key -----\nanything\n----- end private key -----",
                      "the bytes 00 01 02 03 04 05 06 07 08 09 0a 0b are not text"));

}  // namespace
}  // namespace sy::policies
