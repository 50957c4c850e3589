// API keys: the key format and its checksum, hashes (known-answer vectors), the constant-time
// comparison (every byte read, whatever the mismatch position: counted, not timed), KeyRing
// authentication, and the scope checks of a Principal with their exact messages. Keys are
// generated at test time: no key-shaped literal lives in this file.
#include "policies/keys.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace sy::policies {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::system_clock;

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// A key entry (designated initializers would trip -Wmissing-field-initializers on GCC 12).
KeySpec spec(std::string id, std::string hash) {
  KeySpec key;
  key.id = std::move(id);
  key.hash = std::move(hash);
  return key;
}

std::string newKey(std::string_view id) {
  auto key = generateKey(id);
  EXPECT_TRUE(key.has_value()) << key.error().message;
  return key.value_or("");
}

// --- Format ---------------------------------------------------------------------------------

TEST(KeyFormatTest, GeneratedKeysHaveTheDocumentedShapeAndParseBack) {
  const std::string key = newKey("analytics-batch");
  const std::string prefix = "syk_analytics-batch_";
  ASSERT_TRUE(key.starts_with(prefix)) << key;
  EXPECT_EQ(key.size(), prefix.size() + kKeySecretChars + kKeyCheckChars);
  const std::string_view tail = std::string_view(key).substr(prefix.size());
  EXPECT_EQ(tail.find_first_not_of(kBase62), std::string_view::npos) << key;
  const auto parsed = parseKey(key);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->id, "analytics-batch");
  EXPECT_EQ(parsed->id.data(), key.data() + 4);  // a view into the key, not a copy
}

TEST(KeyFormatTest, EveryKeyIsNew) {
  const std::string a = newKey("k");
  const std::string b = newKey("k");
  EXPECT_NE(a, b);
}

TEST(KeyFormatTest, IdsFollowTheRule) {
  EXPECT_TRUE(isValidKeyId("a"));
  EXPECT_TRUE(isValidKeyId("0"));
  EXPECT_TRUE(isValidKeyId("analytics-batch-2"));
  EXPECT_TRUE(isValidKeyId(std::string(63, 'z')));
  EXPECT_FALSE(isValidKeyId(""));
  EXPECT_FALSE(isValidKeyId(std::string(64, 'z')));
  EXPECT_FALSE(isValidKeyId("-a"));
  EXPECT_FALSE(isValidKeyId("Analytics"));
  EXPECT_FALSE(isValidKeyId("a_b"));
  EXPECT_FALSE(isValidKeyId("a.b"));
  EXPECT_FALSE(isValidKeyId("a b"));
}

TEST(KeyFormatTest, GenerateRefusesAnInvalidId) {
  const auto key = generateKey("Not_Valid");
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(key.error().message,
            "invalid key id 'Not_Valid' (use lowercase letters, digits and '-', starting with a "
            "letter or digit, at most 63 characters)");
  EXPECT_TRUE(generateKey(std::string(63, 'a')).has_value());
}

TEST(KeyFormatTest, ParseRejectsWrongShapes) {
  const std::string key = newKey("k");
  EXPECT_FALSE(parseKey(key.substr(0, key.size() - 1)));  // truncated
  EXPECT_FALSE(parseKey(key + "0"));                      // one character too many
  EXPECT_FALSE(parseKey("x" + key));
  EXPECT_FALSE(parseKey(" " + key));
  EXPECT_FALSE(parseKey("SYK_" + key.substr(4)));
  EXPECT_FALSE(parseKey("syk_" + key.substr(6)));  // no id separator left
  EXPECT_FALSE(parseKey(""));
  EXPECT_FALSE(parseKey("syk_"));
  EXPECT_FALSE(parseKey("syk__" + key.substr(6)));  // empty id
}

// CRC32 detects every error burst of up to 32 bits, so every single-character change fails.
TEST(KeyFormatTest, TheChecksumCatchesEverySingleCharacterChange) {
  const std::string key = newKey("team-key-7");
  const std::string alphabet = std::string(kBase62) + "-_";
  size_t variants = 0;
  for (size_t i = 0; i < key.size(); ++i) {
    for (const char c : alphabet) {
      if (c == key[i]) {
        continue;
      }
      std::string changed = key;
      changed[i] = c;
      ++variants;
      EXPECT_FALSE(parseKey(changed).has_value()) << "position " << i << " -> " << c;
    }
  }
  EXPECT_EQ(variants, key.size() * (alphabet.size() - 1));
}

