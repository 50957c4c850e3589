// The phone detector with libphonenumber (policies/phone_numbers.h): national formats per
// region without context words, international formats whatever the regions, short numbers that
// need a context word, digit runs that are not phones, `dlp.phone.regions`, and concurrent use.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "policies/phone_numbers.h"
#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using testing::defaultEngine;
using testing::makeEngine;
using testing::valuesOf;

struct Case {
  std::string text;
  std::vector<std::string> expected;  // empty: the detector must not fire
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.text; }

class PhoneDefaultRegionsTest : public ::testing::TestWithParam<Case> {};

TEST_P(PhoneDefaultRegionsTest, FindsExactlyTheExpectedNumbers) {
  const Case& c = GetParam();
  EXPECT_EQ(valuesOf(defaultEngine(), c.text, "phone"), c.expected) << c.text;
}

// No context word in these sentences: the numbering plan alone decides.
INSTANTIATE_TEST_SUITE_P(
    NationalFormatsWithoutContext, PhoneDefaultRegionsTest,
    ::testing::Values(
        Case{"Anna Berg, 020 7946 0958, London", {"020 7946 0958"}},             // GB
        Case{"Anna Berg, 07700 900 123, London", {"07700 900 123"}},            // GB mobile
        Case{"Büro Berlin: 030 12345678.", {"030 12345678"}},                   // DE
        Case{"Zentrale (089) 1234-5678", {"(089) 1234-5678"}},                 // DE
        Case{"Marie Dubois 01 42 68 53 00, Paris", {"01 42 68 53 00"}},         // FR
        Case{"Ravi Kumar 098765 43210 (Pune)", {"098765 43210"}},              // IN
        Case{"Sophie Peeters 0496 46 46 70", {"0496 46 46 70"}},                // BE
        Case{"Giulia Rossi 06 6982 1234", {"06 6982 1234"}},                    // IT
        Case{"Lena Berg 08-123 456 78", {"08-123 456 78"}},                     // SE
        Case{"Jack Smith (02) 9374 4000", {"(02) 9374 4000"}},                  // AU
        Case{"Sato 03-1234-5678", {"03-1234-5678"}},                            // JP
        Case{"Ops desk (415) 555-2671", {"(415) 555-2671"}}));                  // US

INSTANTIATE_TEST_SUITE_P(
    InternationalFormats, PhoneDefaultRegionsTest,
    ::testing::Values(
        Case{"Anna: +44 20 7946 0958", {"+44 20 7946 0958"}},
        Case{"Anna: 0044 20 7946 0958", {"0044 20 7946 0958"}},
        Case{"Berlin +49 30 12345678", {"+49 30 12345678"}},
        Case{"Zurich +41 (0)44 668 18 00", {"+41 (0)44 668 18 00"}},
        Case{"Pune +91 98765 43210", {"+91 98765 43210"}},
        Case{"Seoul +82 2-312-3456", {"+82 2-312-3456"}},  // not a default region
        Case{"No such country: +999 1234 5678", {}},
        Case{"Too short: +44 20 79", {}}));

// Short national numbers and single digit runs are ordinary numbers unless a word says phone.
INSTANTIATE_TEST_SUITE_P(
    ContextRaisesConfidence, PhoneDefaultRegionsTest,
    ::testing::Values(Case{"call me on 781 1704", {"781 1704"}},
                      Case{"Room 781 1704", {}},
                      Case{"Mobile: 4155552671", {"4155552671"}},
                      Case{"Reference 4155552671", {}},
                      Case{"fax 61 51 81 ok", {"61 51 81"}},
                      Case{"scored 61 51 81 points", {}}));

INSTANTIATE_TEST_SUITE_P(
    NotPhones, PhoneDefaultRegionsTest,
    ::testing::Values(Case{"Order 2024 118 443 shipped", {}},  // an order number before a word
                      Case{"Your order 40512778 13 items", {}},
                      Case{"Released 2021-04-16 and 16.04.2021", {}},
                      Case{"Logged at 2000-04-16 11:34:35 UTC", {}},
                      Case{"Breaking Bad (2008-2013)", {}},
                      Case{"in 2015 1998 2021 and 2003", {}},
                      Case{"phone 2015 1998", {"2015 1998"}},
                      Case{"card ending 4242 4242 was declined", {}},
                      Case{"card 4111 1111 1111 1112 (bad checksum)", {}},
                      Case{"4154 3970", {}},  // half a card, the other half in the next message
                      Case{"lookup_NL96 XUWT 0350 3680 39", {}},  // an IBAN's tail
                      Case{"lookup_FR84 2345 3222 5165 9142 1520 839", {}},
                      Case{"version 10.2.33.4 and 3.11.4", {}},
                      Case{"total 3 500 000 people", {}},
                      Case{"Deliver to 17151 2450 Crown St", {}},
                      Case{"pi is 3.14159265 and e is 2.7182818", {}},
                      Case{"Rates 0.0123456 and 12.345678", {}},
                      Case{"ISBN 978-3-16-148410-0", {}},
                      Case{"ssn 536-22-1234", {}}));

