// The access sections `auth`, `teams`, `keys`, `limits` and `state`: error cases with exact
// messages (one per validation rule), the policy-level "no keys" rule, a full policy decoding to
// the expected structs (which KeyRing::create() accepts), and absent sections keeping defaults.
// Hashes here are placeholders of the right shape; no key-shaped literal lives in this file.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "policies/keys.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::system_clock;

// Backends and two tiers, `local` and `frontier` (5 lines), appended after the sections.
constexpr std::string_view kTiers =
    "backends:\n"
    "  - {name: a, url: http://h, model: m}\n"
    "tiers:\n"
    "  local: {backends: [a]}\n"
    "  frontier: {backends: [a]}\n";

const std::string kSha = "sha256:" + std::string(64, 'a');
const std::string kHmac = "hmac-sha256:" + std::string(64, 'b');

constexpr std::string_view kNoKeys =
    "no keys: add keys, or set auth.anonymous: true to serve anonymous traffic";
constexpr std::string_view kLevels = "(levels: public, internal, confidential, restricted)";
constexpr std::string_view kBadHash =
    "invalid hash (expected \"sha256:<64 lowercase hex>\" or \"hmac-sha256:<64 lowercase hex>\", "
    "as printed by `switchyard keys new`)";
constexpr std::string_view kIdRule =
    "(use lowercase letters, digits and '-', starting with a letter or digit, at most 63 "
    "characters)";

std::string str(std::string_view a, std::string_view b = "", std::string_view c = "") {
  return std::string(a).append(b).append(c);
}

// Top-level `lines` from line 1, then the catalog (no auth).
std::string withTiers(std::string_view lines) { return str(lines, kTiers); }
// Top-level `lines` from line 1, served anonymously.
std::string anonymous(std::string_view lines) { return str(lines, kAnonymous, kTiers); }
// `keys:` on line 1, `items` from line 2.
std::string keys(std::string_view items) { return withTiers(str("keys:\n", items)); }
// Key `k` (id on line 2, a valid hash on line 3), then its `fields` (4 spaces) from line 4.
std::string key(std::string_view fields) {
  return keys(str("  - id: k\n    hash: \"" + kSha + "\"\n", fields));
}
// `teams:` on line 1, team `analytics:` on line 2, its `fields` (4 spaces) from line 3.
std::string team(std::string_view fields) {
  return anonymous(str("teams:\n  analytics:\n", fields));
}
// `limits:` on line 1, `fields` (2 spaces) from line 2.
std::string limits(std::string_view fields) { return anonymous(str("limits:\n", fields)); }
// `state:` on line 1, `fields` (2 spaces) from line 2.
std::string state(std::string_view fields) { return anonymous(str("state:\n", fields)); }

std::string at(std::string_view position, std::string_view message) {
  return str("policy.yaml:", position, ": ").append(message);
}

const std::vector<ErrorCase> kRuleCases = {
    {"NoKeysAndNotAnonymous", withTiers(""), {at("1:1", kNoKeys)}},
    {"EmptyKeysList", withTiers("keys: []\n"), {at("1:7", str("keys: ", kNoKeys))}},
    {"NullKeysIsNoKeys", withTiers("keys: ~\n"), {at("1:1", kNoKeys)}},
    {"AnonymousFalse", withTiers("auth: {anonymous: false}\n"), {at("1:1", kNoKeys)}},
    {"AnonymousWithoutKeys", anonymous(""), {}},
    {"AnonymousWithAnEmptyKeysList", anonymous("keys: []\n"), {}},
    {"AnonymousAndKeys", anonymous(str("keys:\n  - {id: k, hash: '", kSha, "'}\n")), {}},
    {"AnonymousIsNotStrict",
     withTiers("auth: {anonymous: yes}\n"),
     {at("1:19", "auth.anonymous: expected true or false, got 'yes'")}},
    {"AuthIsAScalar", withTiers("auth: on\n"), {at("1:7", "auth: expected a mapping, got 'on'")}},
    {"AuthUnknownKeyAlsoLeavesNoKeys",
     withTiers("auth: {anonymus: true}\n"),
     {at("1:1", kNoKeys), at("1:8",
                             "auth.anonymus: unknown key (expected one of: anonymous, pepper_env, "
                             "admin_keys)")}},
    {"KeysIsAMapping",
     withTiers("keys: {k: 1}\n"),
     {at("1:7", "keys: expected a sequence, got a mapping")}},
};