TEST(KeyFormatTest, Crc32IsZlibs) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

// --- Hashes ---------------------------------------------------------------------------------

// Expected values computed with `openssl dgst -sha256 [-hmac KEY]`; the first two are the
// FIPS 180-2 and RFC 4231 (test case 2) vectors.
TEST(KeyHashTest, Sha256KnownAnswers) {
  EXPECT_EQ(hashKey("abc", ""),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hashKey("switchyard gateway", ""),
            "sha256:0b13c6105199c76f27fb33c917f348b47850fa3f13bb2ac160e1283c534e0f52");
}

TEST(KeyHashTest, HmacSha256KnownAnswers) {
  EXPECT_EQ(hashKey("what do ya want for nothing?", "Jefe"),
            "hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hashKey("switchyard gateway", "pepper-for-tests"),
            "hmac-sha256:bab4003029d28601a48ea7095fe994e946602800c71da13bb54aeff55b1e0fdd");
}

TEST(KeyHashTest, ValidHashesAreLowercaseHexOfTheRightLength) {
  const std::string hex(64, 'f');
  EXPECT_TRUE(isValidKeyHash("sha256:" + hex));
  EXPECT_TRUE(isValidKeyHash("hmac-sha256:" + hex));
  EXPECT_TRUE(isValidKeyHash(hashKey("x", "")));
  EXPECT_FALSE(isValidKeyHash("sha256:" + std::string(64, 'F')));
  EXPECT_FALSE(isValidKeyHash("sha256:" + hex.substr(1)));
  EXPECT_FALSE(isValidKeyHash("sha256:" + hex + "0"));
  EXPECT_FALSE(isValidKeyHash("sha512:" + hex));
  EXPECT_FALSE(isValidKeyHash(hex));
  EXPECT_FALSE(isValidKeyHash(""));
}

// --- Constant-time comparison ---------------------------------------------------------------

// Bytes that count how often each one is read.
struct CountingBytes {
  std::vector<uint8_t> bytes;
  mutable std::vector<int> reads = std::vector<int>(bytes.size(), 0);
  uint8_t operator[](size_t i) const {
    ++reads[i];
    return bytes[i];
  }
};

// "A timing test shows no early exit", without a clock: whatever the position of the first
// difference, every byte of both inputs is read exactly once.
TEST(ConstantTimeEqualTest, ReadsEveryByteWhateverTheMismatchPosition) {
  for (const int mismatch : {-1, 0, 1, 15, 30, 31}) {
    CountingBytes a{std::vector<uint8_t>(32, 0x5a)};
    CountingBytes b{std::vector<uint8_t>(32, 0x5a)};
    if (mismatch >= 0) {
      b.bytes[static_cast<size_t>(mismatch)] ^= 0x01;
    }
    EXPECT_EQ(constantTimeEqual(a, b, 32), mismatch < 0) << mismatch;
    EXPECT_EQ(a.reads, std::vector<int>(32, 1)) << "mismatch at " << mismatch;
    EXPECT_EQ(b.reads, std::vector<int>(32, 1)) << "mismatch at " << mismatch;
  }
}

TEST(ConstantTimeEqualTest, ComparesArrays) {
  KeyDigest a{};
  KeyDigest b{};
  EXPECT_TRUE(constantTimeEqual(a, b, a.size()));
  b[31] = 0x80;
  EXPECT_FALSE(constantTimeEqual(a, b, a.size()));
  b[31] = 0;
  b[0] = 1;
  EXPECT_FALSE(constantTimeEqual(a, b, a.size()));
}

// --- Globs ----------------------------------------------------------------------------------

