// The table-driven error test (TEST_P) and the cases for the top level, `server` and `admin`.
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

TEST_P(ConfigErrorTest, ReportsExactlyTheExpectedErrors) {
  const ErrorCase& c = GetParam();
  const auto loaded = loadConfigString(c.yaml, "policy.yaml");
  std::vector<std::string> actual;
  if (!loaded) {
    for (const ConfigError& error : loaded.error()) {
      actual.push_back(error.str());
    }
  }
  EXPECT_EQ(actual, c.errors) << "YAML:\n" << c.yaml;
}

std::string withCatalog(std::string_view section) { return std::string(section).append(kCatalog); }

std::string server(std::string_view lines) { return withCatalog("server:\n" + std::string(lines)); }

std::string limits(std::string_view lines) { return server("  limits:\n" + std::string(lines)); }

const std::vector<ErrorCase> kTopLevelCases = {
    {"UnknownKey",
     withCatalog("servr: {}\n"),
     {"policy.yaml:1:1: servr: unknown key (expected one of: server, admin, backends, tiers, "
      "models, sensitivity, dlp, auth, teams, keys, limits, state, audit, accounting, resilience, "
      "difficulty, routing, compliance, responses, include, shadow)"}},
    {"SequenceAtTheTop", "- a\n- b\n", {"policy.yaml:1:1: expected a mapping, got a sequence"}},
    {"ScalarAtTheTop", "hello\n", {"policy.yaml:1:1: expected a mapping, got 'hello'"}},
    {"MissingBackendsAndTiers",
     "server: {}\n",
     {"policy.yaml:1:1: missing required key 'backends'",
      "policy.yaml:1:1: missing required key 'tiers'",
      "policy.yaml:1:1: no keys: add keys, or set auth.anonymous: true to serve anonymous "
      "traffic"}},
    {"DuplicateKey",
     std::string(kCatalog) + "tiers:\n  u: {backends: [a]}\n",
     {"policy.yaml:6:1: tiers: duplicate key (first at line 3)"}},
    {"NonStringKey", withCatalog("? [a]\n: 1\n"), {"policy.yaml:1:3: keys must be strings"}},
    {"SecondDocument",
     std::string(kCatalog) + "---\nserver: {}\n",
     {"policy.yaml:6:1: only one YAML document is allowed per file"}},
    {"OptionalSectionsMayBeNull", withCatalog("server: ~\nadmin:\nmodels: ~\n"), {}},
};