const std::vector<ErrorCase> kAuthCases = {
    {"PepperEnvHoldsThePepperWhichIsNotEchoed",
     withTiers("auth:\n  anonymous: true\n  pepper_env: 's3cr3t pepper'\n"),
     {at("3:15",
         "auth.pepper_env: must be the name of an environment variable "
         "([A-Za-z_][A-Za-z0-9_]*) that holds the pepper, not the pepper itself")}},
    {"AdminKeysIsAMapping",
     withTiers("auth:\n  anonymous: true\n  admin_keys: {ops: x}\n"),
     {at("3:15", "auth.admin_keys: expected a sequence, got a mapping")}},
    {"AdminKeyWithoutHash",
     withTiers("auth:\n  anonymous: true\n  admin_keys:\n    - {id: ops}\n"),
     {at("4:7", "auth.admin_keys[0]: missing required key 'hash'")}},
    {"AdminKeyWithATeam",
     withTiers(str("auth:\n  anonymous: true\n  admin_keys:\n    - {id: ops, hash: '", kSha,
                   "', team: t}\n")),
     {at("4:98", "auth.admin_keys[0].team: unknown key (expected one of: id, hash)")}},
    {"AdminKeyDuplicateId",
     withTiers(str("auth:\n  anonymous: true\n  admin_keys:\n    - {id: ops, hash: '", kSha,
                   str("'}\n    - {id: ops, hash: '", kSha, "'}\n"))),
     {at("5:12", "auth.admin_keys[1].id: duplicate key id 'ops' (first at line 4)")}},
    {"AdminKeyInvalidId",
     withTiers(
         str("auth:\n  anonymous: true\n  admin_keys:\n    - {id: Ops, hash: '", kSha, "'}\n")),
     {at("4:12", str("auth.admin_keys[0].id: invalid key id 'Ops' ", kIdRule))}},
    {"AdminKeyHmacWithoutPepper",
     withTiers(
         str("auth:\n  anonymous: true\n  admin_keys:\n    - {id: ops, hash: '", kHmac, "'}\n")),
     {at("4:23",
         "auth.admin_keys[0].hash: an hmac-sha256 hash needs auth.pepper_env (the "
         "environment variable that holds the pepper)")}},
    {"AdminKeyHmacWithPepper",
     withTiers(str("auth:\n  anonymous: true\n  pepper_env: SY_PEPPER\n  admin_keys:\n    - {id: "
                   "ops, hash: '",
                   kHmac, "'}\n")),
     {}},
};