TEST(GlobMatchTest, StarAndQuestionMark) {
  EXPECT_TRUE(globMatch("llama*", "llama"));
  EXPECT_TRUE(globMatch("llama*", "llama-3.1-8b"));
  EXPECT_FALSE(globMatch("llama*", "codellama"));
  EXPECT_TRUE(globMatch("*llama*", "codellama-7b"));
  EXPECT_TRUE(globMatch("qwen?", "qwen2"));
  EXPECT_FALSE(globMatch("qwen?", "qwen"));
  EXPECT_FALSE(globMatch("qwen?", "qwen25"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("gpt-4o", "gpt-4o"));
  EXPECT_FALSE(globMatch("gpt-4o", "gpt-4o-mini"));
  EXPECT_TRUE(globMatch("a*b*c", "aXXbYYbZZc"));
  EXPECT_FALSE(globMatch("a*b*c", "aXXbYYbZZ"));
  EXPECT_FALSE(globMatch("", "a"));
  EXPECT_TRUE(globMatch("meta-llama/*-Instruct", "meta-llama/Llama-3.1-8B-Instruct"));
  EXPECT_TRUE(globMatch(std::string(20, '*') + "b", std::string(1000, 'a') + "b"));
}

// --- KeyRing: authentication ----------------------------------------------------------------

struct Ring {
  KeyRing ring;
  std::string key;       // analytics-batch
  std::string expired;   // old
  std::string disabled;  // off
};

const auto kNow = system_clock::time_point(sys_days(std::chrono::June / 1 / 2027));

Ring makeRing(bool anonymous = false) {
  Ring out{KeyRing::create({}, SensitivityLevels(), "").value(), newKey("analytics-batch"),
           newKey("old"), newKey("off")};
  AuthConfig config;
  config.anonymous = anonymous;
  config.keys.push_back(spec("analytics-batch", hashKey(out.key, "")));
  config.keys.back().team = "analytics";
  config.keys.push_back(spec("old", hashKey(out.expired, "")));
  config.keys.back().expires = system_clock::time_point(sys_days(std::chrono::May / 1 / 2027));
  config.keys.push_back(spec("off", hashKey(out.disabled, "")));
  config.keys.back().disabled = true;
  auto ring = KeyRing::create(config, SensitivityLevels(), "");
  EXPECT_TRUE(ring.has_value()) << ring.error().message;
  out.ring = std::move(*ring);
  return out;
}

void expectError(const Result<const Principal*>& result, std::string_view code_id,
                 std::string_view message) {
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::Unauthenticated);
  EXPECT_EQ(toHttpStatus(result.error()), 401u);
  EXPECT_EQ(result.error().code_id, code_id);
  EXPECT_EQ(result.error().message, message);
}

TEST(KeyRingTest, AcceptsABearerToken) {
  const Ring r = makeRing();
  const auto principal = r.ring.authenticate("Bearer " + r.key, "", kNow);
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_EQ((*principal)->key_id, "analytics-batch");
  EXPECT_EQ((*principal)->team, "analytics");
  EXPECT_FALSE((*principal)->anonymous);
  EXPECT_EQ(*principal, r.ring.find("analytics-batch"));
}

TEST(KeyRingTest, AcceptsTheBearerSchemeInAnyCaseAndSurroundingSpaces) {
  const Ring r = makeRing();
  for (const std::string& header :
       {"bearer " + r.key, "BEARER " + r.key, "bEaReR\t" + r.key, "  Bearer   " + r.key + "  "}) {
    EXPECT_TRUE(r.ring.authenticate(header, "", kNow).has_value()) << header;
  }
}

TEST(KeyRingTest, AcceptsAnXApiKeyHeader) {
  const Ring r = makeRing();
  const auto principal = r.ring.authenticate("", r.key, kNow);
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_EQ((*principal)->key_id, "analytics-batch");
}

TEST(KeyRingTest, AcceptsBothHeadersWhenTheyCarryTheSameKey) {
  const Ring r = makeRing();
  EXPECT_TRUE(r.ring.authenticate("Bearer " + r.key, r.key, kNow).has_value());
  expectError(r.ring.authenticate("Bearer " + r.key, r.expired, kNow), "invalid_api_key",
              "Invalid API key: 'Authorization' and 'x-api-key' carry different keys.");
}

TEST(KeyRingTest, AnotherAuthorizationSchemeDefersToXApiKey) {
  const Ring r = makeRing();
  EXPECT_TRUE(r.ring.authenticate("Basic dXNlcjpwYXNz", r.key, kNow).has_value());
  expectError(r.ring.authenticate("Basic dXNlcjpwYXNz", "", kNow), "invalid_api_key",
              "Invalid API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.");
  expectError(r.ring.authenticate("Bearer", "", kNow), "invalid_api_key",
              "Invalid API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.");
  expectError(r.ring.authenticate(r.key, "", kNow), "invalid_api_key",
              "Invalid API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.");
}