const std::vector<ErrorCase> kServerCases = {
    {"IsASequence",
     withCatalog("server: [1]\n"),
     {"policy.yaml:1:9: server: expected a mapping, got a sequence"}},
    {"UnknownKey",
     server("  lmits: {}\n"),
     {"policy.yaml:2:3: server.lmits: unknown key (expected one of: listen, workers, "
      "shutdown_grace, tls, limits, access_log, cors, watch_policy)"}},
    {"CorsOrigins",
     server("  cors: {allow_origins: ['https://app.example.com', 'http://localhost:3000'], "
            "max_age: 1h}\n"),
     {}},
    {"CorsAnyOrigin", server("  cors: {allow_origins: ['*']}\n"), {}},
    {"CorsOriginWithAPath",
     server("  cors: {allow_origins: ['https://app.example.com/chat']}\n"),
     {"policy.yaml:2:26: server.cors.allow_origins[0]: invalid origin "
      "'https://app.example.com/chat' (use \"*\" or scheme://host[:port], e.g. "
      "https://app.example.com)"}},
    {"CorsWithoutOrigins",
     server("  cors: {max_age: 10m}\n"),
     {"policy.yaml:2:9: server.cors: missing required key 'allow_origins'"}},
    {"CorsEmptyOrigins",
     server("  cors: {allow_origins: []}\n"),
     {"policy.yaml:2:25: server.cors.allow_origins: must not be empty"}},
    {"DuplicateKey",
     server("  workers: 1\n  workers: 2\n"),
     {"policy.yaml:3:3: server.workers: duplicate key (first at line 2)"}},
    {"ListenWithoutPort",
     server("  listen: 0.0.0.0\n"),
     {"policy.yaml:2:11: server.listen: missing port in '0.0.0.0' (use host:port, e.g. "
      "0.0.0.0:8080 or [::1]:8080)"}},
    {"ListenUnbracketedIpv6",
     server("  listen: ::1:8080\n"),
     {"policy.yaml:2:11: server.listen: IPv6 addresses must be in brackets, e.g. [::1]:8080"}},
    {"ListenPortOutOfRange",
     server("  listen: 0.0.0.0:65536\n"),
     {"policy.yaml:2:11: server.listen: invalid port '65536' (use 0-65535)"}},
    {"ListenWithoutHost",
     server("  listen: ':8080'\n"),
     {"policy.yaml:2:11: server.listen: missing host in ':8080'"}},
    {"ListenInvalidIpv4",
     server("  listen: 300.1.1.1:80\n"),
     {"policy.yaml:2:11: server.listen: invalid host '300.1.1.1'"}},
    {"ListenInvalidIpv6",
     server("  listen: '[::g]:80'\n"),
     {"policy.yaml:2:11: server.listen: invalid IPv6 address '::g'"}},
    {"ListenWithANewlineStaysOnOneLine",
     server("  listen: \"a\\nb:80\"\n"),
     {"policy.yaml:2:11: server.listen: invalid host 'a\\nb'"}},
    {"ListenIsASequence",
     server("  listen: [a]\n"),
     {"policy.yaml:2:11: server.listen: expected a listen address (host:port), got a sequence"}},
    {"ListenIpv6AndEphemeralPort", server("  listen: '[::1]:0'\n"), {}},
    {"ListenNullMeansDefault", server("  listen: ~\n"), {}},
    {"WorkersIsASequence",
     server("  workers: [1]\n"),
     {"policy.yaml:2:12: server.workers: expected an integer, got a sequence"}},
    {"WorkersIsAFraction",
     server("  workers: 12.5\n"),
     {"policy.yaml:2:12: server.workers: expected an integer, got '12.5'"}},
    {"WorkersIsNegative",
     server("  workers: -1\n"),
     {"policy.yaml:2:12: server.workers: expected a non-negative integer, got '-1'"}},
    {"WorkersOverflows",
     server("  workers: 4294967296\n"),
     {"policy.yaml:2:12: server.workers: integer '4294967296' is out of range (max 4294967295)"}},
    {"WorkersZeroAndQuotedIntegersAreFine",
     server("  workers: 0\n  limits: {max_connections: '5'}\n"),
     {}},
    {"ShutdownGraceWithoutUnit",
     server("  shutdown_grace: 20\n"),
     {"policy.yaml:2:19: server.shutdown_grace: invalid duration '20' (use e.g. 500ms, 10s, 2m, "
      "1h)"}},
    {"ShutdownGraceIsZero",
     server("  shutdown_grace: 0s\n"),
     {"policy.yaml:2:19: server.shutdown_grace: duration must be > 0, got '0s'"}},
    {"ShutdownGraceTooLarge",
     server("  shutdown_grace: 8761h\n"),
     {"policy.yaml:2:19: server.shutdown_grace: duration '8761h' is too large (max 8760h)"}},
    {"ShutdownGraceIsAMapping",
     server("  shutdown_grace: {a: 1}\n"),
     {"policy.yaml:2:19: server.shutdown_grace: expected a duration (e.g. 10s), got a mapping"}},
    {"TlsIsAScalar",
     server("  tls: on\n"),
     {"policy.yaml:2:8: server.tls: expected a mapping, got 'on'"}},
    {"TlsNullMeansNoTls", server("  tls: ~\n"), {}},
    {"TlsWithoutKey",
     server("  tls: {cert: /c.pem}\n"),
     {"policy.yaml:2:8: server.tls: missing required key 'key'"}},
    {"TlsEmpty",
     server("  tls: {}\n"),
     {"policy.yaml:2:8: server.tls: missing required key 'cert'",
      "policy.yaml:2:8: server.tls: missing required key 'key'"}},
    {"TlsEmptyCert",
     server("  tls: {cert: '', key: /k.pem}\n"),
     {"policy.yaml:2:15: server.tls.cert: must not be empty"}},
    {"TlsNullKey",
     server("  tls: {cert: /c.pem, key: ~}\n"),
     {"policy.yaml:2:23: server.tls.key: expected a string, got null"}},
    {"TlsUnknownKey",
     server("  tls: {cert: /c, key: /k, ca: /x}\n"),
     {"policy.yaml:2:28: server.tls.ca: unknown key (expected one of: cert, key)"}},
    {"LimitsIsASequence",
     server("  limits: []\n"),
     {"policy.yaml:2:11: server.limits: expected a mapping, got a sequence"}},
    {"LimitsUnknownKey",
     limits("    max_body: 1\n"),
     {"policy.yaml:3:5: server.limits.max_body: unknown key (expected one of: max_body_bytes, "
      "max_header_bytes, max_header_count, header_timeout, body_timeout, idle_timeout, "
      "max_connections, max_inflight_body_bytes, max_messages, max_content_parts, max_tools)"}},
    {"MaxBodyBytesUnknownUnit",
     limits("    max_body_bytes: 8XB\n"),
     {"policy.yaml:3:21: server.limits.max_body_bytes: invalid size '8XB' (use e.g. 8MiB)"}},
    {"MaxBodyBytesWithSpace",
     limits("    max_body_bytes: 8 MiB\n"),
     {"policy.yaml:3:21: server.limits.max_body_bytes: invalid size '8 MiB' (use e.g. 8MiB)"}},
    {"MaxBodyBytesIsZero",
     limits("    max_body_bytes: 0\n"),
     {"policy.yaml:3:21: server.limits.max_body_bytes: size must be > 0, got '0'"}},
    {"MaxBodyBytesOverflows",
     limits("    max_body_bytes: 99999999999999999999GiB\n"),
     {"policy.yaml:3:21: server.limits.max_body_bytes: size '99999999999999999999GiB' is too "
      "large"}},
    {"MaxHeaderBytesBeyond32Bits",
     limits("    max_header_bytes: 4GiB\n"),
     {"policy.yaml:3:23: server.limits.max_header_bytes: size '4GiB' is too large (max "
      "4294967295 bytes)"}},
    {"MaxHeaderCountIsZero",
     limits("    max_header_count: 0\n"),
     {"policy.yaml:3:23: server.limits.max_header_count: must be > 0, got '0'"}},
    {"HeaderTimeoutWithoutUnit",
     limits("    header_timeout: 10\n"),
     {"policy.yaml:3:21: server.limits.header_timeout: invalid duration '10' (use e.g. 500ms, "
      "10s, 2m, 1h)"}},
    {"BodyTimeoutIsFractional",
     limits("    body_timeout: 1.5s\n"),
     {"policy.yaml:3:19: server.limits.body_timeout: invalid duration '1.5s' (use e.g. 500ms, "
      "10s, 2m, 1h)"}},
    {"IdleTimeoutIsNegative",
     limits("    idle_timeout: -1s\n"),
     {"policy.yaml:3:19: server.limits.idle_timeout: invalid duration '-1s' (use e.g. 500ms, "
      "10s, 2m, 1h)"}},
    {"MaxConnectionsIsZero",
     limits("    max_connections: 0\n"),
     {"policy.yaml:3:22: server.limits.max_connections: must be > 0, got '0'"}},
    {"MaxInflightBodyBytesBelowMaxBodyBytes",
     limits("    max_body_bytes: 2MiB\n    max_inflight_body_bytes: 1MiB\n"),
     {"policy.yaml:4:30: server.limits.max_inflight_body_bytes: must be at least max_body_bytes "
      "(2097152 bytes), got 1048576"}},
    {"MaxBodyBytesAboveTheDefaultInflightBudget",
     limits("    max_body_bytes: 512MiB\n"),
     {"policy.yaml:3:21: server.limits.max_body_bytes: must be at most max_inflight_body_bytes "
      "(268435456 bytes), got 536870912"}},
    {"MaxMessagesIsZero",
     limits("    max_messages: 0\n"),
     {"policy.yaml:3:19: server.limits.max_messages: must be > 0, got '0'"}},
    {"MaxContentPartsIsNegative",
     limits("    max_content_parts: -1\n"),
     {"policy.yaml:3:24: server.limits.max_content_parts: expected a non-negative integer, got '-1'"}},
    {"MaxToolsIsNotANumber",
     limits("    max_tools: many\n"),
     {"policy.yaml:3:16: server.limits.max_tools: expected an integer, got 'many'"}},
    {"MaxInflightBodyBytesIsZero",
     limits("    max_inflight_body_bytes: 0\n"),
     {"policy.yaml:3:30: server.limits.max_inflight_body_bytes: size must be > 0, got '0'"}},
};

const std::vector<ErrorCase> kAdminCases = {
    {"IsAScalar",
     withCatalog("admin: 9090\n"),
     {"policy.yaml:1:8: admin: expected a mapping, got '9090'"}},
    {"UnknownKey",
     withCatalog("admin:\n  port: 9090\n"),
     {"policy.yaml:2:3: admin.port: unknown key (expected one of: listen)"}},
    {"ListenPortIsAName",
     withCatalog("admin:\n  listen: 127.0.0.1:http\n"),
     {"policy.yaml:2:11: admin.listen: invalid port 'http' (use 0-65535)"}},
};

INSTANTIATE_TEST_SUITE_P(TopLevel, ConfigErrorTest, testing::ValuesIn(kTopLevelCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(Server, ConfigErrorTest, testing::ValuesIn(kServerCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(Admin, ConfigErrorTest, testing::ValuesIn(kAdminCases), errorCaseName);

}  // namespace
}  // namespace sy::config