const std::vector<ErrorCase> kKeyCases = {
    {"ItemIsAScalar", keys("  - k\n"), {at("2:5", "keys[0]: expected a mapping, got 'k'")}},
    {"WithoutId",
     keys(str("  - {hash: '", kSha, "'}\n")),
     {at("2:5", "keys[0]: missing required key 'id'")}},
    {"WithoutHash", keys("  - {id: k}\n"), {at("2:5", "keys[0]: missing required key 'hash'")}},
    {"UnknownField",
     key("    tean: analytics\n"),
     {at("4:5",
         "keys[0].tean: unknown key (expected one of: id, hash, team, allow, limits, "
         "sensitivity_floor, expires, disabled)")}},
    {"IdWithUpperCase",
     keys(str("  - {id: Batch, hash: '", kSha, "'}\n")),
     {at("2:10", str("keys[0].id: invalid key id 'Batch' ", kIdRule))}},
    {"IdWithUnderscore",
     keys(str("  - {id: a_b, hash: '", kSha, "'}\n")),
     {at("2:10", str("keys[0].id: invalid key id 'a_b' ", kIdRule))}},
    {"IdStartingWithADash",
     keys(str("  - {id: -a, hash: '", kSha, "'}\n")),
     {at("2:10", str("keys[0].id: invalid key id '-a' ", kIdRule))}},
    {"IdOf64Characters",
     keys(str("  - {id: ", std::string(64, 'a'), str(", hash: '", kSha, "'}\n"))),
     {at("2:10", str("keys[0].id: invalid key id '", std::string(64, 'a'), str("' ", kIdRule)))}},
    {"IdIsAKeyWhichIsNotEchoed",
     keys(str("  - {id: syk_k_pasted_by_mistake, hash: '", kSha, "'}\n")),
     {at("2:10",
         "keys[0].id: this is an API key, not its id: remove it from the file, revoke it "
         "(it is exposed) and use the id it was minted with (between 'syk_' and the next '_')")}},
    {"IdOf63Characters",
     keys(str("  - {id: ", std::string(63, 'a'), str(", hash: '", kSha, "'}\n"))),
     {}},
    {"DuplicateId",
     keys(str("  - {id: k, hash: '", kSha, str("'}\n  - {id: k, hash: '", kSha, "'}\n"))),
     {at("3:10", "keys[1].id: duplicate key id 'k' (first at line 2)")}},
    {"HashWithoutAlgorithm",
     keys(str("  - {id: k, hash: '", std::string(64, 'a'), "'}\n")),
     {at("2:19", str("keys[0].hash: ", kBadHash))}},
    {"HashInUpperCaseHex",
     keys(str("  - {id: k, hash: 'sha256:", std::string(64, 'A'), "'}\n")),
     {at("2:19", str("keys[0].hash: ", kBadHash))}},
    {"HashTooShort",
     keys(str("  - {id: k, hash: 'sha256:", std::string(63, 'a'), "'}\n")),
     {at("2:19", str("keys[0].hash: ", kBadHash))}},
    {"HashWithAnotherAlgorithm",
     keys(str("  - {id: k, hash: 'md5:", std::string(64, 'a'), "'}\n")),
     {at("2:19", str("keys[0].hash: ", kBadHash))}},
    {"HashEmpty", keys("  - {id: k, hash: ''}\n"), {at("2:19", "keys[0].hash: must not be empty")}},
    {"HashIsTheKeyItselfWhichIsNotEchoed",
     keys("  - {id: k, hash: syk_k_pasted_by_mistake}\n"),
     {at("2:19",
         "keys[0].hash: this is an API key, not its hash: remove it from the file, "
         "revoke it (it is exposed) and paste the hash printed by `switchyard keys "
         "new`")}},
    {"HmacWithoutPepperEnv",
     keys(str("  - {id: k, hash: '", kHmac, "'}\n")),
     {at("2:19",
         "keys[0].hash: an hmac-sha256 hash needs auth.pepper_env (the environment "
         "variable that holds the pepper)")}},
    {"HmacWithPepperEnv",
     withTiers(str("auth: {pepper_env: SY_PEPPER}\nkeys:\n  - {id: k, hash: '", kHmac, "'}\n")),
     {}},
    {"TeamWithASpace",
     key("    team: 'data science'\n"),
     {at("4:11",
         "keys[0].team: invalid name 'data science' (use letters, digits, '.', '_' and "
         "'-')")}},
    {"UndeclaredTeamIsAllowed", key("    team: analytics\n"), {}},
    {"SensitivityFloorUnknown",
     key("    sensitivity_floor: secret\n"),
     {at("4:24", str("keys[0].sensitivity_floor: unknown sensitivity level 'secret' ", kLevels))}},
    {"SensitivityFloorDeclared",
     str("sensitivity:\n  levels: [public, internal, confidential, restricted, secret]\n",
         key("    sensitivity_floor: secret\n")),
     {}},
    {"InvalidLevelsAreNotReportedAgain",
     str("sensitivity:\n  levels: [low, low]\n", key("    sensitivity_floor: low\n")),
     {at("2:17", "sensitivity.levels[1]: duplicate level 'low' (first at line 2)")}},
    {"ExpiresDate", key("    expires: 2027-06-30\n"), {}},
    {"ExpiresTimestamp", key("    expires: 2027-06-30T12:00:00.5Z\n"), {}},
    {"ExpiresWithSlashes",
     key("    expires: 2027/06/30\n"),
     {at("4:14",
         "keys[0].expires: invalid expiry '2027/06/30' (use a date like 2027-06-30, or "
         "a UTC timestamp like 2027-06-30T12:00:00Z)")}},
    {"ExpiresNoSuchDate",
     key("    expires: 2027-02-30\n"),
     {at("4:14", "keys[0].expires: invalid expiry '2027-02-30' (no such date)")}},
    {"ExpiresWithAnOffset",
     key("    expires: 2027-06-30T12:00:00+02:00\n"),
     {at("4:14",
         "keys[0].expires: invalid expiry '2027-06-30T12:00:00+02:00' (a timestamp must "
         "be in UTC and end in Z, e.g. 2027-06-30T12:00:00Z)")}},
    {"ExpiresNoSuchTime",
     key("    expires: 2027-06-30T24:00:00Z\n"),
     {at("4:14", "keys[0].expires: invalid expiry '2027-06-30T24:00:00Z' (no such time)")}},
    {"ExpiresIsASequence",
     key("    expires: [2027]\n"),
     {at("4:14",
         "keys[0].expires: expected a date (e.g. 2027-06-30) or a UTC timestamp, got a "
         "sequence")}},
    {"DisabledIsNotStrict",
     key("    disabled: 1\n"),
     {at("4:15", "keys[0].disabled: expected true or false, got '1'")}},
};

