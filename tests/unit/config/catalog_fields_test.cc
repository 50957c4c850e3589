// The catalog fields for load balancing and health (backends[].weight, capabilities,
// health_check), the `compliance` section, and lintWarnings(): exact located errors, decoded
// values and defaults, and each kind of warning at its place.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/config/lint.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

using namespace std::chrono_literals;

std::string at(std::string_view position, std::string_view message) {
  return std::string("policy.yaml:").append(position).append(": ").append(message);
}

// `compliance:` on line 1, `lines` from line 2, then kCatalog.
std::string compliance(std::string_view lines) {
  return std::string("compliance:\n").append(lines).append(kCatalog);
}

const std::vector<ErrorCase> kFieldCases = {
    {"WeightIsZero",
     backendWith("    weight: 0\n"),
     {at("5:13", "backends[0].weight: must be > 0, got '0'")}},
    {"WeightAboveTheMaximum",
     backendWith("    weight: 1001\n"),
     {at("5:13", "backends[0].weight: must be <= 1000, got '1001'")}},
    {"WeightIsNotAnInteger",
     backendWith("    weight: 1.5\n"),
     {at("5:13", "backends[0].weight: expected an integer, got '1.5'")}},
    {"WeightAtTheMaximum", backendWith("    weight: 1000\n"), {}},
    {"CapabilityUnknown",
     backendWith("    capabilities: [tools, audio]\n"),
     {at("5:27",
         "backends[0].capabilities[1]: unknown capability 'audio' (expected one of: tools, "
         "vision, json_mode)")}},
    {"CapabilityDuplicate",
     backendWith("    capabilities: [tools, tools]\n"),
     {at("5:27", "backends[0].capabilities[1]: duplicate capability 'tools'")}},
    {"CapabilitiesIsAScalar",
     backendWith("    capabilities: tools\n"),
     {at("5:19", "backends[0].capabilities: expected a sequence, got 'tools'")}},
    {"CapabilitiesMayBeEmpty", backendWith("    capabilities: []\n"), {}},
    {"ApiIsUnknown",
     backendWith("    api: completions\n"),
     {at("5:10", "backends[0].api: unknown api 'completions' (expected one of: chat, responses)")}},
    {"ApiListHasAnUnknownEntry",
     backendWith("    api: [chat, assistants]\n"),
     {at("5:17",
         "backends[0].api[1]: unknown api 'assistants' (expected one of: chat, responses)")}},
    {"ApiListHasADuplicate",
     backendWith("    api: [responses, responses]\n"),
     {at("5:22", "backends[0].api[1]: duplicate api 'responses'")}},
    {"ApiListIsEmpty", backendWith("    api: []\n"), {at("5:10", "backends[0].api: must not be empty")}},
    {"ApiIsAMapping",
     backendWith("    api: {chat: true}\n"),
     {at("5:10", "backends[0].api: expected 'chat', 'responses' or a list of them, got a mapping")}},
    {"ApiOnAnAnthropicBackend",
     backendWith("    kind: anthropic\n    api: responses\n"),
     {at("6:10", "backends[0].api: only valid for kinds 'openai' and 'ollama'")}},
    {"ApiOnAnAzureBackend",
     "backends:\n  - {name: a, kind: azure-openai, url: https://h, model: m, deployment: d,\n"
     "     api_version: 2024-10-21, api: chat}\n"
     "tiers:\n  t: {backends: [a]}\n",
     {at("3:36", "backends[0].api: only valid for kinds 'openai' and 'ollama'")}},
    {"ApiValid", backendWith("    api: [responses, chat]\n"), {}},
    {"HealthCheckIsNotABoolean",
     backendWith("    health_check: yes\n"),
     {at("5:19", "backends[0].health_check: expected true or false, got 'yes'")}},
    {"HealthCheckIsASequence",
     backendWith("    health_check: [/health]\n"),
     {at("5:19", "backends[0].health_check: expected true, false or a mapping, got a sequence")}},
    {"HealthCheckUnknownKey",
     backendWith("    health_check: {path: /h, every: 5s}\n"),
     {at("5:30",
         "backends[0].health_check.every: unknown key (expected one of: path, interval, "
         "timeout)")}},
    {"HealthCheckPathWithoutSlash",
     backendWith("    health_check: {path: health}\n"),
     {at("5:26", "backends[0].health_check.path: must start with '/', got 'health'")}},
    {"HealthCheckIntervalBelowOneSecond",
     backendWith("    health_check: {interval: 500ms}\n"),
     {at("5:30", "backends[0].health_check.interval: must be at least 1s, got '500ms'")}},
    {"HealthCheckTimeoutBelow100ms",
     backendWith("    health_check: {timeout: 50ms}\n"),
     {at("5:29", "backends[0].health_check.timeout: must be at least 100ms, got '50ms'")}},
    {"HealthCheckTimeoutNotShorterThanTheInterval",
     backendWith("    health_check: {interval: 5s, timeout: 5s}\n"),
     {at("5:43",
         "backends[0].health_check.timeout: must be shorter than the interval (5s), got '5s'")}},
    {"HealthCheckIntervalNotLongerThanTheDefaultTimeout",
     backendWith("    health_check: {interval: 1s}\n"),
     {at("5:30",
         "backends[0].health_check.interval: must be longer than the timeout (2s), got '1s'")}},
    {"HealthCheckShortestValid",
     backendWith("    health_check: {interval: 1s, timeout: 100ms}\n"),
     {}},
    {"HealthCheckDuration",
     backendWith("    health_check: {interval: 10}\n"),
     {at("5:30",
         "backends[0].health_check.interval: invalid duration '10' (use e.g. 500ms, 10s, 2m, "
         "1h)")}},
    {"HealthCheckNullMeansDefault", backendWith("    health_check: ~\n"), {}},
};

