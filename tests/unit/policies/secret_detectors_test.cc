// Per-detector cases for the secrets pack. Token bodies come from fakeToken() so that no
// realistic secret literal lives in the repository.
#include <gtest/gtest.h>

#include "policies/keys.h"
#include "policies/secret_validators.h"
#include "policies/validators.h"
#include "tests/unit/policies/test_support.h"

namespace sy::policies {
namespace {

using testing::defaultEngine;
using testing::fakeToken;
using testing::kAlnum;
using testing::kBase64Url;
using testing::kHex;
using testing::kUpperBase32;
using testing::valuesOf;

struct SecretCase {
  std::string detector;
  std::string value;   // the secret itself
  std::string prefix;  // text before it
  std::string suffix;  // text after it
};

void PrintTo(const SecretCase& c, std::ostream* os) { *os << c.detector << ": " << c.value; }

class SecretDetectorTest : public ::testing::TestWithParam<SecretCase> {};

TEST_P(SecretDetectorTest, FindsTheSecretAndOnlyTheSecret) {
  const SecretCase& c = GetParam();
  std::string text = c.prefix + c.value + c.suffix;
  EXPECT_EQ(valuesOf(defaultEngine(), text, c.detector), std::vector<std::string>{c.value}) << text;
}

std::string jwt() {
  return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + std::string("eyJ") +
         fakeToken(kBase64Url, 40, 7) + "." + fakeToken(kBase64Url, 43, 8);
}

std::string pem() {
  std::string body;
  for (int line = 0; line < 4; ++line) {
    body += fakeToken("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64,
                      20 + line) +
            "\n";
  }
  return "-----BEGIN RSA PRIVATE KEY-----\n" + body + "-----END RSA PRIVATE KEY-----";
}

INSTANTIATE_TEST_SUITE_P(
    Vendors, SecretDetectorTest,
    ::testing::Values(
        SecretCase{"secret.aws_access_key", "AKIA" + fakeToken(kUpperBase32, 16, 1), "id=", ""},
        SecretCase{
            "secret.aws_secret_key",
            fakeToken("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40, 2),
            "aws_secret_access_key = \"", "\""},
        SecretCase{"secret.github_token", "ghp_" + fakeToken(kAlnum, 36, 3), "token: ", " ok"},
        SecretCase{"secret.github_token", "github_pat_" + fakeToken(kAlnum, 82, 4), "", ""},
        SecretCase{"secret.gitlab_token", "glpat-" + fakeToken(kAlnum, 20, 5), "export T=", ""},
        SecretCase{"secret.slack_token",
                   "xoxb-" + fakeToken("0123456789", 12, 6) + "-" + fakeToken("0123456789", 13, 7) +
                       "-" + fakeToken(kAlnum, 24, 8),
                   "SLACK=", ""},
        SecretCase{"secret.stripe_key", "sk_live_" + fakeToken(kAlnum, 24, 9), "key ", "."},
        SecretCase{"secret.openai_key",
                   "sk-proj-" + fakeToken(kAlnum, 20, 10) + "T3BlbkFJ" + fakeToken(kAlnum, 20, 11),
                   "OPENAI_API_KEY=", ""},
        SecretCase{"secret.anthropic_key", "sk-ant-api03-" + fakeToken(kBase64Url, 93, 12) + "AA",
                   "", "\n"},
        SecretCase{"secret.google_api_key", "AIza" + fakeToken(kBase64Url, 35, 13), "key=", "&"},
        SecretCase{
            "secret.azure_connection_string",
            fakeToken("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 86, 14) +
                "==",
            "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=",
            ";EndpointSuffix=core.windows.net"},
        SecretCase{"secret.jwt", jwt(), "Authorization: Bearer ", ""},
        SecretCase{"secret.private_key", pem(), "key:\n", "\n"},
        SecretCase{"secret.database_url", "Zq8" + fakeToken(kAlnum, 12, 15),
                   "DATABASE_URL=postgres://app:", "@db.internal:5432/app"},
        SecretCase{"secret.url_credentials", "Wv3" + fakeToken(kAlnum, 12, 16),
                   "git clone https://deploy:", "@git.example.com/repo.git"},
        SecretCase{"secret.http_credentials", fakeToken(kAlnum, 32, 17),
                   "curl -H 'Authorization: Bearer ", "' https://api.example.com"},
        SecretCase{"secret.http_credentials", "admin:" + fakeToken(kAlnum, 14, 18), "curl -u ",
                   " https://api.example.com"},
        SecretCase{"secret.generic_assignment", fakeToken(kAlnum, 24, 19), "api_key = \"", "\""},
        SecretCase{"secret.generic_assignment", "Tr0ub4dor&3x", "DB_PASSWORD=", "\n"},
        SecretCase{"secret.generic_assignment", fakeToken(kHex, 32, 20), "\"client_secret\": \"",
                   "\""}));

struct NegativeCase {
  std::string text;
};

void PrintTo(const NegativeCase& c, std::ostream* os) { *os << c.text; }

class SecretHardNegativeTest : public ::testing::TestWithParam<NegativeCase> {};

TEST_P(SecretHardNegativeTest, FlagsNoSecret) {
  EXPECT_FALSE(testing::hasClass(defaultEngine(), GetParam().text, DetectorClass::Secret))
      << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Placeholders, SecretHardNegativeTest,
    ::testing::Values(NegativeCase{"aws_access_key_id = AKIAIOSFODNN7EXAMPLE"},
                      NegativeCase{"token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
                      NegativeCase{"password = changeme"}, NegativeCase{"API_KEY=${API_KEY}"},
                      NegativeCase{"api_key: <your-api-key>"},
                      NegativeCase{"secret = \"{{ .Values.secret }}\""},
                      NegativeCase{"postgres://user:password@localhost/db"},
                      NegativeCase{"curl -u \"$USER:$PASS\" https://example.com"},
                      NegativeCase{"Authorization: Bearer $TOKEN"},
                      NegativeCase{"-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----"},
                      NegativeCase{"apiKey = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"}));

INSTANTIATE_TEST_SUITE_P(
    LookAlikes, SecretHardNegativeTest,
    ::testing::Values(NegativeCase{"public_key = \"" + fakeToken(kAlnum, 40, 30) + "\""},
                      NegativeCase{"kms_key_id: 555ea4a3-d53a-4412-9c66-3a7cb667b0d6"},
                      NegativeCase{"key_length = XSalsa20.key_length"},
                      NegativeCase{"keyword: \"SalesReport_Q3\""},
                      NegativeCase{"token_url = https://example.com/oauth/token"},
                      NegativeCase{"csrf-token=" + fakeToken(kAlnum, 40, 31)},
                      NegativeCase{"the password, of course, is secret"},
                      NegativeCase{"monkey = \"" + fakeToken(kAlnum, 20, 32) + "\""},
                      NegativeCase{"private_key_file = /etc/ssl/private/server.key"},
                      NegativeCase{"See the docs at std::string_view and AIzaSy"},
                      NegativeCase{"sha256:" + fakeToken(kHex, 64, 33)},
                      // A service name inside another word is not a key name.
                      NegativeCase{"ReactNativeCameraKit: " + fakeToken(kHex, 40, 34)},
                      NegativeCase{"rookTable = 00" + fakeToken(kAlnum, 40, 35)},
                      NegativeCase{"twitter: https://twitter.com/switchyard_dev2024"},
                      NegativeCase{"mapbox style: streets-v11 and satellite-v9 layers"}));

INSTANTIATE_TEST_SUITE_P(
    GitleaksProviders, SecretDetectorTest,
    ::testing::Values(
        SecretCase{"secret.prefixed_token",
                   "ntn_" + fakeToken("0123456789", 11, 40) + fakeToken(kAlnum, 35, 41),
                   "NOTION_TOKEN=", "\n"},
        SecretCase{"secret.prefixed_token", "pscale_tkn_" + fakeToken(kAlnum, 40, 42), "", ""},
        SecretCase{"secret.prefixed_token",
                   "dt0c01." + fakeToken(kAlnum, 24, 43) + "." + fakeToken(kAlnum, 64, 44),
                   "token: ", ""},
        SecretCase{"secret.prefixed_token", "rubygems_" + fakeToken(kHex, 48, 45), "", " ok"},
        SecretCase{"secret.prefixed_token", "sntryu_" + fakeToken(kHex, 64, 46), "\"", "\""},
        SecretCase{"secret.prefixed_token", "LTAI" + fakeToken(kAlnum, 20, 47), "id ", ""},
        SecretCase{"secret.service_assignment", fakeToken(kAlnum, 26, 48) + "7",
                   "MATTERMOST_TOKEN=", "\n"},
        SecretCase{"secret.service_assignment", fakeToken(kAlnum, 30, 49) + "3",
                   "const twitchClientSecret = '", "';"},
        SecretCase{"secret.service_assignment", fakeToken(kHex, 40, 50), "datadog_api_key: ", ""}));

TEST(SecretValidatorTest, ReadsKeyNamesByTheirLastWord) {
  bool password_like = false;
  EXPECT_TRUE(secretKeyName("DB_PASSWORD", &password_like));
  EXPECT_TRUE(password_like);
  EXPECT_TRUE(secretKeyName("oktaApiToken", &password_like));
  EXPECT_FALSE(password_like);
  EXPECT_TRUE(secretKeyName("AUTH_CLIENTSECRET", nullptr));
  EXPECT_FALSE(secretKeyName("turkey", nullptr));
  EXPECT_FALSE(secretKeyName("credentialsId", nullptr));
  EXPECT_FALSE(secretKeyName("public_key", nullptr));
}

TEST(SecretValidatorTest, TellsRandomStringsFromWordsAndPlaceholders) {
  EXPECT_TRUE(looksLikeWords("SalesResults-1.2"));
  EXPECT_FALSE(looksLikeWords(fakeToken(kAlnum, 20, 40)));
  EXPECT_TRUE(looksLikePlaceholder("AKIAIOSFODNN7EXAMPLE"));
  EXPECT_TRUE(looksLikePlaceholder("sk-xxxxxxxxxxxx"));
  EXPECT_TRUE(looksLikePlaceholder("abcdefghijklmnopqrstuvwxyz123"));
  EXPECT_FALSE(looksLikePlaceholder(fakeToken(kAlnum, 20, 41)));
  EXPECT_TRUE(enoughEntropy(fakeToken(kAlnum, 40, 42), 3.5));
  EXPECT_FALSE(enoughEntropy("aaaaaaaabbbbbbbb", 3.0));
}

// Switchyard's own keys, generated here: a leaked key is found wherever it is pasted, and only a
// value whose check characters match counts.
TEST(SwitchyardKeyDetectorTest, FindsGeneratedKeys) {
  for (const std::string& id :
       {std::string("analytics-batch"), std::string("k"), std::string(63, 'z')}) {
    const auto key = generateKey(id);
    ASSERT_TRUE(key.has_value());
    for (const auto& [prefix, suffix] : std::vector<std::pair<std::string, std::string>>{
             {"SWITCHYARD_KEY=", "\n"},
             {"curl -H 'Authorization: Bearer ", "' http://gw:8080/v1/models"},
             {"my key is ", ", please rotate it"},
             {"", ""}}) {
      const std::string text = prefix + *key + suffix;
      EXPECT_EQ(valuesOf(defaultEngine(), text, "secret.switchyard_key"),
                std::vector<std::string>{*key})
          << text;
    }
  }
}

TEST(SwitchyardKeyDetectorTest, IgnoresLookAlikesWithoutAValidChecksum) {
  const auto key = generateKey("analytics-batch");
  ASSERT_TRUE(key.has_value());
  std::string altered = *key;
  altered[altered.size() - 10] = altered[altered.size() - 10] == 'Q' ? 'R' : 'Q';
  std::string truncated = key->substr(0, key->size() - 1);
  for (const std::string& text : {"token: " + altered, "token: " + truncated, "token: x" + *key,
                                  "syk_analytics-batch_" + fakeToken(kAlnum, 49, 50)}) {
    EXPECT_TRUE(valuesOf(defaultEngine(), text, "secret.switchyard_key").empty()) << text;
  }
}

TEST(SwitchyardKeyDetectorTest, IsRestrictedAndOnByDefault) {
  const DetectorInfo* info = defaultEngine().detector("secret.switchyard_key");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->detector_class, DetectorClass::Secret);
  EXPECT_EQ(info->level, "restricted");
}

TEST(SecretStreamingHintsTest, SecretsAreRestrictedByDefault) {
  const DetectorInfo* info = defaultEngine().detector("secret.github_token");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->detector_class, DetectorClass::Secret);
  EXPECT_EQ(info->level, "restricted");
}

}  // namespace
}  // namespace sy::policies