TEST(KeyRingTest, MissingKey) {
  const Ring r = makeRing();
  for (const auto& [authorization, x_api_key] :
       std::vector<std::pair<std::string, std::string>>{{"", ""}, {"  ", " "}}) {
    expectError(r.ring.authenticate(authorization, x_api_key, kNow), "missing_api_key",
                "Missing API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.");
  }
}

// Unknown id, wrong secret and a malformed key are indistinguishable, and nothing of what was
// presented (not even the id, which the caller controls) is echoed.
TEST(KeyRingTest, UnknownIdWrongSecretAndMalformedKeysGetTheSameAnswer) {
  const Ring r = makeRing();
  const std::string unknown = newKey("ghost");
  const std::string wrong_secret = newKey("analytics-batch");
  std::string bad_checksum = r.key;
  bad_checksum.back() = bad_checksum.back() == 'a' ? 'b' : 'a';
  for (const std::string& presented :
       {unknown, wrong_secret, bad_checksum, std::string("not-a-key"), r.key + "x"}) {
    const auto result = r.ring.authenticate("Bearer " + presented, "", kNow);
    expectError(result, "invalid_api_key", "Invalid API key.");
    expectError(r.ring.authenticate("", presented, kNow), "invalid_api_key", "Invalid API key.");
  }
}

TEST(KeyRingTest, AnExpiredKeyNamesItsIdAndTheInstant) {
  const Ring r = makeRing();
  expectError(r.ring.authenticate("Bearer " + r.expired, "", kNow), "invalid_api_key",
              "API key 'old' expired at 2027-05-01T00:00:00Z.");
  const auto before = system_clock::time_point(sys_days(std::chrono::May / 1 / 2027)) - 1s;
  EXPECT_TRUE(r.ring.authenticate("Bearer " + r.expired, "", before).has_value());
}

TEST(KeyRingTest, ADisabledKeyNamesItsId) {
  const Ring r = makeRing();
  expectError(r.ring.authenticate("Bearer " + r.disabled, "", kNow), "invalid_api_key",
              "API key 'off' is disabled.");
}

TEST(KeyRingTest, DisabledAndExpiredAreOnlyToldToTheKeyHolder) {
  const Ring r = makeRing();
  const std::string forged = newKey("off");  // the right id, not the right secret
  expectError(r.ring.authenticate("Bearer " + forged, "", kNow), "invalid_api_key",
              "Invalid API key.");
}

TEST(KeyRingTest, AnonymousTrafficWhenAllowed) {
  const Ring r = makeRing(/*anonymous=*/true);
  const auto principal = r.ring.authenticate("", "", kNow);
  ASSERT_TRUE(principal.has_value());
  EXPECT_EQ(*principal, &KeyRing::anonymousPrincipal());
  EXPECT_EQ((*principal)->key_id, "anonymous");
  EXPECT_TRUE((*principal)->anonymous);
  EXPECT_EQ((*principal)->team, "");
  EXPECT_FALSE((*principal)->scopes.tiers.has_value());
  EXPECT_TRUE((*principal)->key_limits.empty());
  // A placeholder that is not a Switchyard key (SDKs insist on sending one) is served
  // anonymously; a Switchyard key is still verified.
  EXPECT_EQ(*r.ring.authenticate("Bearer not-a-key", "", kNow), &KeyRing::anonymousPrincipal());
  EXPECT_EQ((*r.ring.authenticate("", r.key, kNow))->key_id, "analytics-batch");
  EXPECT_FALSE(r.ring.authenticate("Bearer " + newKey("analytics-batch"), "", kNow).has_value());
}

TEST(KeyRingTest, HmacHashesNeedThePepper) {
  const std::string key = newKey("peppered");
  AuthConfig config;
  config.keys.push_back(spec("peppered", hashKey(key, "pepper")));
  const auto without = KeyRing::create(config, SensitivityLevels(), "");
  ASSERT_FALSE(without.has_value());
  EXPECT_EQ(without.error().message,
            "keys[0] 'peppered': an hmac-sha256 hash needs the pepper (set the environment "
            "variable named by auth.pepper_env)");
  const auto with = KeyRing::create(config, SensitivityLevels(), "pepper");
  ASSERT_TRUE(with.has_value()) << with.error().message;
  EXPECT_TRUE(with->authenticate("Bearer " + key, "", kNow).has_value());
  const auto other_pepper = KeyRing::create(config, SensitivityLevels(), "salt");
  ASSERT_TRUE(other_pepper.has_value());
  expectError(other_pepper->authenticate("Bearer " + key, "", kNow), "invalid_api_key",
              "Invalid API key.");
}