const std::vector<ErrorCase> kComplianceCases = {
    {"IsAScalar",
     "compliance: strict\n" + std::string(kCatalog),
     {at("1:13", "compliance: expected a mapping, got 'strict'")}},
    {"UnknownKey",
     compliance("  region: [eu]\n"),
     {at("2:3", "compliance.region: unknown key (expected one of: licenses, regions)")}},
    {"UnknownLicense",
     compliance("  licenses: [mit]\n"),
     {at("2:14",
         "compliance.licenses[0]: unknown license 'mit' (expected one of: osi-open-source, "
         "open-weight, source-available, proprietary)")}},
    {"DuplicateLicense",
     compliance("  licenses: [open-weight, open-weight]\n"),
     {at("2:27", "compliance.licenses[1]: duplicate license 'open-weight'")}},
    {"EmptyLicenses",
     compliance("  licenses: []\n"),
     {at("2:13",
         "compliance.licenses: must not be empty (omit it to allow every license category)")}},
    {"LicensesIsAScalar",
     compliance("  licenses: open-weight\n"),
     {at("2:13", "compliance.licenses: expected a sequence, got 'open-weight'")}},
    {"EmptyRegions",
     compliance("  regions: []\n"),
     {at("2:12", "compliance.regions: must not be empty (omit it to allow every region)")}},
    {"DuplicateRegion",
     compliance("  regions: [eu, eu]\n"),
     {at("2:17", "compliance.regions[1]: duplicate region 'eu'")}},
    {"RegionIsAMapping",
     compliance("  regions: [{eu: 1}]\n"),
     {at("2:13", "compliance.regions[0]: expected a string, got a mapping")}},
    {"EmptyRegionName",
     compliance("  regions: ['']\n"),
     {at("2:13", "compliance.regions[0]: must not be empty")}},
    {"Valid", compliance("  licenses: [osi-open-source, open-weight]\n  regions: [eu, us]\n"), {}},
    {"NullMeansAbsent", "compliance: ~\n" + std::string(kCatalog), {}},
};

INSTANTIATE_TEST_SUITE_P(BackendFields, ConfigErrorTest,
                         testing::ValuesIn(servedAnonymously(kFieldCases)), errorCaseName);
INSTANTIATE_TEST_SUITE_P(Compliance, ConfigErrorTest, testing::ValuesIn(kComplianceCases),
                         errorCaseName);

