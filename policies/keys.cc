#include "policies/keys.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <span>

namespace sy::policies {
namespace {

using std::chrono::system_clock;

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kSha256Prefix = "sha256:";
constexpr std::string_view kHmacPrefix = "hmac-sha256:";
constexpr std::string_view kEndpoints[] = {"chat", "embeddings", "models", "responses"};
constexpr size_t kMaxEchoedModelChars = 128;

bool isBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool isLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// `value` in base62, most significant digit first, left-padded with '0' to out.size() digits.
// The caller guarantees that it fits (62^6 > 2^32).
void base62(uint32_t value, std::span<char> out) {
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = kBase62[value % 62];
    value /= 62;
  }
}

// 32 bytes (a big-endian number below 2^256 < 62^43) as exactly 43 base62 digits.
std::string base62Secret(std::array<uint8_t, 32> number) {
  std::string out(kKeySecretChars, '0');
  for (size_t pos = kKeySecretChars; pos-- > 0;) {
    unsigned remainder = 0;
    for (uint8_t& byte : number) {
      const unsigned current = remainder * 256 + byte;
      byte = static_cast<uint8_t>(current / 62);
      remainder = current % 62;
    }
    out[pos] = kBase62[remainder];
  }
  return out;
}

std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    table[n] = c;
  }
  return table;
}

enum class DigestKind { Sha256, HmacSha256 };

// SHA-256 or HMAC-SHA256 of `key` into `out`; false when OpenSSL fails (never expected).
bool digestOf(std::string_view key, DigestKind kind, std::string_view pepper, KeyDigest& out) {
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  if (kind == DigestKind::Sha256) {
    return SHA256(data, key.size(), out.data()) != nullptr;
  }
  unsigned length = 0;
  return HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()), data, key.size(),
              out.data(), &length) != nullptr &&
         length == out.size();
}

std::string hex(const KeyDigest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (const uint8_t byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

uint8_t hexValue(char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); }

// The kind and digest of a stored hash; nullopt when malformed.
std::optional<std::pair<DigestKind, KeyDigest>> decodeHash(std::string_view hash) {
  if (!isValidKeyHash(hash)) {
    return std::nullopt;
  }
  const bool hmac = hash.starts_with(kHmacPrefix);
  const std::string_view digits = hash.substr(hmac ? kHmacPrefix.size() : kSha256Prefix.size());
  KeyDigest digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    digest[i] = static_cast<uint8_t>(hexValue(digits[2 * i]) << 4 | hexValue(digits[2 * i + 1]));
  }
  return std::pair(hmac ? DigestKind::HmacSha256 : DigestKind::Sha256, digest);
}

std::string_view trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) {
    return {};
  }
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::unexpected<Error> unauthenticated(std::string message, std::string code_id) {
  return makeError(ErrorCode::Unauthenticated, ErrorSource::Downstream, std::move(message),
                   std::move(code_id));
}

std::unexpected<Error> invalidKey(std::string message = "Invalid API key.") {
  return unauthenticated(std::move(message), "invalid_api_key");
}

std::unexpected<Error> denied(std::string message) {
  return makeError(ErrorCode::PermissionDenied, ErrorSource::Downstream, std::move(message),
                   "policy_violation");
}

std::unexpected<Error> configError(std::string message) {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Config, std::move(message));
}

// The key a request presents: none, one (a view into a header), or an unusable header.
struct Presented {
  enum class Kind { None, Key, Unusable, Conflict } kind = Kind::None;
  std::string_view key;
};

// `Authorization: Bearer <key>` (scheme in any case) and/or `x-api-key: <key>`. An Authorization
// header with another scheme is ignored when x-api-key carries a key, and unusable otherwise.
Presented presentedKey(std::string_view authorization, std::string_view x_api_key) {
  authorization = trim(authorization);
  x_api_key = trim(x_api_key);
  std::string_view bearer;
  bool other_scheme = false;
  if (!authorization.empty()) {
    const size_t space = authorization.find_first_of(" \t");
    if (space != std::string_view::npos &&
        equalsIgnoreCase(authorization.substr(0, space), "bearer")) {
      bearer = trim(authorization.substr(space));
    } else {
      other_scheme = true;  // "Basic ...", a bare key, or "Bearer" without a key
    }
  }
  if (!bearer.empty() && !x_api_key.empty()) {
    return bearer == x_api_key ? Presented{Presented::Kind::Key, bearer}
                               : Presented{Presented::Kind::Conflict, {}};
  }
  if (!bearer.empty()) {
    return {Presented::Kind::Key, bearer};
  }
  if (!x_api_key.empty()) {
    return {Presented::Kind::Key, x_api_key};
  }
  return {other_scheme ? Presented::Kind::Unusable : Presented::Kind::None, {}};
}

