// The `audit:` section: decoded values and every error, located.
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

}  // namespace
}  // namespace sy::config
