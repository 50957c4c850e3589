// Switchyard API keys: the key format (generate, parse), key hashes (what the policy stores), and
// KeyRing, which authenticates the key a request presents and yields its Principal: key id, team,
// effective scopes, limits. Pure CPU (OpenSSL for randomness and digests); no I/O.
//
// Key format: syk_<id>_<secret><check>, at most 117 characters:
//   id      [a-z0-9][a-z0-9-]{0,62}: names the key in the policy, in logs and in audit records
//   secret  32 bytes from RAND_bytes, base62 (0-9A-Za-z), exactly 43 characters (left-padded)
//   check   CRC32 (zlib's) of everything before it, base62, exactly 6 characters: a typo or a
//           look-alike fails parseKey() without any lookup (also what the DLP detector uses)
// The policy stores only a hash of the whole key: "sha256:<64 lowercase hex>" or, with a pepper
// (a secret kept outside the policy file), "hmac-sha256:<64 lowercase hex>".
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/glob.h"
#include "core/sensitivity.h"
#include "policies/access_config.h"

namespace sy::policies {

inline constexpr std::string_view kKeyPrefix = "syk_";
inline constexpr size_t kKeyIdMaxChars = 63;
inline constexpr size_t kKeySecretChars = 43;
inline constexpr size_t kKeyCheckChars = 6;
inline constexpr size_t kKeyMaxChars =
    kKeyPrefix.size() + kKeyIdMaxChars + 1 + kKeySecretChars + kKeyCheckChars;

// [a-z0-9][a-z0-9-]{0,62}.
bool isValidKeyId(std::string_view id);

// A new key for `id`: 32 fresh random bytes. Fails (InvalidArgument) on an invalid id, or
// (Internal) when the OpenSSL random generator fails.
Result<std::string> generateKey(std::string_view id);

struct ParsedKey {
  std::string_view id;  // a view into the parsed text
};

// The key's id when `text` is exactly a well-formed key whose check characters match; nullopt
// otherwise. Never allocates; thread-safe.
std::optional<ParsedKey> parseKey(std::string_view text);

// zlib's CRC32 (reflected polynomial 0xEDB88320); crc32("123456789") == 0xCBF43926.
uint32_t crc32(std::string_view data);

// The hash the policy stores for `key`: "sha256:<hex>" of the whole key, or with a non-empty
// `pepper`, "hmac-sha256:<hex>" (HMAC-SHA256 keyed with the pepper). Lowercase hex. Returns ""
// if OpenSSL fails (not expected; "" is never a valid hash).
std::string hashKey(std::string_view key, std::string_view pepper);

// True when `hash` is "sha256:" or "hmac-sha256:" followed by exactly 64 lowercase hex digits.
bool isValidKeyHash(std::string_view hash);

// Compares a[i] with b[i] for every i < n, whatever the contents: one OR accumulator, no
// data-dependent branch and no early exit, so the time taken does not reveal where the inputs
// differ. `a` and `b` are anything with operator[](size_t) returning a byte (a test passes
// counting accessors to prove that every byte is read).
template <class A, class B>
bool constantTimeEqual(const A& a, const B& b, size_t n) {
  unsigned diff = 0;
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned>(static_cast<uint8_t>(a[i]) ^ static_cast<uint8_t>(b[i]));
    // An empty asm that "may change" diff: the compiler cannot prove the result is settled
    // early, so it cannot turn the loop into one that stops at the first difference.
    __asm__ volatile("" : "+r"(diff));
  }
  return diff == 0;
}

using KeyDigest = std::array<uint8_t, 32>;

// What a principal may use once its key's and its team's scopes are intersected (for each
// list, both must allow).
struct EffectiveScopes {
  // nullopt: every endpoint ("chat", "embeddings", "models") / every tier. Otherwise only
  // these; empty when the key's and the team's lists have nothing in common.
  std::optional<std::vector<std::string>> endpoints;
  std::optional<std::vector<std::string>> tiers;
  // Globs ('*', '?') over the requested model name; the name must match one glob of each
  // non-empty list (globs do not intersect, so both lists are kept).
  std::vector<std::string> key_models;
  std::vector<std::string> team_models;
  uint32_t max_tokens = 0;            // the smaller non-zero cap of the two; 0 = no cap
  int max_external_sensitivity = -1;  // the lower (stricter) rank of the two; -1 = any level
};

// Who is calling, and what they may do. Built once by KeyRing::create() (or the static anonymous
// principal); immutable afterwards and safe to share between threads. The checks never allocate
// when they allow; a refusal is a PermissionDenied (403) error with code_id "policy_violation"
// whose message names the key and the scope (never any part of the secret), e.g.
// "Key 'analytics-batch' may not use tier 'frontier' (allowed tiers: local)."
struct Principal {
  std::string key_id;          // "anonymous" for anonymous traffic
  std::string team;            // "" = none
  bool team_declared = false;  // the team is declared in `teams`: its scopes and limits apply
  bool anonymous = false;
  EffectiveScopes scopes;
  Limits key_limits;
  Limits team_limits;          // empty unless team_declared
  int sensitivity_floor = -1;  // rank of the key's sensitivity_floor; -1 = none
  std::optional<std::chrono::system_clock::time_point> expires;  // refused from this instant on
  bool disabled = false;