std::unique_ptr<const DlpEngine> engineWithRegions(std::vector<std::string> regions) {
  DlpConfig config;
  config.phone.regions = std::move(regions);
  return makeEngine(config);
}

TEST(PhoneRegionsTest, NationalNumbersAreCheckedOnlyAgainstThePolicyRegions) {
  const std::string text = "Anna Berg, 020 7946 0958, London";
  EXPECT_EQ(valuesOf(*engineWithRegions({"GB"}), text, "phone"),
            std::vector<std::string>{"020 7946 0958"});
  EXPECT_TRUE(valuesOf(*engineWithRegions({"US"}), text, "phone").empty());
  EXPECT_TRUE(valuesOf(*engineWithRegions({}), text, "phone").empty());
}

TEST(PhoneRegionsTest, InternationalNumbersAreCheckedWhateverTheRegions) {
  const std::string text = "Anna: +44 20 7946 0958";
  EXPECT_EQ(valuesOf(*engineWithRegions({"US"}), text, "phone"),
            std::vector<std::string>{"+44 20 7946 0958"});
  EXPECT_EQ(valuesOf(*engineWithRegions({}), text, "phone"),
            std::vector<std::string>{"+44 20 7946 0958"});
}

TEST(PhoneRegionsTest, DelhiNumbersStartingWithTheUsCallPrefixStayNational) {
  EXPECT_EQ(valuesOf(*engineWithRegions({"IN"}), "Office 011 2345 6789", "phone"),
            std::vector<std::string>{"011 2345 6789"});
}

TEST(PhoneRegionsTest, CreateRejectsUnknownAndRepeatedRegionsByIndex) {
  EXPECT_TRUE(PhoneRegions::known("GB"));
  EXPECT_FALSE(PhoneRegions::known("gb"));
  EXPECT_FALSE(PhoneRegions::known("XX"));
  auto regions = PhoneRegions::create({"US", "XX", "US"});
  ASSERT_FALSE(regions.has_value());
  EXPECT_EQ(regions.error().message,
            "dlp.phone.regions[1]: unknown region 'XX' (an ISO 3166-1 alpha-2 code in upper "
            "case)\ndlp.phone.regions[2]: region 'US' is listed twice");
  DlpConfig config;
  config.phone.regions = {"ZZZ"};
  auto engine = DlpEngine::create(config);
  ASSERT_FALSE(engine.has_value());
  EXPECT_NE(engine.error().message.find("dlp.phone.regions[0]: unknown region 'ZZZ'"),
            std::string::npos);
}

TEST(PhoneRegionsTest, VerdictsDistinguishValidPossibleAndNone) {
  auto regions = PhoneRegions::create({"GB", "US"});
  ASSERT_TRUE(regions.has_value());
  EXPECT_EQ(regions->national("020 7946 0958"), PhoneVerdict::Valid);
  EXPECT_EQ(regions->national("054-353-1726"), PhoneVerdict::Possible);  // no such US area
  EXPECT_EQ(regions->national("12"), PhoneVerdict::None);
  EXPECT_EQ(regions->international("+1 201-555-0123"), PhoneVerdict::Valid);
  EXPECT_EQ(regions->international("+1 054-353-1726"), PhoneVerdict::Possible);
  EXPECT_EQ(regions->international("+999 1234 5678"), PhoneVerdict::None);
}

// PhoneNumberUtil is one process-wide instance: worker threads scan at the same time.
TEST(PhoneRegionsTest, ConcurrentScansAgree) {
  const std::string text = "Anna 020 7946 0958, Marie 01 42 68 53 00, +49 30 12345678, Room 781 1704";
  const auto expected = valuesOf(defaultEngine(), text, "phone");
  ASSERT_EQ(expected.size(), 3u);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (valuesOf(defaultEngine(), text, "phone") != expected) {
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

}  // namespace
}  // namespace sy::policies