const std::vector<ErrorCase> kScopeCases = {
    {"AllowIsASequence",
     key("    allow: [chat]\n"),
     {at("4:12", "keys[0].allow: expected a mapping, got a sequence")}},
    {"AllowUnknownKey",
     key("    allow: {tier: [local]}\n"),
     {at("4:13",
         "keys[0].allow.tier: unknown key (expected one of: endpoints, tiers, models, "
         "max_external_sensitivity, max_tokens)")}},
    {"UnknownEndpoint",
     key("    allow: {endpoints: [chat, completions]}\n"),
     {at("4:31",
         "keys[0].allow.endpoints[1]: unknown endpoint 'completions' (expected one of: "
         "chat, embeddings, models, responses)")}},
    {"DuplicateEndpoint",
     key("    allow: {endpoints: [chat, chat]}\n"),
     {at("4:31", "keys[0].allow.endpoints[1]: duplicate endpoint 'chat'")}},
    {"EndpointsEmpty",
     key("    allow: {endpoints: []}\n"),
     {at("4:24",
         "keys[0].allow.endpoints: must not be empty (omit 'endpoints' to allow every "
         "endpoint)")}},
    {"UnknownTier",
     key("    allow: {tiers: [local, big]}\n"),
     {at("4:28", "keys[0].allow.tiers[1]: unknown tier 'big'")}},
    {"TiersEmpty",
     key("    allow: {tiers: []}\n"),
     {at("4:20", "keys[0].allow.tiers: must not be empty (omit 'tiers' to allow every tier)")}},
    {"ModelsEmpty",
     key("    allow: {models: []}\n"),
     {at("4:21", "keys[0].allow.models: must not be empty (omit 'models' to allow every model)")}},
    {"ModelGlobEmpty",
     key("    allow: {models: ['']}\n"),
     {at("4:22", "keys[0].allow.models[0]: must not be empty")}},
    {"MaxTokensZero",
     key("    allow: {max_tokens: 0}\n"),
     {at("4:25", "keys[0].allow.max_tokens: must be > 0, got '0'")}},
    {"MaxExternalSensitivityUnknown",
     key("    allow: {max_external_sensitivity: secret}\n"),
     {at("4:39", str("keys[0].allow.max_external_sensitivity: unknown sensitivity level "
                     "'secret' ",
                     kLevels))}},
    {"EveryScope",
     key("    allow: {endpoints: [chat, embeddings], tiers: [local], models: ['llama*', "
         "'qwen?'], max_external_sensitivity: internal, max_tokens: 4096}\n"),
     {}},
};

const std::vector<ErrorCase> kLimitCases = {
    {"LimitsIsAScalar",
     key("    limits: 100\n"),
     {at("4:13", "keys[0].limits: expected a mapping, got '100'")}},
    {"UnknownKey",
     key("    limits: {rps: 5}\n"),
     {at("4:14",
         "keys[0].limits.rps: unknown key (expected one of: rpm, tpm, concurrency, "
         "budget_usd)")}},
    {"RpmZero",
     key("    limits: {rpm: 0}\n"),
     {at("4:19", "keys[0].limits.rpm: must be > 0, got '0' (omit it for no limit)")}},
    {"RpmNegative",
     key("    limits: {rpm: -1}\n"),
     {at("4:19", "keys[0].limits.rpm: expected a non-negative integer, got '-1'")}},
    {"TpmZero",
     key("    limits: {tpm: 0}\n"),
     {at("4:19", "keys[0].limits.tpm: must be > 0, got '0' (omit it for no limit)")}},
    {"TpmBeyond32Bits", key("    limits: {tpm: 10000000000}\n"), {}},
    {"ConcurrencyNotAnInteger",
     key("    limits: {concurrency: lots}\n"),
     {at("4:27", "keys[0].limits.concurrency: expected an integer, got 'lots'")}},
    {"BudgetIsAScalar",
     key("    limits: {budget_usd: 20}\n"),
     {at("4:26", "keys[0].limits.budget_usd: expected a mapping, got '20'")}},
    {"BudgetUnknownPeriod",
     key("    limits: {budget_usd: {week: 5}}\n"),
     {at("4:27", "keys[0].limits.budget_usd.week: unknown key (expected one of: day, month)")}},
    {"BudgetNegative",
     key("    limits: {budget_usd: {day: -1}}\n"),
     {at("4:32", "keys[0].limits.budget_usd.day: must be >= 0, got '-1'")}},
    {"BudgetZero",
     key("    limits: {budget_usd: {month: 0}}\n"),
     {at("4:34",
         "keys[0].limits.budget_usd.month: must be > 0, got '0' (omit it for no budget; "
         "disabled: true stops a key)")}},
    {"EveryLimit",
     key("    limits: {rpm: 60, tpm: 100000, concurrency: 4, budget_usd: {day: 2.5, month: "
         "50}}\n"),
     {}},
};