TEST(KeyRingTest, AdminKeys) {
  const std::string admin = newKey("ops");
  AuthConfig config;
  config.anonymous = true;
  const auto open = KeyRing::create(config, SensitivityLevels(), "");
  ASSERT_TRUE(open.has_value());
  EXPECT_TRUE(open->adminOpen());
  EXPECT_EQ(*open->authenticateAdmin("", ""), &KeyRing::anonymousPrincipal());

  const std::string data_key = newKey("ops");  // same id, but a data-plane key
  config.admin_keys.push_back({"ops", hashKey(admin, "")});
  config.keys.push_back(spec("ops", hashKey(data_key, "")));
  const auto ring = KeyRing::create(config, SensitivityLevels(), "");
  ASSERT_TRUE(ring.has_value()) << ring.error().message;
  EXPECT_FALSE(ring->adminOpen());
  const auto ok = ring->authenticateAdmin("Bearer " + admin, "");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ((*ok)->key_id, "ops");
  expectError(ring->authenticateAdmin("", ""), "missing_api_key",
              "Missing admin key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.");
  expectError(ring->authenticateAdmin("", data_key), "invalid_api_key", "Invalid API key.");
  expectError(ring->authenticate("", admin, kNow), "invalid_api_key", "Invalid API key.");
}

TEST(KeyRingTest, CreateRejectsInvalidEntries) {
  const std::string sha = "sha256:" + std::string(64, 'a');
  const auto fails = [](const AuthConfig& config) {
    const auto ring = KeyRing::create(config, SensitivityLevels(), "");
    return ring ? std::string("(created)") : ring.error().message;
  };
  AuthConfig duplicate;
  duplicate.keys = {spec("k", sha), spec("k", sha)};
  EXPECT_EQ(fails(duplicate), "keys[1]: duplicate key id 'k'");
  AuthConfig bad_hash;
  bad_hash.keys = {spec("k", "sha256:abc")};
  EXPECT_EQ(fails(bad_hash),
            "keys[0] 'k': invalid hash (expected \"sha256:<64 lowercase hex>\" or "
            "\"hmac-sha256:<64 lowercase hex>\")");
  AuthConfig bad_id;
  bad_id.admin_keys = {{"Ops", sha}};
  EXPECT_EQ(fails(bad_id), "auth.admin_keys[0]: invalid key id 'Ops'");
  AuthConfig bad_endpoint;
  bad_endpoint.keys = {spec("k", sha)};
  bad_endpoint.keys[0].allow.endpoints = {"completions"};
  EXPECT_EQ(fails(bad_endpoint),
            "key 'k': unknown endpoint 'completions' (expected one of: chat, embeddings, models, responses)");
  AuthConfig bad_level;
  bad_level.keys = {spec("k", sha)};
  bad_level.keys[0].sensitivity_floor = "secret";
  EXPECT_EQ(fails(bad_level), "key 'k': sensitivity_floor: unknown sensitivity level 'secret'");
  AuthConfig bad_team;
  bad_team.teams.resize(1);
  bad_team.teams[0].name = "t";
  bad_team.teams[0].allow.max_external_sensitivity = "secret";
  EXPECT_EQ(fails(bad_team),
            "team 't': allow.max_external_sensitivity: unknown sensitivity level 'secret'");
  AuthConfig duplicate_team;
  duplicate_team.teams.resize(2);
  duplicate_team.teams[0].name = duplicate_team.teams[1].name = "t";
  EXPECT_EQ(fails(duplicate_team), "duplicate team 't'");
}

TEST(KeyRingTest, FindsKeysById) {
  const Ring r = makeRing();
  EXPECT_EQ(r.ring.size(), 3u);
  ASSERT_NE(r.ring.find("old"), nullptr);
  EXPECT_EQ(r.ring.find("old")->key_id, "old");
  EXPECT_EQ(r.ring.find("ghost"), nullptr);
}