std::string join(const std::vector<std::string>& names) {
  if (names.empty()) {
    return "none";
  }
  std::string out;
  for (const std::string& name : names) {
    out += out.empty() ? "" : ", ";
    out += name;
  }
  return out;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool matchesAny(const std::vector<std::string>& globs, std::string_view name) {
  return globs.empty() || std::any_of(globs.begin(), globs.end(), [&](const std::string& glob) {
           return globMatch(glob, name);
         });
}

// Client-sent text in a message: bounded, so a huge model name cannot bloat the error body.
std::string echo(std::string_view text) {
  return text.size() <= kMaxEchoedModelChars
             ? std::string(text)
             : std::string(text.substr(0, kMaxEchoedModelChars)) + "...";
}

// For each list, both must allow: an empty list allows everything.
std::optional<std::vector<std::string>> intersect(const std::vector<std::string>& key,
                                                  const std::vector<std::string>& team) {
  if (key.empty() && team.empty()) {
    return std::nullopt;
  }
  const std::vector<std::string>& first = key.empty() ? team : key;
  const std::vector<std::string>& second = key.empty() ? key : team;
  std::vector<std::string> out;
  for (const std::string& name : first) {
    if ((second.empty() || contains(second, name)) && !contains(out, name)) {
      out.push_back(name);
    }
  }
  return out;
}

Status checkEndpoints(const std::vector<std::string>& endpoints, std::string_view owner) {
  for (const std::string& endpoint : endpoints) {
    if (std::find(std::begin(kEndpoints), std::end(kEndpoints), endpoint) == std::end(kEndpoints)) {
      return configError(std::string(owner) + ": unknown endpoint '" + endpoint +
                         "' (expected one of: chat, embeddings, models, responses)");
    }
  }
  return {};
}

// The rank of `level`, -1 for ""; fails on an undeclared level.
Result<int> rankOf(const SensitivityLevels& levels, const std::string& level,
                   std::string_view owner, std::string_view field) {
  if (level.empty()) {
    return -1;
  }
  const int rank = levels.rank(level);
  if (rank < 0) {
    return configError(std::string(owner) + ": " + std::string(field) +
                       ": unknown sensitivity level '" + level + "'");
  }
  return rank;
}

uint32_t minNonZero(uint32_t a, uint32_t b) {
  if (a == 0 || b == 0) {
    return std::max(a, b);
  }
  return std::min(a, b);
}

int stricterRank(int a, int b) {
  if (a < 0 || b < 0) {
    return std::max(a, b);
  }
  return std::min(a, b);
}

}  // namespace

bool isValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kKeyIdMaxChars || id.front() == '-') {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> kTable = makeCrcTable();
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : data) {
    crc = kTable[(crc ^ static_cast<uint8_t>(c)) & 0xFF] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

Result<std::string> generateKey(std::string_view id) {
  if (!isValidKeyId(id)) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                     "invalid key id '" + std::string(id) +
                         "' (use lowercase letters, digits and '-', starting with a letter or "
                         "digit, at most 63 characters)");
  }
  std::array<uint8_t, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return makeError(ErrorCode::Internal, ErrorSource::Internal,
                     "the OpenSSL random generator failed");
  }
  std::string key = std::string(kKeyPrefix) + std::string(id) + "_" + base62Secret(random);
  std::array<char, kKeyCheckChars> check{};
  base62(crc32(key), check);
  key.append(check.data(), check.size());
  return key;
}