const std::vector<ErrorCase> kTeamCases = {
    {"TeamsIsASequence",
     anonymous("teams: [analytics]\n"),
     {at("1:8", "teams: expected a mapping, got a sequence")}},
    {"TeamIsNull", team(""), {at("2:3", "teams.analytics: expected a mapping, got null")}},
    {"InvalidName",
     anonymous("teams:\n  'a b': {}\n"),
     {at("2:3", "teams.a b: invalid name 'a b' (use letters, digits, '.', '_' and '-')")}},
    {"UnknownKey",
     team("    members: [a]\n"),
     {at("3:5", "teams.analytics.members: unknown key (expected one of: allow, limits)")}},
    {"UnknownTier",
     team("    allow: {tiers: [big]}\n"),
     {at("3:21", "teams.analytics.allow.tiers[0]: unknown tier 'big'")}},
    {"RpmZero",
     team("    limits: {rpm: 0}\n"),
     {at("3:19", "teams.analytics.limits.rpm: must be > 0, got '0' (omit it for no limit)")}},
    {"EveryField",
     team("    allow: {tiers: [local], endpoints: [chat, embeddings], models: ['llama*'], "
          "max_external_sensitivity: internal, max_tokens: 4096}\n    limits: {rpm: 1000, tpm: "
          "500000, concurrency: 20, budget_usd: {day: 20, month: 500}}\n"),
     {}},
};

const std::vector<ErrorCase> kLimitsSectionCases = {
    {"IsAScalar", anonymous("limits: 5\n"), {at("1:9", "limits: expected a mapping, got '5'")}},
    {"UnknownKey",
     limits("  on_budget: reject\n"),
     {at("2:3",
         "limits.on_budget: unknown key (expected one of: default_max_tokens, "
         "min_output_tokens, on_budget_exhausted, downgrade_tier)")}},
    {"DefaultMaxTokensZero",
     limits("  default_max_tokens: 0\n"),
     {at("2:23", "limits.default_max_tokens: must be > 0, got '0'")}},
    {"MinOutputTokensZero",
     limits("  min_output_tokens: 0\n"),
     {at("2:22", "limits.min_output_tokens: must be > 0, got '0'")}},
    {"UnknownAction",
     limits("  on_budget_exhausted: drop\n"),
     {at("2:24",
         "limits.on_budget_exhausted: unknown action 'drop' (expected one of: reject, "
         "downgrade)")}},
    {"DowngradeWithoutTier",
     limits("  on_budget_exhausted: downgrade\n"),
     {at("2:24",
         "limits.on_budget_exhausted: downgrade needs limits.downgrade_tier (the tier "
         "that serves a team or key whose budget is spent)")}},
    {"DowngradeToAnUnknownTier",
     limits("  on_budget_exhausted: downgrade\n  downgrade_tier: cheap\n"),
     {at("3:19", "limits.downgrade_tier: unknown tier 'cheap'")}},
    {"DowngradeTierWithReject",
     limits("  on_budget_exhausted: reject\n  downgrade_tier: local\n"),
     {at("3:19", "limits.downgrade_tier: only applies with on_budget_exhausted: downgrade")}},
    {"DowngradeTierWithoutAction",
     limits("  downgrade_tier: local\n"),
     {at("2:19", "limits.downgrade_tier: only applies with on_budget_exhausted: downgrade")}},
    {"Downgrade", limits("  on_budget_exhausted: downgrade\n  downgrade_tier: local\n"), {}},
};