TEST(KeyRingTest, PrincipalsSurviveMovingTheRing) {
  Ring r = makeRing();
  const Principal* before = r.ring.find("analytics-batch");
  const KeyRing moved = std::move(r.ring);
  EXPECT_EQ(moved.find("analytics-batch"), before);
  EXPECT_EQ(*moved.authenticate("Bearer " + r.key, "", kNow), before);
}

TEST(KeyRingTest, FormatsInstantsInUtc) {
  EXPECT_EQ(formatUtc(system_clock::time_point(sys_days(std::chrono::June / 30 / 2027) + 23h +
                                               59min + 59s + 900ms)),
            "2027-06-30T23:59:59Z");
  EXPECT_EQ(formatUtc(system_clock::time_point{}), "1970-01-01T00:00:00Z");
}

// --- Principal: scopes ----------------------------------------------------------------------

// Team `analytics`: tiers local+frontier, chat+embeddings, models llama*, internal, 4096 tokens.
// Key `analytics-batch`: tier local, chat+models, models *-8b, confidential, 1000 tokens.
AuthConfig scopedConfig() {
  AuthConfig config;
  TeamSpec team;
  team.name = "analytics";
  team.allow.endpoints = {"chat", "embeddings"};
  team.allow.tiers = {"local", "frontier"};
  team.allow.models = {"llama*"};
  team.allow.max_external_sensitivity = "internal";
  team.allow.max_tokens = 4096;
  team.limits.rpm = 1000;
  team.limits.tpm = 500000;
  team.limits.concurrency = 20;
  team.limits.budget_day_usd = 20;
  team.limits.budget_month_usd = 500;
  config.teams.push_back(team);
  KeySpec key = spec("analytics-batch", "sha256:" + std::string(64, '0'));
  key.team = "analytics";
  key.allow.endpoints = {"models", "chat"};
  key.allow.tiers = {"local"};
  key.allow.models = {"*-8b"};
  key.allow.max_external_sensitivity = "confidential";
  key.allow.max_tokens = 1000;
  key.limits.rpm = 60;
  key.sensitivity_floor = "internal";
  config.keys.push_back(key);
  return config;
}

const Principal& scoped() {
  static const KeyRing ring = KeyRing::create(scopedConfig(), SensitivityLevels(), "").value();
  return *ring.find("analytics-batch");
}

void expectDenied(const Status& status, std::string_view message) {
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::PermissionDenied);
  EXPECT_EQ(toHttpStatus(status.error()), 403u);
  EXPECT_EQ(status.error().code_id, "policy_violation");
  EXPECT_EQ(status.error().message, message);
}

TEST(PrincipalTest, TheEffectiveScopeIsTheIntersectionOfKeyAndTeam) {
  const Principal& p = scoped();
  EXPECT_TRUE(p.team_declared);
  EXPECT_EQ(p.scopes.endpoints, std::vector<std::string>{"chat"});
  EXPECT_EQ(p.scopes.tiers, std::vector<std::string>{"local"});
  EXPECT_EQ(p.scopes.key_models, std::vector<std::string>{"*-8b"});
  EXPECT_EQ(p.scopes.team_models, std::vector<std::string>{"llama*"});
  EXPECT_EQ(p.scopes.max_tokens, 1000u);
  EXPECT_EQ(p.scopes.max_external_sensitivity, 1);  // internal, the team's, is stricter
  EXPECT_EQ(p.sensitivity_floor, 1);
  EXPECT_EQ(p.key_limits.rpm, 60u);
  EXPECT_EQ(p.team_limits.rpm, 1000u);
  EXPECT_DOUBLE_EQ(p.team_limits.budget_month_usd, 500);
}

TEST(PrincipalTest, Endpoints) {
  const Principal& p = scoped();
  EXPECT_TRUE(p.allowEndpoint("chat").has_value());
  expectDenied(p.allowEndpoint("embeddings"),
               "Key 'analytics-batch' may not use endpoint 'embeddings' (allowed endpoints: "
               "chat).");
  expectDenied(p.allowEndpoint("models"),  // the key allows it, the team does not
               "Key 'analytics-batch' may not use endpoint 'models' (allowed endpoints: chat).");
}

