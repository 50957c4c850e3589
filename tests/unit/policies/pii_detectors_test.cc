// Per-detector positive, negative and evasion cases for the PII detectors.
#include <gtest/gtest.h>

#include "policies/pii_validators.h"
#include "policies/validators.h"
#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using testing::defaultEngine;
using testing::everythingEngine;
using testing::valuesOf;

struct Case {
  std::string detector;
  std::string text;
  std::vector<std::string> expected;  // empty: the detector must not fire
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.detector << ": " << c.text; }

class PiiDetectorTest : public ::testing::TestWithParam<Case> {};

TEST_P(PiiDetectorTest, FindsExactlyTheExpectedValues) {
  const Case& c = GetParam();
  EXPECT_EQ(valuesOf(everythingEngine(), c.text, c.detector), c.expected) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Email, PiiDetectorTest,
    ::testing::Values(
        Case{"email",
             "Write to jane.doe+news@mail.example.co.uk today.",
             {"jane.doe+news@mail.example.co.uk"}},
        Case{"email", "ops: a@b.io, x_y@sub.domain.org", {"a@b.io", "x_y@sub.domain.org"}},
        Case{"email", "Contact: jane [at] example [dot] com", {"jane [at] example [dot] com"}},
        Case{"email", "not an address: user@localhost or @handle or a@b.c", {}},
        Case{"email", "dots: .john..doe@example.com", {"john..doe@example.com"}},
        Case{"email", "postgres://app:Sup3rS3cret@db.internal:5432/x", {}},
        // After the URL's authority, an address is an address (query strings carry them).
        Case{"email",
             "https://img.example.com/a.png?ref=jane.doe@example.com",
             {"jane.doe@example.com"}}));

INSTANTIATE_TEST_SUITE_P(
    Phone, PiiDetectorTest,
    ::testing::Values(
        Case{"phone", "Call +1 (415) 555-0132 now", {"+1 (415) 555-0132"}},
        Case{"phone", "E.164: +442071838750.", {"+442071838750"}},
        Case{"phone", "US 415-555-0132 or 415.555.0199", {"415-555-0132", "415.555.0199"}},
        Case{"phone", "Office (212)555-0147x231 please", {"(212)555-0147x231"}},
        Case{"phone", "Phone:\n030 1234 5678", {"030 1234 5678"}},
        Case{"phone", "mobile: 06 12 34 56 78", {"06 12 34 56 78"}},
        Case{"phone", "You can reach me on 0171 2345678.", {"0171 2345678"}},
        Case{"phone", "+41 (0)44 668 18 00 is the desk", {"+41 (0)44 668 18 00"}},
        Case{"phone", "In 1998 there were 1234 5678 sheep", {}},
        Case{"phone", "Released 2021-04-16 and 16.04.2021", {}},
        Case{"phone", "version 10.2.33.4 at 192.168.10.12", {}},
        Case{"phone", "total 3 500 000 people", {}}, Case{"phone", "ssn 536-22-1234", {}}));

INSTANTIATE_TEST_SUITE_P(
    CreditCard, PiiDetectorTest,
    ::testing::Values(Case{"credit_card", "Visa 4111111111111111.", {"4111111111111111"}},
                      Case{"credit_card", "MC 5555 5555 5555 4444 exp", {"5555 5555 5555 4444"}},
                      Case{"credit_card", "Amex 3782-822463-10005", {"3782-822463-10005"}},
                      Case{"credit_card", "Discover 6011.1111.1111.1117", {"6011.1111.1111.1117"}},
                      Case{"credit_card",
                           "spelled 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
                           {"4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"}},
                      Case{"credit_card", "JCB 3530111333300000 ok", {"3530111333300000"}},
                      Case{"credit_card", "card 4111 1111 1111 1111 2024", {"4111 1111 1111 1111"}},
                      Case{"credit_card", "bad luhn 4111111111111112", {}},
                      Case{"credit_card", "unknown network 9111111111111119", {}},
                      Case{"credit_card", "odd grouping 41 1111 1111 111 111", {}},
                      Case{"credit_card", "order 12345678901234567890123", {}}));