const std::vector<ErrorCase> kStateCases = {
    {"UnknownKey",
     state("  backend: redis\n"),
     {at("2:3", "state.backend: unknown key (expected one of: store, sqlite, redis)")}},
    {"UnknownStore",
     state("  store: postgres\n"),
     {at("2:10", "state.store: unknown store 'postgres' (expected one of: sqlite, redis)")}},
    {"SqlitePathEmpty",
     state("  sqlite: {path: ''}\n"),
     {at("2:18", "state.sqlite.path: must not be empty")}},
    {"SqliteUnknownKey",
     state("  sqlite: {file: x.db}\n"),
     {at("2:12", "state.sqlite.file: unknown key (expected one of: path)")}},
    {"RedisUnknownKey",
     state("  redis: {host: h}\n"),
     {at("2:11", "state.redis.host: unknown key (expected one of: url, timeout, fail, sync)")}},
    {"RedisUrlWithAnotherScheme",
     state("  redis: {url: 'http://h:6379'}\n"),
     {at("2:16",
         "state.redis.url: invalid Redis URL 'http://h:6379' (use "
         "redis://[[user]:password@]host[:port][/db])")}},
    {"RedisUrlWithCredentials", state("  redis: {url: 'redis://app:hunter2@h:6379/1'}\n"), {}},
    {"RedisUrlWithAPasswordlessUserIsNotEchoed",
     state("  redis: {url: 'redis://hunter2@h:6379'}\n"),
     {at("2:16",
         "state.redis.url: credentials in the Redis URL need a password (user:password@ "
         "or :password@)")}},
    {"RedisUrlErrorsHideTheCredentials",
     state("  redis: {url: 'redis://:hunter2@:6379'}\n"),
     {at("2:16", "state.redis.url: missing host in 'redis://<credentials>@:6379'")}},
    {"RedisUrlWithABadSchemeAndCredentials",
     state("  redis: {url: 'http://:hunter2@h'}\n"),
     {at("2:16",
         "state.redis.url: invalid Redis URL (use redis://[[user]:password@]host[:port]"
         "[/db])")}},
    {"RedisUrlWithTls",
     state("  redis: {url: 'rediss://h:6380'}\n"),
     {at("2:16", "state.redis.url: TLS to Redis (rediss://) is not supported yet")}},
    {"RedisUrlWithABadPort",
     state("  redis: {url: 'redis://h:0'}\n"),
     {at("2:16", "state.redis.url: invalid port '0' (use 1-65535)")}},
    {"RedisUrlWithABadDatabase",
     state("  redis: {url: 'redis://h:6379/x'}\n"),
     {at("2:16",
         "state.redis.url: invalid Redis database 'x' (use a number, e.g. "
         "redis://host:6379/0)")}},
    {"RedisUrlWithAQuery",
     state("  redis: {url: 'redis://h:6379/0?password=x'}\n"),
     {at("2:16",
         "state.redis.url: query strings and fragments are not allowed in the Redis URL "
         "(use redis://[[user]:password@]host[:port][/db])")}},
    {"RedisTimeoutWithoutUnit",
     state("  redis: {timeout: 50}\n"),
     {at("2:20", "state.redis.timeout: invalid duration '50' (use e.g. 500ms, 10s, 2m, 1h)")}},
    {"RedisUnknownFailMode",
     state("  redis: {fail: maybe}\n"),
     {at("2:17", "state.redis.fail: unknown fail mode 'maybe' (expected one of: open, closed)")}},
    {"RedisSyncTooShort",
     state("  redis: {sync: 5ms}\n"),
     {at("2:17", "state.redis.sync: must be between 10ms and 10s (or absent: exact, one script "
                 "per request)")}},
    {"RedisSyncTooLong",
     state("  redis: {sync: 1m}\n"),
     {at("2:17", "state.redis.sync: must be between 10ms and 10s (or absent: exact, one script "
                 "per request)")}},
    {"Redis",
     state("  store: redis\n  redis: {url: 'redis://cache.internal:6380/2', timeout: 20ms, fail: "
           "open}\n"),
     {}},
    {"RedisSynced",
     state("  store: redis\n  redis: {url: 'redis://cache.internal', sync: 100ms}\n"),
     {}},
};

