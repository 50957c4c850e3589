// Error cases for the catalog sections: `backends`, `tiers` and `models` and their references.
#include <string>
#include <vector>

#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

constexpr std::string_view kTierA = "tiers:\n  t: {backends: [a]}\n";

// Two valid backends, `a` and `b`, on lines 1-3.
constexpr std::string_view kTwoBackends =
    "backends:\n"
    "  - {name: a, url: http://h, model: m}\n"
    "  - {name: b, url: http://g, model: m}\n";

// kTwoBackends, then `tiers:` on line 4 and `lines` from line 5.
std::string tiers(std::string_view lines) {
  return std::string(kTwoBackends).append("tiers:\n").append(lines);
}

// Backends `a`, `b`, tier `local` (line 5), then `models:` on line 6 and `lines` from line 7.
std::string models(std::string_view lines) {
  return tiers("  local: {backends: [a]}\nmodels:\n").append(lines);
}

// Backend `a` whose url (line 4, value at column 10) is `url`.
std::string withUrl(std::string_view url) {
  return std::string("backends:\n  - name: a\n    model: m\n    url: ")
      .append(url)
      .append("\n")
      .append(kTierA);
}

const std::vector<ErrorCase> kBackendCases = {
    {"Missing",
     std::string(kTierA),
     {"policy.yaml:1:1: missing required key 'backends'",
      "policy.yaml:2:18: tiers.t.backends[0]: unknown backend 'a'"}},
    {"Empty",
     "backends: []\n" + std::string(kTierA),
     {"policy.yaml:1:11: backends: must not be empty",
      "policy.yaml:3:18: tiers.t.backends[0]: unknown backend 'a'"}},
    {"IsAMapping",
     "backends: {a: 1}\n" + std::string(kTierA),
     {"policy.yaml:1:11: backends: expected a sequence, got a mapping",
      "policy.yaml:3:18: tiers.t.backends[0]: unknown backend 'a'"}},
    {"IsNull",
     "backends: ~\n" + std::string(kTierA),
     {"policy.yaml:1:1: backends: expected a sequence, got null",
      "policy.yaml:3:18: tiers.t.backends[0]: unknown backend 'a'"}},
    {"ItemIsAScalar",
     "backends:\n  - a\n" + std::string(kTierA),
     {"policy.yaml:2:5: backends[0]: expected a mapping, got 'a'",
      "policy.yaml:4:18: tiers.t.backends[0]: unknown backend 'a'"}},
    {"WithoutName",
     "backends:\n  - url: http://h\n    model: m\n" + std::string(kTierA),
     {"policy.yaml:2:5: backends[0]: missing required key 'name'",
      "policy.yaml:5:18: tiers.t.backends[0]: unknown backend 'a'"}},
    {"WithoutUrl",
     "backends:\n  - name: a\n    model: m\n" + std::string(kTierA),
     {"policy.yaml:2:5: backends[0]: missing required key 'url'"}},
    {"WithoutModel",
     "backends:\n  - name: a\n    url: http://h\n" + std::string(kTierA),
     {"policy.yaml:2:5: backends[0]: missing required key 'model'"}},
    {"NameWithSpaceIsReportedOnce",
     "backends:\n  - name: a b\n    url: http://h\n    model: m\ntiers:\n  t: {backends: [a b]}\n",
     {"policy.yaml:2:11: backends[0].name: invalid name 'a b' (use letters, digits, '.', '_' and "
      "'-')"}},
    {"DuplicateName",
     "backends:\n  - {name: a, url: http://h, model: m}\n  - {name: a, url: http://g, model: m}\n" +
         std::string(kTierA),
     {"policy.yaml:3:12: backends[1].name: duplicate backend name 'a' (first at line 2)"}},
    {"UnknownKey",
     backendWith("    modle: m2\n"),
     {"policy.yaml:5:5: backends[0].modle: unknown key (expected one of: name, kind, url, model, "
      "deployment, api_version, api_key_env, location, region, license, cost, context_window, "
      "ca_file, timeouts, max_idle_connections, weight, capabilities, api, health_check, "
      "max_tokens)"}},
    {"DuplicateKey",
     backendWith("    model: m2\n"),
     {"policy.yaml:5:5: backends[0].model: duplicate key (first at line 4)"}},
    {"UnknownKind",
     backendWith("    kind: openia\n"),
     {"policy.yaml:5:11: backends[0].kind: unknown kind 'openia' (expected one of: openai, "
      "ollama, anthropic, azure-openai)"}},
    {"KindAnthropic", backendWith("    kind: anthropic\n    max_tokens: 8192\n"), {}},
    {"MaxTokensOnAnOpenAiBackend",
     backendWith("    max_tokens: 100\n"),
     {"policy.yaml:5:17: backends[0].max_tokens: only valid for kind 'anthropic' (which requires "
      "max_tokens)"}},
    {"MaxTokensZero",
     backendWith("    kind: anthropic\n    max_tokens: 0\n"),
     {"policy.yaml:6:17: backends[0].max_tokens: must be > 0, got '0'"}},
    {"KindIsASequence",
     backendWith("    kind: [openai]\n"),
     {"policy.yaml:5:11: backends[0].kind: expected a string, got a sequence"}},
    {"KindNullMeansDefault", backendWith("    kind: ~\n"), {}},
    {"UrlSchemeIsFtp",
     "backends:\n  - {name: a, url: http://h, model: m}\n  - {name: b, url: ftp://h, model: m}\n" +
         std::string(kTierA),
     {"policy.yaml:3:20: backends[1].url: scheme must be http or https, got 'ftp'"}},
    {"UrlWithoutScheme",
     withUrl("127.0.0.1:8000"),
     {"policy.yaml:4:10: backends[0].url: invalid URL '127.0.0.1:8000' (use e.g. "
      "http://127.0.0.1:8000)"}},
    {"UrlWithCredentialsDoesNotEchoThem",
     withUrl("https://user:sk-secret@api.example.com"),
     {"policy.yaml:4:10: backends[0].url: credentials are not allowed in a URL (put the key in an "
      "environment variable and name it in api_key_env)"}},
    {"UrlWithQuery",
     withUrl("https://x.openai.azure.com/openai?api-key=sk-secret"),
     {"policy.yaml:4:10: backends[0].url: query strings are not allowed in a backend URL"}},
    {"UrlWithFragment",
     withUrl("http://h/#top"),
     {"policy.yaml:4:10: backends[0].url: fragments are not allowed in a backend URL"}},
    {"UrlWithoutHost",
     withUrl("http:///v1"),
     {"policy.yaml:4:10: backends[0].url: missing host in 'http:///v1'"}},
    {"UrlPortZero",
     withUrl("http://h:0"),
     {"policy.yaml:4:10: backends[0].url: invalid port '0' (use 1-65535)"}},
    {"UrlInvalidHost",
     withUrl("'http://a b'"),
     {"policy.yaml:4:10: backends[0].url: invalid host 'a b'"}},
    {"UrlIsEmpty", withUrl("''"), {"policy.yaml:4:10: backends[0].url: must not be empty"}},
    {"UrlIsNull", withUrl("~"), {"policy.yaml:4:5: backends[0].url: expected a string, got null"}},
    {"ModelIsEmpty",
     "backends:\n  - name: a\n    url: http://h\n    model: ''\n" + std::string(kTierA),
     {"policy.yaml:4:12: backends[0].model: must not be empty"}},
    {"ModelIsAMapping",
     "backends:\n  - name: a\n    url: http://h\n    model: {id: x}\n" + std::string(kTierA),
     {"policy.yaml:4:12: backends[0].model: expected a string, got a mapping"}},
    {"ApiKeyEnvHoldsAKeyThatIsNotEchoed",
     backendWith("    api_key_env: sk-proj-123\n"),
     {"policy.yaml:5:18: backends[0].api_key_env: must be the name of an environment variable "
      "([A-Za-z_][A-Za-z0-9_]*) that holds the key, not the key itself"}},
    {"ApiKeyEnvStartsWithADigit",
     backendWith("    api_key_env: 1KEY\n"),
     {"policy.yaml:5:18: backends[0].api_key_env: must be the name of an environment variable "
      "([A-Za-z_][A-Za-z0-9_]*) that holds the key, not the key itself"}},
    {"UnknownLocation",
     backendWith("    location: on-prem\n"),
     {"policy.yaml:5:15: backends[0].location: unknown location 'on-prem' (expected one of: "
      "self-hosted, external)"}},
    {"UnknownLicense",
     backendWith("    license: mit\n"),
     {"policy.yaml:5:14: backends[0].license: unknown license 'mit' (expected one of: "
      "osi-open-source, open-weight, source-available, proprietary)"}},
    {"RegionIsAMapping",
     backendWith("    region: {eu: 1}\n"),
     {"policy.yaml:5:13: backends[0].region: expected a string, got a mapping"}},
    {"CostIsAScalar",
     backendWith("    cost: 5\n"),
     {"policy.yaml:5:11: backends[0].cost: expected a mapping, got '5'"}},
    {"CostIsNegative",
     backendWith("    cost: {input_per_mtok: -0.5}\n"),
     {"policy.yaml:5:28: backends[0].cost.input_per_mtok: must be >= 0, got '-0.5'"}},
    {"CostIsNotANumber",
     backendWith("    cost: {output_per_mtok: free}\n"),
     {"policy.yaml:5:29: backends[0].cost.output_per_mtok: expected a number, got 'free'"}},
    {"CostIsInfinite",
     backendWith("    cost: {input_per_mtok: .inf}\n"),
     {"policy.yaml:5:28: backends[0].cost.input_per_mtok: expected a number, got '.inf'"}},
    {"CostUnknownKey",
     backendWith("    cost: {input: 1}\n"),
     {"policy.yaml:5:12: backends[0].cost.input: unknown key (expected one of: input_per_mtok, "
      "output_per_mtok, cached_input_per_mtok)"}},
    {"CostCachedInputPrice", backendWith("    cost: {input_per_mtok: 3, cached_input_per_mtok: 0.3}\n"),
     {}},
    {"ContextWindowIsZero",
     backendWith("    context_window: 0\n"),
     {"policy.yaml:5:21: backends[0].context_window: must be > 0, got '0'"}},
    {"ContextWindowHasAUnit",
     backendWith("    context_window: 8k\n"),
     {"policy.yaml:5:21: backends[0].context_window: expected an integer, got '8k'"}},
    {"CaFileOnHttpUrl",
     backendWith("    ca_file: /ca.pem\n"),
     {"policy.yaml:5:14: backends[0].ca_file: only valid with an https url"}},
    {"CaFileIsEmpty",
     backendWith("    ca_file: ''\n"),
     {"policy.yaml:5:14: backends[0].ca_file: must not be empty"}},
    {"TimeoutsUnknownKey",
     backendWith("    timeouts: {read: 5s}\n"),
     {"policy.yaml:5:16: backends[0].timeouts.read: unknown key (expected one of: connect, "
      "first_byte, idle)"}},
    {"TimeoutWithoutUnit",
     backendWith("    timeouts: {connect: 5}\n"),
     {"policy.yaml:5:25: backends[0].timeouts.connect: invalid duration '5' (use e.g. 500ms, 10s, "
      "2m, 1h)"}},
    {"MaxIdleConnectionsIsNegative",
     backendWith("    max_idle_connections: -1\n"),
     {"policy.yaml:5:27: backends[0].max_idle_connections: expected a non-negative integer, got "
      "'-1'"}},
    {"MaxIdleConnectionsMayBeZero", backendWith("    max_idle_connections: 0\n"), {}},
};