  // `endpoint`: "chat", "embeddings", "models" or "responses".
  Status allowEndpoint(std::string_view endpoint) const;
  // The model name as the client sent it (glob match).
  Status allowModel(std::string_view requested_model) const;
  // The tier the request is routed to; "" (an alias naming a single backend) is allowed only
  // when the tiers are not restricted.
  Status allowTier(std::string_view tier) const;
  // The request's max_tokens (or max_completion_tokens); 0 = none given, always allowed (the
  // gateway then sends scopes.max_tokens upstream as the request's cap, when set: see
  // gateway/server/pipeline/output_bound.h).
  Status allowMaxTokens(uint32_t requested) const;
  // Whether text of this sensitivity rank may go to an external backend.
  bool mayReachExternal(int sensitivity_rank) const {
    return scopes.max_external_sensitivity < 0 ||
           sensitivity_rank <= scopes.max_external_sensitivity;
  }

  // The same decisions as the allow* checks, as booleans (e.g. to filter GET /v1/models).
  bool mayUseEndpoint(std::string_view endpoint) const;
  bool mayUseModel(std::string_view requested_model) const;
  bool mayUseTier(std::string_view tier) const;
};


// The keys and admin keys of a policy, indexed by key id. Immutable after create(); every method
// is const and thread-safe. The Principal pointers it returns stay valid as long as the KeyRing
// that returned them (moving the KeyRing keeps them valid; they point into its heap storage).
class KeyRing {
 public:
  // Fails (InvalidArgument, source Config, message naming the key) on: an invalid key id, a
  // malformed hash, a duplicate id (within keys, or within admin_keys), an hmac-sha256 hash
  // without a pepper, an unknown endpoint, or a level (max_external_sensitivity,
  // sensitivity_floor) that `levels` does not declare. A key's team need not be declared; if it
  // is, the team's scopes and limits apply too. `pepper` is the HMAC key ("" = none).
  static Result<KeyRing> create(const AuthConfig& config, const SensitivityLevels& levels,
                                std::string pepper);

  // Authenticates a data-plane request from its two header values ("" when absent):
  // `Authorization: Bearer <key>` (scheme case-insensitive) or `x-api-key: <key>`. When both are
  // present they must carry the same key. Errors: Unauthenticated (401), source Downstream,
  // code_id "missing_api_key" (no key, and anonymous traffic is not allowed) or
  // "invalid_api_key" (malformed, unknown id or wrong secret: one message, "Invalid API key.",
  // which never echoes any part of what was presented; then disabled and expired keys, which name
  // the key id from the policy). The digest is computed and compared (constant time, all 32
  // bytes) whether or not the id exists, so timing does not reveal which ids exist. With
  // `anonymous: true`, a request without a key, or with a bearer token that is not a Switchyard
  // key (SDKs insist on sending some placeholder), gets anonymousPrincipal(); a Switchyard key is
  // still verified, so a wrong one is a 401. Never allocates on success.
  Result<const Principal*> authenticate(std::string_view authorization, std::string_view x_api_key,
                                        std::chrono::system_clock::time_point now) const;

  // The same mechanics over `auth.admin_keys` (no expiry, no disabled flag). With no admin keys
  // configured the admin endpoints are open (bind the admin listener to loopback): every request,
  // with or without a key, gets anonymousPrincipal().
  Result<const Principal*> authenticateAdmin(std::string_view authorization,
                                             std::string_view x_api_key) const;

  // The principal of a configured key, by id (`explain --key-id`); nullptr when unknown.
  const Principal* find(std::string_view key_id) const;

  bool anonymousAllowed() const { return anonymous_; }
  bool adminOpen() const { return admin_.entries.empty(); }
  size_t size() const { return keys_.entries.size(); }

  // Key id "anonymous", no team, no scopes, no limits. A static object: valid forever.
  static const Principal& anonymousPrincipal();

 private:
  enum class HashKind { Sha256, HmacSha256 };
  struct Entry {
    Principal principal;
    HashKind kind = HashKind::Sha256;
    KeyDigest digest{};
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Ring {
    std::vector<Entry> entries;
    std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> by_id;
  };

  KeyRing() = default;
  // The entry whose id and digest match the presented key, or nullptr. Same work either way.
  const Entry* verify(const Ring& ring, std::string_view key) const;

  Ring keys_;
  Ring admin_;
  std::string pepper_;
  bool anonymous_ = false;
};

// "2027-06-30T23:59:59Z" (whole seconds, UTC).
std::string formatUtc(std::chrono::system_clock::time_point t);

}  // namespace sy::policies