std::optional<ParsedKey> parseKey(std::string_view text) {
  if (text.size() > kKeyMaxChars || !text.starts_with(kKeyPrefix)) {
    return std::nullopt;
  }
  const std::string_view rest = text.substr(kKeyPrefix.size());
  const size_t underscore = rest.find('_');
  if (underscore == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view id = rest.substr(0, underscore);
  const std::string_view tail = rest.substr(underscore + 1);
  if (!isValidKeyId(id) || tail.size() != kKeySecretChars + kKeyCheckChars ||
      !std::all_of(tail.begin(), tail.end(), isBase62)) {
    return std::nullopt;
  }
  std::array<char, kKeyCheckChars> check{};
  base62(crc32(text.substr(0, text.size() - kKeyCheckChars)), check);
  if (text.substr(text.size() - kKeyCheckChars) != std::string_view(check.data(), check.size())) {
    return std::nullopt;
  }
  return ParsedKey{id};
}

bool isValidKeyHash(std::string_view hash) {
  std::string_view digits;
  if (hash.starts_with(kSha256Prefix)) {
    digits = hash.substr(kSha256Prefix.size());
  } else if (hash.starts_with(kHmacPrefix)) {
    digits = hash.substr(kHmacPrefix.size());
  } else {
    return false;
  }
  return digits.size() == 64 && std::all_of(digits.begin(), digits.end(), isLowerHex);
}

std::string hashKey(std::string_view key, std::string_view pepper) {
  KeyDigest digest{};
  const DigestKind kind = pepper.empty() ? DigestKind::Sha256 : DigestKind::HmacSha256;
  if (!digestOf(key, kind, pepper, digest)) {
    return "";  // OpenSSL failed: never expected, and an empty hash is never valid
  }
  return std::string(pepper.empty() ? kSha256Prefix : kHmacPrefix) + hex(digest);
}

std::string formatUtc(system_clock::time_point t) {
  using namespace std::chrono;
  const auto seconds = floor<std::chrono::seconds>(t);
  const auto day = floor<days>(seconds);
  const year_month_day date(day);
  const hh_mm_ss time(seconds - day);
  char out[32];
  std::snprintf(out, sizeof(out), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return out;
}

// --- Principal -----------------------------------------------------------------------------

bool Principal::mayUseEndpoint(std::string_view endpoint) const {
  return !scopes.endpoints || contains(*scopes.endpoints, endpoint);
}

bool Principal::mayUseModel(std::string_view requested_model) const {
  return matchesAny(scopes.key_models, requested_model) &&
         matchesAny(scopes.team_models, requested_model);
}

bool Principal::mayUseTier(std::string_view tier) const {
  return !scopes.tiers || (!tier.empty() && contains(*scopes.tiers, tier));
}

Status Principal::allowEndpoint(std::string_view endpoint) const {
  if (mayUseEndpoint(endpoint)) {
    return {};
  }
  return denied("Key '" + key_id + "' may not use endpoint '" + std::string(endpoint) +
                "' (allowed endpoints: " + join(*scopes.endpoints) + ").");
}

Status Principal::allowModel(std::string_view requested_model) const {
  if (!matchesAny(scopes.key_models, requested_model)) {
    return denied("Key '" + key_id + "' may not use model '" + echo(requested_model) +
                  "' (allowed models: " + join(scopes.key_models) + ").");
  }
  if (!matchesAny(scopes.team_models, requested_model)) {
    return denied("Key '" + key_id + "' may not use model '" + echo(requested_model) + "' (team '" +
                  team + "' allows models: " + join(scopes.team_models) + ").");
  }
  return {};
}

Status Principal::allowTier(std::string_view tier) const {
  if (mayUseTier(tier)) {
    return {};
  }
  if (tier.empty()) {
    return denied("Key '" + key_id +
                  "' may not use a model outside its allowed tiers (allowed tiers: " +
                  join(*scopes.tiers) + ").");
  }
  return denied("Key '" + key_id + "' may not use tier '" + std::string(tier) +
                "' (allowed tiers: " + join(*scopes.tiers) + ").");
}

Status Principal::allowMaxTokens(uint32_t requested) const {
  if (scopes.max_tokens == 0 || requested <= scopes.max_tokens) {
    return {};
  }
  return denied("Key '" + key_id + "' may not request more than " +
                std::to_string(scopes.max_tokens) + " max_tokens (requested " +
                std::to_string(requested) + ").");
}

// --- KeyRing -------------------------------------------------------------------------------

const Principal& KeyRing::anonymousPrincipal() {
  static const Principal kAnonymous = [] {
    Principal principal;
    principal.key_id = "anonymous";
    principal.anonymous = true;
    return principal;
  }();
  return kAnonymous;
}

Result<KeyRing> KeyRing::create(const AuthConfig& config, const SensitivityLevels& levels,
                                std::string pepper) {
  KeyRing ring;
  ring.anonymous_ = config.anonymous;
  ring.pepper_ = std::move(pepper);

  std::map<std::string_view, const TeamSpec*> teams;
  for (const TeamSpec& team : config.teams) {
    if (!teams.emplace(team.name, &team).second) {
      return configError("duplicate team '" + team.name + "'");
    }
    if (auto ok = checkEndpoints(team.allow.endpoints, "team '" + team.name + "'"); !ok) {
      return std::unexpected(ok.error());
    }
    if (auto rank = rankOf(levels, team.allow.max_external_sensitivity, "team '" + team.name + "'",
                           "allow.max_external_sensitivity");
        !rank) {
      return std::unexpected(rank.error());
    }
  }

  // Validates the id and hash of one entry and adds it to `out` (principal filled later).
  const auto add = [&](Ring& out, std::string_view list, size_t index, const std::string& id,
                       const std::string& hash) -> Result<Entry*> {
    const std::string where = std::string(list) + "[" + std::to_string(index) + "]";
    if (!isValidKeyId(id)) {
      return configError(where + ": invalid key id '" + id + "'");
    }
    const auto decoded = decodeHash(hash);
    if (!decoded) {
      return configError(where + " '" + id +
                         "': invalid hash (expected \"sha256:<64 lowercase hex>\" or "
                         "\"hmac-sha256:<64 lowercase hex>\")");
    }
    if (decoded->first == DigestKind::HmacSha256 && ring.pepper_.empty()) {
      return configError(where + " '" + id +
                         "': an hmac-sha256 hash needs the pepper (set the environment variable "
                         "named by auth.pepper_env)");
    }
    if (!out.by_id.emplace(id, out.entries.size()).second) {
      return configError(where + ": duplicate key id '" + id + "'");
    }
    Entry& entry = out.entries.emplace_back();
    entry.kind = decoded->first == DigestKind::HmacSha256 ? HashKind::HmacSha256 : HashKind::Sha256;
    entry.digest = decoded->second;
    entry.principal.key_id = id;
    return &entry;
  };

  ring.keys_.entries.reserve(config.keys.size());
  for (size_t i = 0; i < config.keys.size(); ++i) {
    const KeySpec& key = config.keys[i];
    auto entry = add(ring.keys_, "keys", i, key.id, key.hash);
    if (!entry) {
      return std::unexpected(entry.error());
    }
    const std::string owner = "key '" + key.id + "'";
    if (auto ok = checkEndpoints(key.allow.endpoints, owner); !ok) {
      return std::unexpected(ok.error());
    }
    const auto key_external =
        rankOf(levels, key.allow.max_external_sensitivity, owner, "allow.max_external_sensitivity");
    if (!key_external) {
      return std::unexpected(key_external.error());
    }
    const auto floor = rankOf(levels, key.sensitivity_floor, owner, "sensitivity_floor");
    if (!floor) {
      return std::unexpected(floor.error());
    }
    static const TeamSpec kNoTeam;
    const auto team_it = teams.find(key.team);
    const TeamSpec& team = team_it == teams.end() ? kNoTeam : *team_it->second;

    Principal& principal = (*entry)->principal;
    principal.team = key.team;
    principal.team_declared = team_it != teams.end();
    principal.scopes.endpoints = intersect(key.allow.endpoints, team.allow.endpoints);
    principal.scopes.tiers = intersect(key.allow.tiers, team.allow.tiers);
    principal.scopes.key_models = key.allow.models;
    principal.scopes.team_models = team.allow.models;
    principal.scopes.max_tokens = minNonZero(key.allow.max_tokens, team.allow.max_tokens);
    principal.scopes.max_external_sensitivity =
        stricterRank(*key_external, levels.rank(team.allow.max_external_sensitivity));
    principal.key_limits = key.limits;
    principal.team_limits = team.limits;
    principal.sensitivity_floor = *floor;
    principal.expires = key.expires;
    principal.disabled = key.disabled;
  }

  ring.admin_.entries.reserve(config.admin_keys.size());
  for (size_t i = 0; i < config.admin_keys.size(); ++i) {
    const AdminKeySpec& key = config.admin_keys[i];
    if (auto entry = add(ring.admin_, "auth.admin_keys", i, key.id, key.hash); !entry) {
      return std::unexpected(entry.error());
    }
  }
  return ring;
}

const KeyRing::Entry* KeyRing::verify(const Ring& ring, std::string_view key) const {
  const auto parsed = parseKey(key);
  if (!parsed) {
    return nullptr;  // the shape and checksum are public: nothing secret is being compared yet
  }
  const auto it = ring.by_id.find(parsed->id);
  const Entry* entry = it == ring.by_id.end() ? nullptr : &ring.entries[it->second];
  // An unknown id costs the same digest and comparison as a known one.
  const DigestKind kind =
      entry != nullptr
          ? (entry->kind == HashKind::HmacSha256 ? DigestKind::HmacSha256 : DigestKind::Sha256)
          : (pepper_.empty() ? DigestKind::Sha256 : DigestKind::HmacSha256);
  static const KeyDigest kNoDigest{};
  KeyDigest presented{};
  const bool digested = digestOf(key, kind, pepper_, presented);
  const bool equal =
      constantTimeEqual(presented, entry != nullptr ? entry->digest : kNoDigest, presented.size());
  return digested && equal ? entry : nullptr;
}

// The 401 for a request that presents no usable key (`what`: "API" or "admin"), or success.
static Status requireKey(const Presented& presented, std::string_view what) {
  switch (presented.kind) {
    case Presented::Kind::None:
      return unauthenticated("Missing " + std::string(what) +
                                 " key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
                             "missing_api_key");
    case Presented::Kind::Unusable:
      return invalidKey(
          "Invalid API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'.");
    case Presented::Kind::Conflict:
      return invalidKey("Invalid API key: 'Authorization' and 'x-api-key' carry different keys.");
    case Presented::Kind::Key:
      break;
  }
  return {};
}

Result<const Principal*> KeyRing::authenticate(std::string_view authorization,
                                               std::string_view x_api_key,
                                               system_clock::time_point now) const {
  const Presented presented = presentedKey(authorization, x_api_key);
  // An anonymous gateway serves clients that send some placeholder of their own (SDKs insist on
  // an API key); only a Switchyard key is checked, so a bad one of those still surfaces.
  if (anonymous_ && (presented.kind != Presented::Kind::Key || !parseKey(presented.key))) {
    return &anonymousPrincipal();
  }
  if (Status usable = requireKey(presented, "API"); !usable) {
    return std::unexpected(std::move(usable.error()));
  }
  const Entry* entry = verify(keys_, presented.key);
  if (entry == nullptr) {
    return invalidKey();
  }
  const Principal& principal = entry->principal;
  if (principal.disabled) {
    return invalidKey("API key '" + principal.key_id + "' is disabled.");
  }
  if (principal.expires && now >= *principal.expires) {
    return invalidKey("API key '" + principal.key_id + "' expired at " +
                      formatUtc(*principal.expires) + ".");
  }
  return &principal;
}

Result<const Principal*> KeyRing::authenticateAdmin(std::string_view authorization,
                                                    std::string_view x_api_key) const {
  if (adminOpen()) {
    return &anonymousPrincipal();
  }
  const Presented presented = presentedKey(authorization, x_api_key);
  if (Status usable = requireKey(presented, "admin"); !usable) {
    return std::unexpected(std::move(usable.error()));
  }
  const Entry* entry = verify(admin_, presented.key);
  if (entry == nullptr) {
    return invalidKey();
  }
  return &entry->principal;
}

const Principal* KeyRing::find(std::string_view key_id) const {
  const auto it = keys_.by_id.find(key_id);
  return it == keys_.by_id.end() ? nullptr : &keys_.entries[it->second].principal;
}

}  // namespace sy::policies
