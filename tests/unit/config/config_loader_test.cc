// loadConfigString / loadConfigFile: a full valid policy decodes to the expected values, defaults
// come from the structs, and file-level failures (syntax, empty, unreadable) are reported.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gateway/config/config.h"

namespace sy::config {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kFullPolicy = R"(server:
  listen: 0.0.0.0:8443
  workers: 4
  shutdown_grace: 30s
  tls: {cert: /etc/sy/tls.crt, key: /etc/sy/tls.key}
  limits: {max_body_bytes: 4MiB, max_header_bytes: 32KiB, max_header_count: 50,
           header_timeout: 5s, body_timeout: 2m, idle_timeout: 500ms, max_connections: 2000,
           max_inflight_body_bytes: 64MiB, max_messages: 100, max_content_parts: 200,
           max_tools: 10}
admin:
  listen: '[::1]:9091'
backends:
  - name: llama-local
    kind: openai
    url: http://127.0.0.1:8000
    model: meta-llama/Llama-3.1-8B-Instruct
    location: self-hosted
    license: open-weight
    cost: {input_per_mtok: 0.05, output_per_mtok: 0.10}
    context_window: 131072
    timeouts: {connect: 1s, first_byte: 90s, idle: 1h}
    max_idle_connections: 8
  - name: gpt
    kind: openai
    url: https://x.openai.azure.com/openai/
    model: gpt-4o
    api_key_env: AZURE_OPENAI_KEY
    location: external
    region: eu
    license: proprietary
    cost: {input_per_mtok: 2.5, output_per_mtok: 10}
    ca_file: /etc/sy/ca.pem
tiers:
  local: {backends: [llama-local]}
  frontier: {backends: [gpt, llama-local]}
models:
  gpt-4o: {backend: gpt}
  llama: {tier: local}
auth: {anonymous: true}
)";

constexpr std::string_view kMinimalPolicy = R"(backends:
  - {name: a, url: http://h, model: m}
tiers:
  t: {backends: [a]}
auth: {anonymous: true}
)";

std::vector<std::string> errorStrings(const std::expected<Config, ConfigErrors>& loaded) {
  std::vector<std::string> out;
  if (!loaded) {
    for (const ConfigError& error : loaded.error()) {
      out.push_back(error.str());
    }
  }
  return out;
}