INSTANTIATE_TEST_SUITE_P(NoKeysRule, ConfigErrorTest, testing::ValuesIn(kRuleCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(Auth, ConfigErrorTest, testing::ValuesIn(kAuthCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(Keys, ConfigErrorTest, testing::ValuesIn(kKeyCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(KeyScopes, ConfigErrorTest, testing::ValuesIn(kScopeCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(KeyLimits, ConfigErrorTest, testing::ValuesIn(kLimitCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(Teams, ConfigErrorTest, testing::ValuesIn(kTeamCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(Limits, ConfigErrorTest, testing::ValuesIn(kLimitsSectionCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(State, ConfigErrorTest, testing::ValuesIn(kStateCases), errorCaseName);

const std::string kFullAccess = str(R"(auth:
  anonymous: false
  pepper_env: SY_TEST_PEPPER
  admin_keys:
    - {id: ops, hash: ')",
                                    kSha,
                                    str(R"('}
teams:
  analytics:
    allow: {tiers: [local], endpoints: [chat, embeddings], models: ['llama*'],
            max_external_sensitivity: internal, max_tokens: 4096}
    limits: {rpm: 1000, tpm: 500000, concurrency: 20, budget_usd: {day: 20, month: 500}}
  research: {}
keys:
  - id: analytics-batch
    hash: ')",
                                        kHmac, R"('
    team: analytics
    allow: {endpoints: [chat], models: ['llama-3*']}
    limits: {rpm: 60, budget_usd: {day: 2.5}}
    sensitivity_floor: internal
    expires: 2027-06-30
  - id: legacy
    hash: ')")) + kSha + R"('
    team: finance
    expires: 2026-01-02T03:04:05Z
    disabled: true
limits:
  default_max_tokens: 2048
  min_output_tokens: 64
  on_budget_exhausted: downgrade
  downgrade_tier: local
state:
  store: redis
  sqlite: {path: /var/lib/switchyard/state.db}
  redis: {url: 'redis://cache.internal/3', timeout: 20ms, fail: open, sync: 250ms}
)" + std::string(kTiers);

std::vector<std::string> errorStrings(const std::expected<Config, ConfigErrors>& loaded) {
  std::vector<std::string> out;
  if (!loaded) {
    for (const ConfigError& error : loaded.error()) {
      out.push_back(error.str());
    }
  }
  return out;
}

TEST(AccessConfigTest, DecodesAuthAndTeams) {
  const auto loaded = loadConfigString(kFullAccess, "full.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  const policies::AuthConfig& auth = loaded->auth;
  EXPECT_FALSE(auth.anonymous);
  EXPECT_EQ(auth.pepper_env, "SY_TEST_PEPPER");
  ASSERT_EQ(auth.admin_keys.size(), 1u);
  EXPECT_EQ(auth.admin_keys[0].id, "ops");
  EXPECT_EQ(auth.admin_keys[0].hash, kSha);
  ASSERT_EQ(auth.teams.size(), 2u);
  const policies::TeamSpec& analytics = auth.teams[0];
  EXPECT_EQ(analytics.name, "analytics");
  EXPECT_EQ(analytics.allow.tiers, std::vector<std::string>{"local"});
  EXPECT_EQ(analytics.allow.endpoints, (std::vector<std::string>{"chat", "embeddings"}));
  EXPECT_EQ(analytics.allow.models, std::vector<std::string>{"llama*"});
  EXPECT_EQ(analytics.allow.max_external_sensitivity, "internal");
  EXPECT_EQ(analytics.allow.max_tokens, 4096u);
  EXPECT_EQ(analytics.limits.rpm, 1000u);
  EXPECT_EQ(analytics.limits.tpm, 500000u);
  EXPECT_EQ(analytics.limits.concurrency, 20u);
  EXPECT_DOUBLE_EQ(analytics.limits.budget_day_usd, 20);
  EXPECT_DOUBLE_EQ(analytics.limits.budget_month_usd, 500);
  EXPECT_EQ(auth.teams[1].name, "research");
  EXPECT_TRUE(auth.teams[1].limits.empty());
}

TEST(AccessConfigTest, DecodesKeysInFileOrder) {
  const auto loaded = loadConfigString(kFullAccess, "full.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  const auto& keys = loaded->auth.keys;
  ASSERT_EQ(keys.size(), 2u);
  const policies::KeySpec& batch = keys[0];
  EXPECT_EQ(batch.id, "analytics-batch");
  EXPECT_EQ(batch.hash, kHmac);
  EXPECT_EQ(batch.team, "analytics");
  EXPECT_EQ(batch.allow.endpoints, std::vector<std::string>{"chat"});
  EXPECT_EQ(batch.allow.models, std::vector<std::string>{"llama-3*"});
  EXPECT_TRUE(batch.allow.tiers.empty());
  EXPECT_EQ(batch.limits.rpm, 60u);
  EXPECT_DOUBLE_EQ(batch.limits.budget_day_usd, 2.5);
  EXPECT_EQ(batch.limits.budget_month_usd, 0.0);
  EXPECT_EQ(batch.sensitivity_floor, "internal");
  // A date: the key works through 2027-06-30 UTC and is refused from the next midnight.
  ASSERT_TRUE(batch.expires.has_value());
  EXPECT_EQ(*batch.expires, system_clock::time_point(sys_days(std::chrono::July / 1 / 2027)));
  EXPECT_FALSE(batch.disabled);

  const policies::KeySpec& legacy = keys[1];
  EXPECT_EQ(legacy.team, "finance");
  ASSERT_TRUE(legacy.expires.has_value());
  EXPECT_EQ(*legacy.expires,
            system_clock::time_point(sys_days(std::chrono::January / 2 / 2026) + 3h + 4min + 5s));
  EXPECT_TRUE(legacy.disabled);
}

TEST(AccessConfigTest, DecodesLimitsAndState) {
  const auto loaded = loadConfigString(kFullAccess, "full.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  EXPECT_EQ(loaded->limits.default_max_tokens, 2048u);
  EXPECT_EQ(loaded->limits.min_output_tokens, 64u);
  EXPECT_EQ(loaded->limits.on_budget_exhausted,
            policies::LimitsConfig::OnBudgetExhausted::Downgrade);
  EXPECT_EQ(loaded->limits.downgrade_tier, "local");
  const policies::StateConfig& state = loaded->state;
  EXPECT_EQ(state.store, policies::StateConfig::Store::Redis);
  EXPECT_EQ(state.sqlite_path, "/var/lib/switchyard/state.db");
  EXPECT_EQ(state.redis_url, "redis://cache.internal/3");
  EXPECT_EQ(state.redis_timeout, 20ms);
  EXPECT_TRUE(state.fail_open);
  EXPECT_EQ(state.redis_sync, 250ms);
}

TEST(AccessConfigTest, AKeyRingAcceptsWhatTheLoaderAccepts) {
  const auto loaded = loadConfigString(kFullAccess, "full.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  const auto ring = policies::KeyRing::create(loaded->auth, loaded->dlp_policy.levels, "pepper");
  ASSERT_TRUE(ring.has_value()) << ring.error().message;
  EXPECT_EQ(ring->size(), 2u);
  const policies::Principal* batch = ring->find("analytics-batch");
  ASSERT_NE(batch, nullptr);
  EXPECT_TRUE(batch->team_declared);
  EXPECT_EQ(batch->scopes.max_tokens, 4096u);
  const policies::Principal* legacy = ring->find("legacy");
  ASSERT_NE(legacy, nullptr);
  EXPECT_FALSE(legacy->team_declared);
}

TEST(AccessConfigTest, OmittedSectionsKeepTheStructDefaults) {
  const auto loaded = loadConfigString(std::string(kCatalog), "min.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  EXPECT_TRUE(loaded->auth.anonymous);
  EXPECT_EQ(loaded->auth.pepper_env, "");
  EXPECT_TRUE(loaded->auth.admin_keys.empty());
  EXPECT_TRUE(loaded->auth.teams.empty());
  EXPECT_TRUE(loaded->auth.keys.empty());
  const policies::LimitsConfig limits;
  EXPECT_EQ(loaded->limits.default_max_tokens, limits.default_max_tokens);
  EXPECT_EQ(loaded->limits.on_budget_exhausted, limits.on_budget_exhausted);
  const policies::StateConfig state;
  EXPECT_EQ(loaded->state.store, state.store);
  EXPECT_EQ(loaded->state.sqlite_path, state.sqlite_path);
  EXPECT_EQ(loaded->state.redis_url, state.redis_url);
  EXPECT_EQ(loaded->state.redis_timeout, state.redis_timeout);
  EXPECT_EQ(loaded->state.fail_open, state.fail_open);
}

TEST(AccessConfigTest, NullSectionsKeepTheDefaults) {
  const auto loaded = loadConfigString(anonymous("teams: ~\nlimits: ~\nstate: ~\n"), "null.yaml");
  EXPECT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
}

}  // namespace
}  // namespace sy::config
