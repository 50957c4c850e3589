// The observability sections `audit:` and `accounting:`, and server.access_log: decoded values
// and every error, located.
#include <gtest/gtest.h>

#include "gateway/config/config.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

using namespace std::chrono_literals;

std::string withAudit(std::string_view audit) {
  return std::string(audit) + std::string(kCatalog);
}

TEST(AuditConfigTest, DecodesEveryField) {
  const auto loaded = loadConfigString(
      withAudit("audit:\n  path: /var/lib/sy/audit.jsonl\n  durability: batch\n"
                "  hmac_key_env: SY_AUDIT_KEY\n  rotate_bytes: 64MiB\n  rotate_age: 1h\n"
                "  on_failure: open\n"),
      "policy.yaml");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().front().str();
  ASSERT_TRUE(loaded->audit.has_value());
  EXPECT_EQ(loaded->audit->path, "/var/lib/sy/audit.jsonl");
  EXPECT_FALSE(loaded->audit->fsync);
  EXPECT_EQ(loaded->audit->hmac_key_env, "SY_AUDIT_KEY");
  EXPECT_EQ(loaded->audit->rotate_bytes, 64u << 20);
  EXPECT_EQ(loaded->audit->rotate_age, 1h);
  EXPECT_FALSE(loaded->audit->to_stdout);
  EXPECT_FALSE(loaded->audit->fail_closed);
}

TEST(AuditConfigTest, DefaultsToFsyncAndFailClosedAndIsOffWhenAbsent) {
  const auto on = loadConfigString(withAudit("audit: {path: a.jsonl}\n"), "policy.yaml");
  ASSERT_TRUE(on.has_value());
  EXPECT_TRUE(on->audit->fsync);
  EXPECT_TRUE(on->audit->fail_closed);
  const auto off = loadConfigString(std::string(kCatalog), "policy.yaml");
  ASSERT_TRUE(off.has_value());
  EXPECT_FALSE(off->audit.has_value());
}

const std::vector<ErrorCase> kAuditCases = {
    {"NoPathNorStdout", withAudit("audit: {durability: fsync}\n"),
     {"policy.yaml:1:8: audit: needs a 'path' (or 'stdout: true')"}},
    {"PathAndStdout", withAudit("audit: {path: a.jsonl, stdout: true}\n"),
     {"policy.yaml:1:15: audit.path: 'path' and 'stdout: true' exclude each other"}},
    {"UnknownDurability", withAudit("audit: {path: a, durability: sometimes}\n"),
     {"policy.yaml:1:30: audit.durability: unknown durability 'sometimes' (expected one of: "
      "fsync, batch)"}},
    {"UnknownKey", withAudit("audit: {path: a, colour: red}\n"),
     {"policy.yaml:1:18: audit.colour: unknown key (expected one of: path, durability, "
      "hmac_key_env, rotate_bytes, rotate_age, stdout, on_failure)"}},
};

INSTANTIATE_TEST_SUITE_P(Audit, ConfigErrorTest, testing::ValuesIn(kAuditCases), errorCaseName);

// Two backends: a self-hosted one and two external ones with different prices.
constexpr std::string_view kPricedCatalog =
    "backends:\n"
    "  - {name: local, url: http://h, model: m, cost: {input_per_mtok: 0.1, output_per_mtok: 0.2}}\n"
    "  - {name: mini, url: http://h, model: m, location: external,\n"
    "     cost: {input_per_mtok: 0.15, output_per_mtok: 0.6}}\n"
    "  - {name: big, url: http://h, model: m, location: external,\n"
    "     cost: {input_per_mtok: 2.5, output_per_mtok: 10}}\n"
    "tiers:\n"
    "  t: {backends: [local]}\n"
    "auth: {anonymous: true}\n";