Config load(std::string_view yaml) {
  auto config = loadConfigString(std::string(yaml), "policy.yaml");
  if (!config) {
    ADD_FAILURE() << config.error().front().str();
    return Config{};
  }
  return std::move(*config);
}

TEST(CatalogFieldsTest, DefaultsDependOnTheLocation) {
  const Config config = load(
      "backends:\n"
      "  - {name: local, url: http://h, model: m}\n"
      "  - {name: remote, url: https://api.example.com, model: m, location: external}\n"
      "tiers:\n"
      "  t: {backends: [local, remote]}\n"
      "auth: {anonymous: true}\n");
  ASSERT_EQ(config.catalog.backends.size(), 2u);
  const BackendSpec& local = config.catalog.backends[0];
  const BackendSpec& remote = config.catalog.backends[1];
  EXPECT_EQ(local.weight, 1u);
  EXPECT_TRUE(local.capabilities.tools);
  EXPECT_TRUE(local.capabilities.vision);
  EXPECT_TRUE(local.capabilities.json_mode);
  EXPECT_TRUE(local.health.enabled) << "self-hosted backends are checked by default";
  EXPECT_EQ(local.health.path, "/health");
  EXPECT_EQ(local.health.interval, 10s);
  EXPECT_EQ(local.health.timeout, 2s);
  EXPECT_FALSE(remote.health.enabled) << "external backends are not, by default";
  EXPECT_TRUE(config.compliance.licenses.empty());
  EXPECT_TRUE(config.compliance.regions.empty());
}

TEST(CatalogFieldsTest, OpenAiBackendsServeResponsesByDefaultAndApiSaysExactlyWhat) {
  const Config config = load(
      "backends:\n"
      "  - {name: openai, url: http://h, model: m}\n"
      "  - {name: ollama, kind: ollama, url: http://h, model: m}\n"
      "  - {name: only, url: http://h, model: m, api: responses}\n"
      "  - {name: chat, url: http://h, model: m, api: [chat]}\n"
      "  - {name: both, kind: ollama, url: http://h, model: m, api: [chat, responses]}\n"
      "  - {name: claude, kind: anthropic, url: http://h, model: m}\n"
      "tiers:\n"
      "  t: {backends: [openai, ollama, only, chat, both, claude]}\n"
      "auth: {anonymous: true}\n");
  ASSERT_EQ(config.catalog.backends.size(), 6u);
  const auto served = [&](size_t i) {
    const ServedApis& apis = config.catalog.backends[i].apis;
    return std::pair{apis.chat_completions, apis.responses};
  };
  EXPECT_EQ(served(0), std::pair(true, true)) << "OpenAI and vLLM serve both";
  EXPECT_EQ(served(1), std::pair(true, false));
  EXPECT_EQ(served(2), std::pair(false, true));
  EXPECT_EQ(served(3), std::pair(true, false));
  EXPECT_EQ(served(4), std::pair(true, true));
  EXPECT_EQ(served(5), std::pair(true, false)) << "not read for kind anthropic";
}

TEST(CatalogFieldsTest, AnthropicBackendsAreNotHealthCheckedAndHaveNoJsonModeByDefault) {
  const Config config = load(
      "backends:\n"
      "  - {name: claude, kind: anthropic, url: http://h, model: m}\n"
      "  - {name: checked, kind: anthropic, url: http://h, model: m, max_tokens: 1024,\n"
      "     health_check: {path: /v1/models}, capabilities: [tools, json_mode]}\n"
      "tiers:\n"
      "  t: {backends: [claude, checked]}\n"
      "auth: {anonymous: true}\n");
  ASSERT_EQ(config.catalog.backends.size(), 2u);
  const BackendSpec& claude = config.catalog.backends[0];
  EXPECT_FALSE(claude.health.enabled) << "Anthropic's API has no health endpoint";
  EXPECT_EQ(claude.max_tokens, 4096u);
  EXPECT_TRUE(claude.capabilities.tools);
  EXPECT_TRUE(claude.capabilities.vision);
  EXPECT_FALSE(claude.capabilities.json_mode);
  const BackendSpec& checked = config.catalog.backends[1];
  EXPECT_TRUE(checked.health.enabled);
  EXPECT_EQ(checked.max_tokens, 1024u);
  EXPECT_TRUE(checked.capabilities.json_mode) << "the policy's list wins";
}

