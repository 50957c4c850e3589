// `kind: azure-openai` backends: `deployment` and `api_version` (required for this kind, rejected
// for the others, validated), and the kind's defaults (external, no health checks).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

std::string at(std::string_view position, std::string_view message) {
  return std::string("policy.yaml:").append(position).append(": ").append(message);
}

// An Azure backend `a` (lines 2-5) plus `fields` from line 6, each indented by 4 spaces: a
// field's value starts at column 7 + the key's length.
std::string azureWith(std::string_view fields) {
  return std::string(
             "backends:\n  - name: a\n    kind: azure-openai\n"
             "    url: https://myres.openai.azure.com\n    model: gpt-4o\n")
      .append(fields)
      .append("tiers:\n  t: {backends: [a]}\n");
}

constexpr std::string_view kDeployment = "    deployment: gpt-4o-prod\n";
constexpr std::string_view kApiVersion = "    api_version: 2024-10-21\n";

std::string withDeployment(std::string_view deployment) {
  return azureWith("    deployment: " + std::string(deployment) + "\n" + std::string(kApiVersion));
}

std::string withApiVersion(std::string_view version) {
  return azureWith(std::string(kDeployment) + "    api_version: " + std::string(version) + "\n");
}

constexpr std::string_view kDeploymentRule =
    "(use 1-64 letters, digits, '.', '_' and '-', starting with a letter or digit)";
constexpr std::string_view kApiVersionRule =
    "(use a dated version such as 2024-10-21 or 2025-01-01-preview)";

const std::vector<ErrorCase> kAzureCases = {
    {"Loads", azureWith(std::string(kDeployment) + std::string(kApiVersion)), {}},
    {"LoadsWithAKeyAndAPreviewVersion",
     azureWith(std::string(kDeployment) +
               "    api_version: 2025-01-01-preview\n    api_key_env: AZURE_OPENAI_KEY\n"),
     {}},
    {"DeploymentWithDotsAndUnderscores", withDeployment("gpt-4o_mini.v2"), {}},
    {"DeploymentMissing",
     azureWith(kApiVersion),
     {at("2:5", "backends[0]: missing required key 'deployment'")}},
    {"ApiVersionMissing",
     azureWith(kDeployment),
     {at("2:5", "backends[0]: missing required key 'api_version'")}},
    {"BothMissing",
     azureWith(""),
     {at("2:5", "backends[0]: missing required key 'deployment'"),
      at("2:5", "backends[0]: missing required key 'api_version'")}},
    {"DeploymentWithASlash",
     withDeployment("a/b"),
     {at("6:17",
         "backends[0].deployment: invalid deployment name 'a/b' " + std::string(kDeploymentRule))}},
    {"DeploymentIsDotDot",
     withDeployment("'..'"),
     {at("6:17",
         "backends[0].deployment: invalid deployment name '..' " + std::string(kDeploymentRule))}},
    {"DeploymentWithAQuery",
     withDeployment("'d?api-version=1'"),
     {at("6:17", "backends[0].deployment: invalid deployment name 'd?api-version=1' " +
                     std::string(kDeploymentRule))}},
    {"DeploymentTooLong",
     withDeployment(std::string(65, 'd')),
     {at("6:17", "backends[0].deployment: invalid deployment name '" + std::string(65, 'd') + "' " +
                     std::string(kDeploymentRule))}},
    {"DeploymentAtTheMaximumLength", withDeployment(std::string(64, 'd')), {}},
    {"DeploymentIsEmpty",
     withDeployment("''"),
     {at("6:17", "backends[0].deployment: must not be empty")}},
    {"DeploymentIsASequence",
     withDeployment("[a]"),
     {at("6:17", "backends[0].deployment: expected a string, got a sequence")}},
    {"ApiVersionWithoutTheDay",
     withApiVersion("2024-10"),
     {at("7:18", "backends[0].api_version: invalid api_version '2024-10' " +
                     std::string(kApiVersionRule))}},
    {"ApiVersionIsAWord",
     withApiVersion("latest"),
     {at("7:18",
         "backends[0].api_version: invalid api_version 'latest' " + std::string(kApiVersionRule))}},
    {"ApiVersionWithAnUppercaseSuffix",
     withApiVersion("2024-10-21-Preview"),
     {at("7:18", "backends[0].api_version: invalid api_version '2024-10-21-Preview' " +
                     std::string(kApiVersionRule))}},
    {"ApiVersionWithAQuery",
     withApiVersion("'2024-10-21&x=1'"),
     {at("7:18", "backends[0].api_version: invalid api_version '2024-10-21&x=1' " +
                     std::string(kApiVersionRule))}},
    {"ApiVersionIsEmpty",
     withApiVersion("''"),
     {at("7:18", "backends[0].api_version: must not be empty")}},
    {"DeploymentOnAnOpenAiBackend",
     backendWith("    deployment: d\n"),
     {at("5:17", "backends[0].deployment: only valid with kind azure-openai")}},
    {"ApiVersionOnAnOllamaBackend",
     backendWith("    kind: ollama\n    api_version: 2024-10-21\n"),
     {at("6:18", "backends[0].api_version: only valid with kind azure-openai")}},
    {"AMisspeltKindAddsNoAzureNoise",
     backendWith("    kind: azure-opneai\n    deployment: d\n"),
     {at("5:11",
         "backends[0].kind: unknown kind 'azure-opneai' (expected one of: openai, ollama, "
         "anthropic, azure-openai)")}},
};