INSTANTIATE_TEST_SUITE_P(
    Iban, PiiDetectorTest,
    ::testing::Values(
        Case{"iban", "IBAN GB82 WEST 1234 5698 7654 32 thanks", {"GB82 WEST 1234 5698 7654 32"}},
        Case{"iban", "de89370400440532013000", {"de89370400440532013000"}},
        Case{"iban", "FR14 2004 1010 0505 0001 3M02 606", {"FR14 2004 1010 0505 0001 3M02 606"}},
        Case{"iban", "bad checksum GB83WEST12345698765432", {}},
        Case{"iban", "wrong length DE8937040044053201300", {}},
        Case{"iban", "unknown country ZZ82WEST12345698765432", {}}));

INSTANTIATE_TEST_SUITE_P(
    UsSsn, PiiDetectorTest,
    ::testing::Values(Case{"us_ssn", "SSN 536-22-1234.", {"536-22-1234"}},
                      Case{"us_ssn", "social security number: 536 22 1234", {"536 22 1234"}},
                      Case{"us_ssn", "my SSN is 536221234", {"536221234"}},
                      Case{"us_ssn", "order 536221234 shipped", {}},
                      Case{"us_ssn", "000-12-3456 666-12-3456 912-12-3456", {}},
                      Case{"us_ssn", "536-00-1234 536-22-0000", {}},
                      Case{"us_ssn", "sample 078-05-1120 and 219-09-9999", {}},
                      Case{"us_ssn", "mixed 536-22 1234", {}}));

INSTANTIATE_TEST_SUITE_P(
    IpAddress, PiiDetectorTest,
    ::testing::Values(
        Case{"ipv4", "host 10.0.12.7, gw 192.168.1.1.", {"10.0.12.7", "192.168.1.1"}},
        Case{"ipv4", "not 256.1.1.1 nor 1.2.3 nor 1.2.3.4.5 nor 01.2.3.4", {}},
        Case{"ipv6", "v6 2001:db8::ff00:42:8329 and ::1", {"2001:db8::ff00:42:8329"}},
        Case{"ipv4", "loopback 127.0.0.1 and 0.0.0.0", {}},
        Case{"ipv6", "full fe80:0:0:0:202:b3ff:fe1e:8329.", {"fe80:0:0:0:202:b3ff:fe1e:8329"}},
        Case{"ipv6", "std::vector and 12:30:45 and a::b", {}}));

INSTANTIATE_TEST_SUITE_P(
    DateOfBirth, PiiDetectorTest,
    ::testing::Values(Case{"date_of_birth", "DOB: 04/23/1987", {"04/23/1987"}},
                      Case{"date_of_birth", "She was born on 3 March 1990.", {"3 March 1990"}},
                      Case{"date_of_birth", "date of birth 1987-04-23", {"1987-04-23"}},
                      Case{"date_of_birth", "Birthday: July 4th, 1976", {"July 4th, 1976"}},
                      Case{"date_of_birth", "The meeting is on 04/23/1987.", {}},
                      Case{"date_of_birth", "born on 13/13/1987", {}}));

INSTANTIATE_TEST_SUITE_P(
    BestEffort, PiiDetectorTest,
    ::testing::Values(Case{"person_name", "Hello, my name is Maria Gonzalez.", {"Maria Gonzalez"}},
                      Case{"person_name", "Dear Mr. Okafor, thanks", {"Okafor"}},
                      Case{"person_name", "I am tired of this", {}},
                      Case{"person_name", "The Monday meeting", {}},
                      Case{"street_address",
                           "Ship to 742 Evergreen Terrace, Springfield",
                           {"742 Evergreen Terrace"}},
                      Case{"street_address", "Office: Hauptstraße 12, Berlin", {"Hauptstraße 12"}},
                      Case{"street_address", "I walked 5 miles down the road", {}}));