const std::vector<ErrorCase> kTierCases = {
    {"Missing",
     "backends:\n  - {name: a, url: http://h, model: m}\n",
     {"policy.yaml:1:1: missing required key 'tiers'"}},
    {"Empty",
     std::string(kTwoBackends) + "tiers: {}\n",
     {"policy.yaml:4:8: tiers: must not be empty"}},
    {"IsASequence",
     std::string(kTwoBackends) + "tiers: [a]\n",
     {"policy.yaml:4:8: tiers: expected a mapping, got a sequence"}},
    {"TierIsNull", tiers("  t:\n"), {"policy.yaml:5:3: tiers.t: expected a mapping, got null"}},
    {"InvalidName",
     tiers("  'a/b': {backends: [a]}\n"),
     {"policy.yaml:5:3: tiers.a/b: invalid name 'a/b' (use letters, digits, '.', '_' and '-')"}},
    {"NamedAuto",
     tiers("  auto: {backends: [a]}\n"),
     {"policy.yaml:5:3: tiers.auto: 'auto' is reserved (it selects the default tier)"}},
    {"UnknownKey",
     tiers("  t: {backends: [a], weights: [1]}\n"),
     {"policy.yaml:5:22: tiers.t.weights: unknown key (expected one of: backends)"}},
    {"WithoutBackends",
     tiers("  t: {}\n"),
     {"policy.yaml:5:6: tiers.t: missing required key 'backends'"}},
    {"BackendsEmpty",
     tiers("  t: {backends: []}\n"),
     {"policy.yaml:5:17: tiers.t.backends: must not be empty"}},
    {"BackendsIsAScalar",
     tiers("  t: {backends: a}\n"),
     {"policy.yaml:5:17: tiers.t.backends: expected a sequence, got 'a'"}},
    {"UnknownBackend",
     tiers("  local: {backends: [lama-local]}\n"),
     {"policy.yaml:5:22: tiers.local.backends[0]: unknown backend 'lama-local'"}},
    {"DuplicateBackend",
     tiers("  t: {backends: [a, b, a]}\n"),
     {"policy.yaml:5:24: tiers.t.backends[2]: duplicate backend 'a' in this tier"}},
    {"BackendIsAMapping",
     tiers("  t: {backends: [{a: 1}]}\n"),
     {"policy.yaml:5:18: tiers.t.backends[0]: expected a string, got a mapping"}},
    {"DuplicateName",
     tiers("  t: {backends: [a]}\n  t: {backends: [b]}\n"),
     {"policy.yaml:6:3: tiers.t: duplicate key (first at line 5)"}},
};