TEST(PrincipalTest, Tiers) {
  const Principal& p = scoped();
  EXPECT_TRUE(p.allowTier("local").has_value());
  expectDenied(p.allowTier("frontier"),
               "Key 'analytics-batch' may not use tier 'frontier' (allowed tiers: local).");
  expectDenied(p.allowTier(""),
               "Key 'analytics-batch' may not use a model outside its allowed tiers (allowed "
               "tiers: local).");
}

TEST(PrincipalTest, ModelsMustMatchTheKeysAndTheTeamsGlobs) {
  const Principal& p = scoped();
  EXPECT_TRUE(p.allowModel("llama-3.1-8b").has_value());
  EXPECT_TRUE(p.mayUseModel("llama-3.1-8b"));
  expectDenied(p.allowModel("gpt-4o"),
               "Key 'analytics-batch' may not use model 'gpt-4o' (allowed models: *-8b).");
  expectDenied(p.allowModel("qwen-8b"),
               "Key 'analytics-batch' may not use model 'qwen-8b' (team 'analytics' allows "
               "models: llama*).");
  EXPECT_FALSE(p.mayUseModel("qwen-8b"));
  const std::string long_name(300, 'm');
  expectDenied(p.allowModel(long_name), "Key 'analytics-batch' may not use model '" +
                                            std::string(128, 'm') + "...' (allowed models: *-8b).");
}

TEST(PrincipalTest, MaxTokens) {
  const Principal& p = scoped();
  EXPECT_TRUE(p.allowMaxTokens(0).has_value());  // none given
  EXPECT_TRUE(p.allowMaxTokens(1000).has_value());
  expectDenied(p.allowMaxTokens(1001),
               "Key 'analytics-batch' may not request more than 1000 max_tokens (requested "
               "1001).");
}

TEST(PrincipalTest, ExternalSensitivity) {
  const Principal& p = scoped();
  EXPECT_TRUE(p.mayReachExternal(0));
  EXPECT_TRUE(p.mayReachExternal(1));
  EXPECT_FALSE(p.mayReachExternal(2));
  EXPECT_TRUE(KeyRing::anonymousPrincipal().mayReachExternal(3));
}

TEST(PrincipalTest, DisjointListsAllowNothing) {
  AuthConfig config = scopedConfig();
  config.keys[0].allow.tiers = {"gpu"};
  const auto ring = KeyRing::create(config, SensitivityLevels(), "");
  ASSERT_TRUE(ring.has_value());
  const Principal& p = *ring->find("analytics-batch");
  ASSERT_TRUE(p.scopes.tiers.has_value());
  EXPECT_TRUE(p.scopes.tiers->empty());
  expectDenied(p.allowTier("local"),
               "Key 'analytics-batch' may not use tier 'local' (allowed tiers: none).");
}

TEST(PrincipalTest, AnUndeclaredTeamAddsNothing) {
  AuthConfig config = scopedConfig();
  config.keys[0].team = "finance";
  const auto ring = KeyRing::create(config, SensitivityLevels(), "");
  ASSERT_TRUE(ring.has_value());
  const Principal& p = *ring->find("analytics-batch");
  EXPECT_EQ(p.team, "finance");
  EXPECT_FALSE(p.team_declared);
  EXPECT_EQ(p.scopes.endpoints, (std::vector<std::string>{"models", "chat"}));
  EXPECT_TRUE(p.scopes.team_models.empty());
  EXPECT_EQ(p.scopes.max_external_sensitivity, 2);  // confidential, the key's own
  EXPECT_TRUE(p.team_limits.empty());
  EXPECT_TRUE(p.allowModel("qwen-8b").has_value());
}

TEST(PrincipalTest, NoScopesAllowEverything) {
  AuthConfig config;
  config.keys.push_back(spec("k", "sha256:" + std::string(64, '1')));
  const auto ring = KeyRing::create(config, SensitivityLevels(), "");
  ASSERT_TRUE(ring.has_value());
  const Principal& p = *ring->find("k");
  EXPECT_TRUE(p.allowEndpoint("embeddings").has_value());
  EXPECT_TRUE(p.allowTier("anything").has_value());
  EXPECT_TRUE(p.allowTier("").has_value());
  EXPECT_TRUE(p.allowModel("auto").has_value());
  EXPECT_TRUE(p.allowMaxTokens(1'000'000).has_value());
  EXPECT_TRUE(p.mayReachExternal(3));
  EXPECT_EQ(p.sensitivity_floor, -1);
}

}  // namespace
}  // namespace sy::policies