TEST(PiiDetectorDefaultsTest, PersonNamesAndAddressesAreNotInTheDefaultPack) {
  EXPECT_TRUE(valuesOf(defaultEngine(), "my name is Maria Gonzalez", "person_name").empty());
  EXPECT_TRUE(valuesOf(defaultEngine(), "742 Evergreen Terrace", "street_address").empty());
  EXPECT_EQ(defaultEngine().detector("person_name"), nullptr);
  EXPECT_NE(defaultEngine().detector("email"), nullptr);
}

TEST(PiiEvasionTest, FindsFullWidthDigitsAndMapsOffsetsToTheOriginalBytes) {
  // "４１１１ １１１１ １１１１ １１１１": every digit is 3 bytes in UTF-8.
  std::string four = "\xEF\xBC\x94\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91";  // ４１１１
  std::string ones = "\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91";  // １１１１
  std::string text = "pay " + four + " " + ones + " " + ones + " " + ones + "!";
  auto findings = defaultEngine().scan(text);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].detector_id, "credit_card");
  EXPECT_EQ(findings[0].start, 4u);
  EXPECT_EQ(findings[0].end, text.size() - 1);
}

TEST(PiiEvasionTest, IgnoresZeroWidthCharactersInsideAnEmail) {
  std::string zwsp = "\xE2\x80\x8B";  // U+200B
  std::string text = "mail j" + zwsp + "ane@exam" + zwsp + "ple.com now";
  EXPECT_EQ(valuesOf(defaultEngine(), text, "email"),
            std::vector<std::string>{"j" + zwsp + "ane@exam" + zwsp + "ple.com"});
}

TEST(PiiEvasionTest, FindsDigitsSplitByDashesDotsAndSpaces) {
  EXPECT_EQ(valuesOf(defaultEngine(), "n: 4111-1111.1111 1111", "credit_card"),
            std::vector<std::string>{"4111-1111.1111 1111"});
}

TEST(PiiEvasionTest, FindsAnEmailInsideBase64AndReportsTheEncodedSpan) {
  // base64("contact jane.doe@example.com please")
  std::string blob = "Y29udGFjdCBqYW5lLmRvZUBleGFtcGxlLmNvbSBwbGVhc2U=";
  std::string text = "data: " + blob + " end";
  auto findings = defaultEngine().scan(text);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].detector_id, "email");
  EXPECT_TRUE(findings[0].decoded);
  EXPECT_GE(findings[0].start, 6u);
  EXPECT_LE(findings[0].end, 6 + blob.size());
  EXPECT_GT(findings[0].length(), 20u);
}

TEST(PiiEvasionTest, FindsAnSsnInsideHexAndUrlEncoding) {
  // hex("ssn 536-22-1234")
  auto hex = valuesOf(defaultEngine(), "x=73736e203533362d32322d31323334;", "us_ssn");
  ASSERT_EQ(hex.size(), 1u);
  EXPECT_EQ(hex[0], "3533362d32322d31323334");
  auto url = valuesOf(defaultEngine(), "q=mail%3Ajane%40example.com&x=1", "email");
  ASSERT_EQ(url.size(), 1u);
  EXPECT_EQ(url[0], "jane%40example.com");
}

TEST(PiiValidatorTest, ChecksCardNetworksAndChecksums) {
  EXPECT_TRUE(luhnValid("4111111111111111"));
  EXPECT_FALSE(luhnValid("4111111111111112"));
  EXPECT_TRUE(cardNetworkKnown("378282246310005"));
  EXPECT_FALSE(cardNetworkKnown("37828224631000"));  // Amex is 15 digits
  EXPECT_TRUE(ibanChecksumValid("GB82WEST12345698765432"));
  EXPECT_EQ(ibanLength("NO"), 15u);
  EXPECT_EQ(ibanLength("US"), 0u);
}

}  // namespace
}  // namespace sy::policies