INSTANTIATE_TEST_SUITE_P(Azure, ConfigErrorTest, testing::ValuesIn(servedAnonymously(kAzureCases)),
                         errorCaseName);

Config load(std::string_view yaml) {
  auto config = loadConfigString(std::string(yaml), "policy.yaml");
  if (!config) {
    ADD_FAILURE() << config.error().front().str();
    return Config{};
  }
  return std::move(*config);
}

TEST(AzureConfigTest, DecodesTheDeploymentAndApiVersion) {
  const Config config = load(azureWith(std::string(kDeployment) + std::string(kApiVersion) +
                                       "    api_key_env: AZURE_OPENAI_KEY\n") +
                             std::string(kAnonymous));
  ASSERT_EQ(config.catalog.backends.size(), 1u);
  const BackendSpec& azure = config.catalog.backends[0];
  EXPECT_EQ(azure.kind, BackendKind::AzureOpenAi);
  EXPECT_EQ(azure.deployment, "gpt-4o-prod");
  EXPECT_EQ(azure.api_version, "2024-10-21");
  EXPECT_EQ(azure.model, "gpt-4o");
  EXPECT_EQ(azure.api_key_env, "AZURE_OPENAI_KEY");
  EXPECT_TRUE(azure.address.tls);
  EXPECT_EQ(azure.address.host, "myres.openai.azure.com");
  EXPECT_EQ(azure.address.base_path, "");
}

TEST(AzureConfigTest, IsExternalWithoutHealthChecksByDefault) {
  const Config config = load(azureWith(std::string(kDeployment) + std::string(kApiVersion)) +
                             std::string(kAnonymous));
  ASSERT_EQ(config.catalog.backends.size(), 1u);
  EXPECT_EQ(config.catalog.backends[0].location, Location::External)
      << "an Azure resource is a third party's cloud: fail closed for DLP and scopes";
  EXPECT_FALSE(config.catalog.backends[0].health.enabled) << "Azure OpenAI has no health endpoint";
}

TEST(AzureConfigTest, ThePolicyMayDeclareItSelfHostedOrCheckIt) {
  const Config config =
      load(azureWith(std::string(kDeployment) + std::string(kApiVersion) +
                     "    location: self-hosted\n    health_check: {path: /status}\n") +
           std::string(kAnonymous));
  ASSERT_EQ(config.catalog.backends.size(), 1u);
  EXPECT_EQ(config.catalog.backends[0].location, Location::SelfHosted);
  EXPECT_TRUE(config.catalog.backends[0].health.enabled);
  EXPECT_EQ(config.catalog.backends[0].health.path, "/status");
}

TEST(AzureConfigTest, OtherKindsHaveNoDeployment) {
  const Config config = load(std::string(kCatalog));
  ASSERT_EQ(config.catalog.backends.size(), 1u);
  EXPECT_EQ(config.catalog.backends[0].deployment, "");
  EXPECT_EQ(config.catalog.backends[0].api_version, "");
  EXPECT_EQ(config.catalog.backends[0].location, Location::SelfHosted);
}

}  // namespace
}  // namespace sy::config