const std::vector<ErrorCase> kModelCases = {
    {"IsASequence",
     tiers("  local: {backends: [a]}\nmodels: [a]\n"),
     {"policy.yaml:6:9: models: expected a mapping, got a sequence"}},
    {"AliasIsNull", models("  x:\n"), {"policy.yaml:7:3: models.x: expected a mapping, got null"}},
    {"AliasIsAScalar",
     models("  x: a\n"),
     {"policy.yaml:7:6: models.x: expected a mapping, got 'a'"}},
    {"InvalidName",
     models("  'gpt 4o': {backend: a}\n"),
     {"policy.yaml:7:3: models.gpt 4o: invalid name 'gpt 4o' (use letters, digits, '.', '_', "
      "'-', ':', '/' and the globs '*' and '?', not starting with '/')"}},
    {"NamePatterns", models("  claude-*: {tier: local}\n  gpt-4o-??: {backend: a}\n  '*': {tier: local}\n"),
     {}},
    {"NameLikeAnUpstreamModelId", models("  meta-llama/Llama-3.1-8B: {backend: a}\n  "
                                         "qwen2.5:7b: {tier: local}\n"), {}},
    {"NameStartingWithSlash",
     models("  /v1: {backend: a}\n"),
     {"policy.yaml:7:3: models./v1: invalid name '/v1' (use letters, digits, '.', '_', '-', ':', "
      "'/' and the globs '*' and '?', not starting with '/')"}},
    {"NamedAuto",
     models("  auto: {tier: local}\n"),
     {"policy.yaml:7:3: models.auto: 'auto' is reserved (it selects the default tier)"}},
    {"NamedLikeATier",
     models("  local: {backend: a}\n"),
     {"policy.yaml:7:3: models.local: alias 'local' is already a tier name"}},
    {"BothTargets",
     models("  x: {backend: a, tier: local}\n"),
     {"policy.yaml:7:6: models.x: set exactly one of 'backend' or 'tier', not both"}},
    {"NoTarget",
     models("  x: {}\n"),
     {"policy.yaml:7:6: models.x: missing required key 'backend' or 'tier'"}},
    {"NullTarget",
     models("  x: {backend: ~}\n"),
     {"policy.yaml:7:7: models.x.backend: expected a string, got null"}},
    {"UnknownBackend",
     models("  gpt-4o: {backend: gpt}\n"),
     {"policy.yaml:7:21: models.gpt-4o.backend: unknown backend 'gpt'"}},
    {"UnknownTier",
     models("  x: {tier: big}\n"),
     {"policy.yaml:7:13: models.x.tier: unknown tier 'big'"}},
    {"UnknownKey",
     models("  x: {backend: a, weight: 1}\n"),
     {"policy.yaml:7:19: models.x.weight: unknown key (expected one of: backend, tier)"}},
    {"DuplicateAlias",
     models("  x: {backend: a}\n  x: {tier: local}\n"),
     {"policy.yaml:8:3: models.x: duplicate key (first at line 7)"}},
    {"AliasMayShareABackendName", models("  a: {backend: a}\n"), {}},
};

INSTANTIATE_TEST_SUITE_P(Backends, ConfigErrorTest,
                         testing::ValuesIn(servedAnonymously(kBackendCases)), errorCaseName);
INSTANTIATE_TEST_SUITE_P(Tiers, ConfigErrorTest, testing::ValuesIn(servedAnonymously(kTierCases)),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(Models, ConfigErrorTest, testing::ValuesIn(servedAnonymously(kModelCases)),
                         errorCaseName);

}  // namespace
}  // namespace sy::config