TEST(CatalogFieldsTest, DecodesWeightCapabilitiesAndHealthChecks) {
  const Config config = load(
      "backends:\n"
      "  - name: a\n"
      "    url: http://h\n"
      "    model: m\n"
      "    weight: 3\n"
      "    capabilities: [vision]\n"
      "    health_check: {path: /v1/models, interval: 30s, timeout: 1500ms}\n"
      "  - {name: b, url: http://g, model: m, capabilities: [], health_check: false}\n"
      "  - {name: c, url: https://api.example.com, model: m, location: external,\n"
      "     capabilities: [json_mode, tools], health_check: true}\n"
      "tiers:\n"
      "  t: {backends: [a, b, c]}\n"
      "auth: {anonymous: true}\n");
  ASSERT_EQ(config.catalog.backends.size(), 3u);
  const BackendSpec& a = config.catalog.backends[0];
  EXPECT_EQ(a.weight, 3u);
  EXPECT_FALSE(a.capabilities.tools);
  EXPECT_TRUE(a.capabilities.vision);
  EXPECT_FALSE(a.capabilities.json_mode);
  EXPECT_TRUE(a.health.enabled);
  EXPECT_EQ(a.health.path, "/v1/models");
  EXPECT_EQ(a.health.interval, 30s);
  EXPECT_EQ(a.health.timeout, 1500ms);
  const BackendSpec& b = config.catalog.backends[1];
  EXPECT_FALSE(b.capabilities.tools || b.capabilities.vision || b.capabilities.json_mode);
  EXPECT_FALSE(b.health.enabled) << "false turns off the self-hosted default";
  const BackendSpec& c = config.catalog.backends[2];
  EXPECT_TRUE(c.capabilities.tools);
  EXPECT_FALSE(c.capabilities.vision);
  EXPECT_TRUE(c.capabilities.json_mode);
  EXPECT_TRUE(c.health.enabled) << "true turns on checks of an external backend";
  EXPECT_EQ(c.health.path, "/health");
  EXPECT_EQ(c.health.interval, 10s);
}

TEST(CatalogFieldsTest, AHealthCheckMappingEnablesChecksOfAnExternalBackend) {
  const Config config = load(
      "backends:\n"
      "  - {name: c, url: https://api.example.com, model: m, location: external,\n"
      "     health_check: {interval: 1m}}\n"
      "tiers:\n"
      "  t: {backends: [c]}\n"
      "auth: {anonymous: true}\n");
  ASSERT_EQ(config.catalog.backends.size(), 1u);
  EXPECT_TRUE(config.catalog.backends[0].health.enabled);
  EXPECT_EQ(config.catalog.backends[0].health.interval, 60s);
}

TEST(CatalogFieldsTest, TheDefaultHealthPathDependsOnTheKind) {
  const Config config = load(
      "backends:\n"
      "  - {name: vllm, url: http://h:8000/v1, model: m}\n"
      "  - {name: ollama, kind: ollama, url: http://o:11434/v1, model: llama3.1}\n"
      "  - {name: proxied, kind: ollama, url: http://gw/ollama, model: m}\n"
      "  - {name: custom, kind: ollama, url: http://o:11434, model: m,\n"
      "     health_check: {path: /api/tags}}\n"
      "tiers:\n"
      "  t: {backends: [vllm, ollama, proxied, custom]}\n"
      "auth: {anonymous: true}\n");
  ASSERT_EQ(config.catalog.backends.size(), 4u);
  const BackendSpec& vllm = config.catalog.backends[0];
  const BackendSpec& ollama = config.catalog.backends[1];
  EXPECT_EQ(vllm.kind, BackendKind::OpenAi);
  EXPECT_EQ(vllm.health.path, "/health");
  EXPECT_EQ(ollama.kind, BackendKind::Ollama);
  EXPECT_TRUE(ollama.health.enabled);
  EXPECT_EQ(ollama.health.path, "/api/version") << "Ollama has no /health";
  // Health endpoints live at the server's root, not under the OpenAI API's /v1.
  EXPECT_EQ(healthCheckTarget(vllm), "/health");
  EXPECT_EQ(healthCheckTarget(ollama), "/api/version");
  EXPECT_EQ(healthCheckTarget(config.catalog.backends[2]), "/ollama/api/version");
  EXPECT_EQ(config.catalog.backends[3].health.path, "/api/tags") << "a policy's path wins";
}