TEST(AccountingConfigTest, BaselineDefaultsToThePriciestExternalBackend) {
  const auto loaded = loadConfigString(std::string(kPricedCatalog), "policy.yaml");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().front().str();
  ASSERT_TRUE(loaded->accounting.baseline.has_value());
  EXPECT_EQ(loaded->accounting.baseline->input_per_mtok, 2.5);
  EXPECT_EQ(loaded->accounting.baseline->output_per_mtok, 10);
  EXPECT_EQ(loaded->accounting.baseline_source, "big");
}

TEST(AccountingConfigTest, NoExternalBackendMeansNoBaseline) {
  const auto loaded = loadConfigString(std::string(kCatalog), "policy.yaml");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_FALSE(loaded->accounting.baseline.has_value());
}

TEST(AccountingConfigTest, BaselineIsAPriceOrABackendName) {
  const auto price = loadConfigString(
      "accounting: {baseline: {input_per_mtok: 5, output_per_mtok: 15}}\n" +
          std::string(kPricedCatalog),
      "policy.yaml");
  ASSERT_TRUE(price.has_value()) << price.error().front().str();
  EXPECT_EQ(price->accounting.baseline->input_per_mtok, 5);
  EXPECT_EQ(price->accounting.baseline->output_per_mtok, 15);
  EXPECT_EQ(price->accounting.baseline_source, "accounting.baseline");
  const auto named =
      loadConfigString("accounting: {baseline: mini}\n" + std::string(kPricedCatalog), "p.yaml");
  ASSERT_TRUE(named.has_value()) << named.error().front().str();
  EXPECT_EQ(named->accounting.baseline->output_per_mtok, 0.6);
  EXPECT_EQ(named->accounting.baseline_source, "mini");
}

TEST(AccessLogConfigTest, OnByDefaultAndCanBeTurnedOff) {
  const auto on = loadConfigString(std::string(kCatalog), "policy.yaml");
  ASSERT_TRUE(on.has_value());
  EXPECT_TRUE(on->server.access_log);
  const auto off =
      loadConfigString("server: {access_log: false}\n" + std::string(kCatalog), "policy.yaml");
  ASSERT_TRUE(off.has_value());
  EXPECT_FALSE(off->server.access_log);
}

TEST(WatchPolicyConfigTest, OffByDefaultAndCanBeTurnedOn) {
  const auto off = loadConfigString(std::string(kCatalog), "policy.yaml");
  ASSERT_TRUE(off.has_value());
  EXPECT_FALSE(off->server.watch_policy);
  const auto on =
      loadConfigString("server: {watch_policy: true}\n" + std::string(kCatalog), "policy.yaml");
  ASSERT_TRUE(on.has_value());
  EXPECT_TRUE(on->server.watch_policy);
}

const std::vector<ErrorCase> kAccountingCases = {
    {"UnknownBaselineBackend", "accounting: {baseline: gpt}\n" + std::string(kCatalog),
     {"policy.yaml:1:24: accounting.baseline: unknown backend 'gpt' (give a backend name or "
      "{input_per_mtok, output_per_mtok})"}},
    {"NegativeBaselinePrice",
     "accounting: {baseline: {input_per_mtok: -1}}\n" + std::string(kCatalog),
     {"policy.yaml:1:41: accounting.baseline.input_per_mtok: must be >= 0, got '-1'"}},
    {"UnknownAccountingKey", "accounting: {currency: EUR}\n" + std::string(kCatalog),
     {"policy.yaml:1:14: accounting.currency: unknown key (expected one of: baseline)"}},
    {"AccessLogNotABool", "server: {access_log: loud}\n" + std::string(kCatalog),
     {"policy.yaml:1:22: server.access_log: expected true or false, got 'loud'"}},
    {"WatchPolicyNotABool", "server: {watch_policy: often}\n" + std::string(kCatalog),
     {"policy.yaml:1:24: server.watch_policy: expected true or false, got 'often'"}},
};

INSTANTIATE_TEST_SUITE_P(Accounting, ConfigErrorTest, testing::ValuesIn(kAccountingCases),
                         errorCaseName);

}  // namespace
}  // namespace sy::config