TEST(ConfigLoaderTest, DecodesTheServerAndAdminSectionsOfAFullPolicy) {
  const auto loaded = loadConfigString(std::string(kFullPolicy), "policy.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  const ServerConfig& server = loaded->server;
  EXPECT_EQ(loaded->source, "policy.yaml");
  EXPECT_EQ(server.listen.host, "0.0.0.0");
  EXPECT_EQ(server.listen.port, 8443);
  EXPECT_EQ(server.workers, 4u);
  EXPECT_EQ(server.shutdown_grace, 30s);
  ASSERT_TRUE(server.tls.has_value());
  EXPECT_EQ(server.tls->cert_file, "/etc/sy/tls.crt");
  EXPECT_EQ(server.tls->key_file, "/etc/sy/tls.key");
  EXPECT_EQ(server.limits.max_body_bytes, 4u << 20);
  EXPECT_EQ(server.limits.max_header_bytes, 32u << 10);
  EXPECT_EQ(server.limits.max_header_count, 50u);
  EXPECT_EQ(server.limits.header_timeout, 5s);
  EXPECT_EQ(server.limits.body_timeout, 2min);
  EXPECT_EQ(server.limits.idle_timeout, 500ms);
  EXPECT_EQ(server.limits.max_connections, 2000u);
  EXPECT_EQ(server.limits.max_inflight_body_bytes, 64u << 20);
  EXPECT_EQ(server.limits.max_messages, 100u);
  EXPECT_EQ(server.limits.max_content_parts, 200u);
  EXPECT_EQ(server.limits.max_tools, 10u);
  EXPECT_EQ(loaded->admin.listen.host, "::1");
  EXPECT_EQ(loaded->admin.listen.port, 9091);
}

TEST(ConfigLoaderTest, DecodesTheBackendsOfAFullPolicyInFileOrder) {
  const auto loaded = loadConfigString(std::string(kFullPolicy), "policy.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  const auto& backends = loaded->catalog.backends;
  ASSERT_EQ(backends.size(), 2u);
  const router::BackendSpec& llama = backends[0];
  EXPECT_EQ(llama.name, "llama-local");
  EXPECT_EQ(llama.kind, router::BackendKind::OpenAi);
  EXPECT_EQ(llama.url, "http://127.0.0.1:8000");
  EXPECT_FALSE(llama.address.tls);
  EXPECT_EQ(llama.address.host, "127.0.0.1");
  EXPECT_EQ(llama.address.port, 8000);
  EXPECT_EQ(llama.address.base_path, "");
  EXPECT_EQ(llama.model, "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(llama.api_key_env, "");
  EXPECT_EQ(llama.location, router::Location::SelfHosted);
  EXPECT_EQ(llama.license, router::License::OpenWeight);
  EXPECT_DOUBLE_EQ(llama.cost.input_per_mtok, 0.05);
  EXPECT_DOUBLE_EQ(llama.cost.output_per_mtok, 0.10);
  EXPECT_EQ(llama.context_window, 131072u);
  EXPECT_EQ(llama.timeouts.connect, 1s);
  EXPECT_EQ(llama.timeouts.first_byte, 90s);
  EXPECT_EQ(llama.timeouts.idle, 1h);
  EXPECT_EQ(llama.max_idle_connections, 8u);

  const router::BackendSpec& gpt = backends[1];
  EXPECT_EQ(gpt.name, "gpt");
  EXPECT_EQ(gpt.kind, router::BackendKind::OpenAi);
  EXPECT_EQ(gpt.url, "https://x.openai.azure.com/openai/");
  EXPECT_TRUE(gpt.address.tls);
  EXPECT_EQ(gpt.address.host, "x.openai.azure.com");
  EXPECT_EQ(gpt.address.port, 443);
  EXPECT_EQ(gpt.address.base_path, "/openai");
  EXPECT_EQ(gpt.api_key_env, "AZURE_OPENAI_KEY");
  EXPECT_EQ(gpt.location, router::Location::External);
  EXPECT_EQ(gpt.region, "eu");
  EXPECT_EQ(gpt.license, router::License::Proprietary);
  EXPECT_DOUBLE_EQ(gpt.cost.output_per_mtok, 10.0);
  EXPECT_EQ(gpt.ca_file, "/etc/sy/ca.pem");
  EXPECT_EQ(gpt.context_window, 0u);  // not set: unknown
}

TEST(ConfigLoaderTest, DecodesTiersAndAliasesOfAFullPolicyInFileOrder) {
  const auto loaded = loadConfigString(std::string(kFullPolicy), "policy.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  const auto& tiers = loaded->catalog.tiers;
  ASSERT_EQ(tiers.size(), 2u);
  EXPECT_EQ(tiers[0].name, "local");  // the first tier is the default for "auto"
  EXPECT_EQ(tiers[0].backends, std::vector<std::string>{"llama-local"});
  EXPECT_EQ(tiers[1].name, "frontier");
  EXPECT_EQ(tiers[1].backends, (std::vector<std::string>{"gpt", "llama-local"}));
  const auto& models = loaded->catalog.models;
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0].name, "gpt-4o");
  EXPECT_EQ(models[0].backend, "gpt");
  EXPECT_EQ(models[0].tier, "");
  EXPECT_EQ(models[1].name, "llama");
  EXPECT_EQ(models[1].backend, "");
  EXPECT_EQ(models[1].tier, "local");
}

TEST(ConfigLoaderTest, OmittedSectionsAndFieldsKeepTheStructDefaults) {
  const auto loaded = loadConfigString(std::string(kMinimalPolicy), "min.yaml");
  ASSERT_TRUE(loaded.has_value()) << errorStrings(loaded).front();
  const ServerConfig defaults;
  EXPECT_EQ(loaded->server.listen.host, defaults.listen.host);
  EXPECT_EQ(loaded->server.listen.port, defaults.listen.port);
  EXPECT_EQ(loaded->server.workers, defaults.workers);
  EXPECT_EQ(loaded->server.shutdown_grace, defaults.shutdown_grace);
  EXPECT_FALSE(loaded->server.tls.has_value());
  const ServerLimits& limits = loaded->server.limits;
  EXPECT_EQ(limits.max_body_bytes, defaults.limits.max_body_bytes);
  EXPECT_EQ(limits.max_header_bytes, defaults.limits.max_header_bytes);
  EXPECT_EQ(limits.max_header_count, defaults.limits.max_header_count);
  EXPECT_EQ(limits.header_timeout, defaults.limits.header_timeout);
  EXPECT_EQ(limits.body_timeout, defaults.limits.body_timeout);
  EXPECT_EQ(limits.idle_timeout, defaults.limits.idle_timeout);
  EXPECT_EQ(limits.max_inflight_body_bytes, 256u << 20);
  EXPECT_EQ(limits.max_connections, defaults.limits.max_connections);
  EXPECT_EQ(limits.max_messages, 2048u);
  EXPECT_EQ(limits.max_content_parts, 4096u);
  EXPECT_EQ(limits.max_tools, 512u);
  EXPECT_EQ(loaded->admin.listen.host, AdminConfig().listen.host);
  EXPECT_EQ(loaded->admin.listen.port, AdminConfig().listen.port);

  ASSERT_EQ(loaded->catalog.backends.size(), 1u);
  const router::BackendSpec& backend = loaded->catalog.backends[0];
  const router::BackendSpec backend_defaults;
  EXPECT_EQ(backend.kind, backend_defaults.kind);
  EXPECT_EQ(backend.location, backend_defaults.location);
  EXPECT_EQ(backend.license, backend_defaults.license);
  EXPECT_EQ(backend.region, "");
  EXPECT_EQ(backend.api_key_env, "");
  EXPECT_EQ(backend.ca_file, "");
  EXPECT_EQ(backend.cost.input_per_mtok, 0.0);
  EXPECT_EQ(backend.cost.output_per_mtok, 0.0);
  EXPECT_EQ(backend.context_window, backend_defaults.context_window);
  EXPECT_EQ(backend.timeouts.connect, backend_defaults.timeouts.connect);
  EXPECT_EQ(backend.timeouts.first_byte, backend_defaults.timeouts.first_byte);
  EXPECT_EQ(backend.timeouts.idle, backend_defaults.timeouts.idle);
  EXPECT_EQ(backend.max_idle_connections, backend_defaults.max_idle_connections);
  EXPECT_TRUE(loaded->catalog.models.empty());
}

TEST(ConfigLoaderTest, ReportsEveryErrorSortedByPosition) {
  // Decoded server, admin, backends, tiers, models; reported in file order.
  const std::string yaml = R"(tiers:
  t: {backends: [a, nope]}
models:
  x: {tier: missing}
backends:
  - {name: a, url: ftp://h, model: m, kind: grpc}
server:
  workers: many
  limits: {max_body_bytes: 8XB}
admin: {listen: nowhere}
auth: {anonymous: true}
)";
  EXPECT_EQ(errorStrings(loadConfigString(yaml, "p.yaml")),
            (std::vector<std::string>{
                "p.yaml:2:21: tiers.t.backends[1]: unknown backend 'nope'",
                "p.yaml:4:13: models.x.tier: unknown tier 'missing'",
                "p.yaml:6:20: backends[0].url: scheme must be http or https, got 'ftp'",
                "p.yaml:6:45: backends[0].kind: unknown kind 'grpc' (expected one of: openai, "
                "ollama, anthropic, azure-openai)",
                "p.yaml:8:12: server.workers: expected an integer, got 'many'",
                "p.yaml:9:28: server.limits.max_body_bytes: invalid size '8XB' (use e.g. 8MiB)",
                "p.yaml:10:17: admin.listen: missing port in 'nowhere' (use host:port, e.g. "
                "0.0.0.0:8080 or [::1]:8080)",
            }));
}

TEST(ConfigLoaderTest, ASyntaxErrorIsTheOnlyErrorWithYamlCppsPosition) {
  const std::string yaml = "backends: [a\ntiers: {}\n";
  EXPECT_EQ(errorStrings(loadConfigString(yaml, "p.yaml")),
            std::vector<std::string>{"p.yaml:2:6: invalid YAML: end of sequence flow not found"});
}

TEST(ConfigLoaderTest, ABadIndentIsASyntaxError) {
  const std::string yaml = "server:\n  listen: a:1\n\tworkers: 2\n";
  EXPECT_EQ(errorStrings(loadConfigString(yaml, "p.yaml")),
            std::vector<std::string>{
                "p.yaml:3:1: invalid YAML: illegal tab when looking for indentation"});
}

// yaml-cpp 0.7's LoadAll never returns on these (jbeder/yaml-cpp#1040): the loader must not hang.
TEST(ConfigLoaderTest, AStrayCommaIsASyntaxErrorNotAHang) {
  EXPECT_EQ(errorStrings(loadConfigString(",server:\n  workers: 1\n", "p.yaml")),
            std::vector<std::string>{"p.yaml:1:1: invalid YAML: unexpected ','"});
  EXPECT_EQ(errorStrings(loadConfigString("- a\n,\n", "p.yaml")),
            std::vector<std::string>{"p.yaml:2:1: invalid YAML: unexpected ','"});
}

TEST(ConfigLoaderTest, DeepNestingIsRejectedWithoutCrashing) {
  const std::string yaml = "backends: " + std::string(100'000, '[');
  EXPECT_EQ(errorStrings(loadConfigString(yaml, "p.yaml")),
            std::vector<std::string>{"p.yaml:1:1: invalid YAML: nesting is too deep"});
}

TEST(ConfigLoaderTest, AnEmptyFileIsAnError) {
  const std::string expected =
      "p.yaml:1:1: empty configuration (expected a mapping with at least 'backends' and "
      "'tiers')";
  for (const std::string yaml : {"", "\n\n", "# only a comment\n", "---\n", "~\n"}) {
    EXPECT_EQ(errorStrings(loadConfigString(yaml, "p.yaml")), std::vector<std::string>{expected})
        << "YAML: '" << yaml << "'";
  }
}

TEST(ConfigLoaderTest, LoadsAFileAndNamesItInErrors) {
  const std::filesystem::path dir = testing::TempDir();
  const std::filesystem::path good = dir / "sy_config_good.yaml";
  const std::filesystem::path bad = dir / "sy_config_bad.yaml";
  std::ofstream(good) << kMinimalPolicy;
  std::ofstream(bad) << kMinimalPolicy << "admin: 1\n";
  const auto loaded = loadConfigFile(good.string());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->source, good.string());
  EXPECT_EQ(errorStrings(loadConfigFile(bad.string())),
            std::vector<std::string>{bad.string() + ":6:8: admin: expected a mapping, got '1'"});
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

TEST(ConfigLoaderTest, AnUnreadableFileIsReportedAtLineZero) {
  const std::string missing = testing::TempDir() + "sy_config_does_not_exist.yaml";
  EXPECT_EQ(
      errorStrings(loadConfigFile(missing)),
      std::vector<std::string>{missing + ":0:0: cannot read file: No such file or directory"});
  const std::string dir = testing::TempDir();
  EXPECT_EQ(errorStrings(loadConfigFile(dir)),
            std::vector<std::string>{dir + ":0:0: cannot read file: Is a directory"});
}

TEST(ConfigLoaderTest, ErrorStrIsFileLineColumnMessage) {
  EXPECT_EQ((ConfigError{"a.yaml", 3, 7, "tiers: must not be empty"}).str(),
            "a.yaml:3:7: tiers: must not be empty");
  EXPECT_EQ((ConfigError{"a.yaml", 0, 0, "cannot read file: x"}).str(),
            "a.yaml:0:0: cannot read file: x");
}

}  // namespace
}  // namespace sy::config