TEST(CatalogFieldsTest, DecodesCompliance) {
  const Config config =
      load(compliance("  licenses: [osi-open-source, open-weight]\n  regions: [eu, us]\n"));
  EXPECT_EQ(config.compliance.licenses,
            (std::vector<License>{License::OsiOpenSource, License::OpenWeight}));
  EXPECT_EQ(config.compliance.regions, (std::vector<std::string>{"eu", "us"}));
}

std::vector<std::string> warnings(std::string_view yaml) {
  std::vector<std::string> out;
  for (const ConfigWarning& warning : lintWarnings(load(yaml))) {
    out.push_back(warning.str());
  }
  return out;
}

std::string warning(std::string_view position, std::string_view message) {
  return std::string("policy.yaml:").append(position).append(": warning: ").append(message);
}

// Lines 1-3: compliance; 5-8: backends local (self-hosted, open-weight), gpt (external,
// proprietary, us), mistral (external, open-weight, no region) and spare (unused); 10-11: tiers;
// 13-14: models; 16-19: routing.
constexpr std::string_view kLintPolicy =
    "compliance:\n"
    "  licenses: [osi-open-source, open-weight]\n"
    "  regions: [eu]\n"
    "backends:\n"
    "  - {name: local, url: http://h, model: m}\n"
    "  - {name: gpt, url: https://a.example.com, model: m, location: external, license: "
    "proprietary, region: us, cost: {input_per_mtok: 1}}\n"
    "  - {name: mistral, url: https://b.example.com, model: m, location: external, cost: "
    "{output_per_mtok: 1}}\n"
    "  - {name: spare, url: http://s, model: m}\n"
    "tiers:\n"
    "  local: {backends: [local]}\n"
    "  frontier: {backends: [gpt, local]}\n"
    "models:\n"
    "  gpt-4o: {backend: gpt}\n"
    "  fast: {tier: local}\n"
    "routing:\n"
    "  - {name: hard, when: {difficulty: complex}, route: frontier}\n"
    "  - {name: direct, when: {models: [mistral*]}, route: mistral, fallback: [frontier]}\n"
    "  - {name: rest, route: local, transform: redact}\n"
    "auth: {anonymous: true}\n";

TEST(LintWarningsTest, ReportsEachKindAtItsPlace) {
  const std::string gpt =
      "can reach backend 'gpt' (external, license proprietary, region us), which compliance "
      "does not allow: license category 'proprietary' is not in compliance.licenses "
      "(osi-open-source, open-weight); region 'us' is not in compliance.regions (eu)";
  const std::string mistral =
      "can reach backend 'mistral' (external, license open-weight, no region), which compliance "
      "does not allow: its region is unknown (no region set) and compliance.regions is (eu)";
  EXPECT_EQ(
      warnings(kLintPolicy),
      (std::vector<std::string>{
          warning("7:5",
                  "backends[2]: external backend 'mistral' has no region, so compliance.regions "
                  "(eu) cannot allow it: set its region"),
          warning("8:5",
                  "backends[3]: backend 'spare' is unused: no tier, model alias or routing rule "
                  "names it"),
          warning("11:25", "tiers.frontier.backends[0]: tier 'frontier' " + gpt),
          warning("13:21", "models.gpt-4o.backend: model alias 'gpt-4o' " + gpt),
          warning("16:54", "routing[0].route: routing rule 'hard' (route 'frontier') " + gpt),
          warning("17:55", "routing[1].route: routing rule 'direct' (route 'mistral') " + mistral),
          warning("17:75",
                  "routing[1].fallback[0]: routing rule 'direct' (fallback 'frontier') " + gpt),
          warning("18:43",
                  "routing[2].transform: has no effect: rule 'rest' reaches only self-hosted "
                  "backends (transforms apply to requests sent to external backends)"),
      }));
}

TEST(LintWarningsTest, LicensesApplyToSelfHostedBackendsAndRegionsOnlyToExternalOnes) {
  EXPECT_EQ(warnings("compliance: {licenses: [osi-open-source], regions: [eu]}\n"
                     "backends:\n"
                     "  - {name: a, url: http://h, model: m, region: us}\n"
                     "tiers:\n"
                     "  t: {backends: [a]}\n"
                     "auth: {anonymous: true}\n"),
            (std::vector<std::string>{warning(
                "5:18",
                "tiers.t.backends[0]: tier 't' can reach backend 'a' (self-hosted, license "
                "open-weight, region us), which compliance does not allow: license category "
                "'open-weight' is not in compliance.licenses (osi-open-source)")}));
}

TEST(LintWarningsTest, AnExternalBackendWithoutACost) {
  EXPECT_EQ(warnings("backends:\n"
                     "  - {name: a, url: http://h, model: m}\n"
                     "  - name: x\n"
                     "    url: https://api.example.com\n"
                     "    model: m\n"
                     "    location: external\n"
                     "tiers:\n"
                     "  t: {backends: [a, x]}\n"
                     "auth: {anonymous: true}\n"),
            (std::vector<std::string>{warning(
                "3:5",
                "backends[1]: external backend 'x' has no cost: its traffic counts as free in "
                "spend, budgets and savings (set cost: {input_per_mtok, output_per_mtok})")}));
}

TEST(LintWarningsTest, AModelAliasAndARuleRouteCountAsUses) {
  EXPECT_EQ(warnings("backends:\n"
                     "  - {name: a, url: http://h, model: m}\n"
                     "  - {name: b, url: http://g, model: m}\n"
                     "  - {name: c, url: http://f, model: m}\n"
                     "tiers:\n"
                     "  t: {backends: [a]}\n"
                     "models:\n"
                     "  bee: {backend: b}\n"
                     "routing:\n"
                     "  - {name: r, when: {difficulty: complex}, route: c}\n"
                     "auth: {anonymous: true}\n"),
            std::vector<std::string>{});
}

TEST(LintWarningsTest, ACompliantPolicyHasNoWarnings) {
  EXPECT_EQ(warnings("compliance:\n"
                     "  licenses: [open-weight, proprietary]\n"
                     "  regions: [eu]\n"
                     "backends:\n"
                     "  - {name: local, url: http://h, model: m}\n"
                     "  - {name: gpt, url: https://a.example.com, model: m, location: external,\n"
                     "     license: proprietary, region: eu, cost: {input_per_mtok: 2.5}}\n"
                     "tiers:\n"
                     "  local: {backends: [local]}\n"
                     "  frontier: {backends: [gpt]}\n"
                     "models:\n"
                     "  gpt-4o: {backend: gpt}\n"
                     "routing:\n"
                     "  - {name: hard, when: {difficulty: complex}, route: frontier,\n"
                     "     transform: redact}\n"
                     "  - {name: rest, route: local}\n"
                     "auth: {anonymous: true}\n"),
            std::vector<std::string>{});
}

TEST(LintWarningsTest, WithoutComplianceOnlyHygieneWarnings) {
  Config config = load(kLintPolicy);
  config.compliance = ComplianceSpec{};
  std::vector<std::string> messages;
  for (const ConfigWarning& warning : lintWarnings(config)) {
    messages.push_back(warning.message);
  }
  EXPECT_EQ(messages,
            (std::vector<std::string>{
                "backends[3]: backend 'spare' is unused: no tier, model alias or routing rule "
                "names it",
                "routing[2].transform: has no effect: rule 'rest' reaches only self-hosted "
                "backends (transforms apply to requests sent to external backends)"}));
}

TEST(LintWarningsTest, LogLintWarningsCountsThem) {
  const Config config = load(kLintPolicy);
  size_t seen = 0;
  EXPECT_EQ(forEachLintWarning(config, [&](const ConfigWarning&) { ++seen; }), 8u);
  EXPECT_EQ(seen, 8u);
}

}  // namespace
}  // namespace sy::config
