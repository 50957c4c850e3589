#include "gateway/config/snapshot.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace sy::config {
namespace {

Config configWith(std::vector<BackendSpec> backends) {
  Config config;
  config.source = "policy.yaml";
  std::vector<std::string> names;
  for (const auto& backend : backends) {
    names.push_back(backend.name);
  }
  config.catalog.backends = std::move(backends);
  config.catalog.tiers = {{"local", names}};
  return config;
}

BackendSpec backend(std::string name) {
  BackendSpec spec;
  spec.name = std::move(name);
  spec.model = "m";
  spec.address = {false, "127.0.0.1", 8000, ""};
  return spec;
}

SourceMap sourcesOf(std::vector<std::string> contents) {
  SourceMap sources;
  for (size_t i = 0; i < contents.size(); ++i) {
    sources.files.push_back({"file" + std::to_string(i) + ".yaml", 1, std::move(contents[i])});
  }
  return sources;
}

TEST(PolicyVersionTest, IsTheSha256PrefixOfEveryFileLengthPrefixed) {
  // As `printf '5:a: 1\n' | sha256sum | cut -c1-16` gives.
  const std::string version = policyVersion(sourcesOf({"a: 1\n"}));
  EXPECT_EQ(version, "e5f50a38d3ff97ac");
  EXPECT_EQ(version, policyVersion(sourcesOf({"a: 1\n"})));
  EXPECT_NE(version, policyVersion(sourcesOf({"a: 2\n"})));
  // Bytes moved from one file to the next are a different policy.
  EXPECT_NE(policyVersion(sourcesOf({"ab", "c"})), policyVersion(sourcesOf({"a", "bc"})));
  EXPECT_NE(policyVersion(sourcesOf({"a: 1\n", "b: 1\n"})), version);
}

TEST(PolicyVersionTest, TheSnapshotCarriesTheVersionOfItsSources) {
  Config config = configWith({backend("a")});
  config.sources = sourcesOf({"backends: []\n", "keys: []\n"});
  const std::string expected = policyVersion(config.sources);
  auto snapshot = Snapshot::build(std::move(config), 1);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ((*snapshot)->policyVersion(), expected);
}

TEST(SnapshotTest, ReadsTheUpstreamKeyFromTheNamedEnvironmentVariable) {
  ::setenv("SY_TEST_UPSTREAM_KEY", "sk-test-123", 1);
  BackendSpec spec = backend("a");
  spec.api_key_env = "SY_TEST_UPSTREAM_KEY";
  auto snapshot = Snapshot::build(configWith({spec}), 7);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ((*snapshot)->version(), 7u);
  const auto& runtime = (*snapshot)->backend((*snapshot)->catalog().backends()[0]);
  EXPECT_EQ(runtime.api_key, "sk-test-123");
  EXPECT_EQ(runtime.connector->provider(), "openai");
  EXPECT_EQ(runtime.tls, nullptr);
}

TEST(SnapshotTest, ReportsEveryMissingKeyAtOnce) {
  ::unsetenv("SY_TEST_UNSET_KEY");
  ::unsetenv("SY_TEST_UNSET_KEY_2");
  BackendSpec a = backend("a");
  a.api_key_env = "SY_TEST_UNSET_KEY";
  BackendSpec b = backend("b");
  b.kind = BackendKind::Anthropic;
  b.api_key_env = "SY_TEST_UNSET_KEY_2";
  auto snapshot = Snapshot::build(configWith({a, b}), 1);
  ASSERT_FALSE(snapshot);
  ASSERT_EQ(snapshot.error().size(), 2u);
  EXPECT_EQ(snapshot.error()[0].str(),
            "policy.yaml:0:0: backends.a.api_key_env: environment variable SY_TEST_UNSET_KEY "
            "is not set");
  EXPECT_NE(snapshot.error()[1].str().find("SY_TEST_UNSET_KEY_2"), std::string::npos);
}

TEST(SnapshotTest, DryRunsNeedNoUpstreamKeys) {
  ::unsetenv("SY_TEST_UNSET_KEY");
  BackendSpec a = backend("a");
  a.api_key_env = "SY_TEST_UNSET_KEY";
  auto snapshot = Snapshot::build(configWith({a}), 1, /*read_upstream_keys=*/false);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ((*snapshot)->backends()[0].api_key, "");
  EXPECT_TRUE((*snapshot)->dlpEnabled());
}

TEST(SnapshotTest, HttpsBackendsGetAVerifyingTlsContextAndABadCaFileIsAnError) {
  BackendSpec good = backend("good");
  good.address.tls = true;
  auto snapshot = Snapshot::build(configWith({good}), 1);
  ASSERT_TRUE(snapshot);
  EXPECT_NE((*snapshot)->backends()[0].tls, nullptr);

  BackendSpec bad = backend("bad");
  bad.address.tls = true;
  bad.ca_file = "/nonexistent/ca.pem";
  auto failed = Snapshot::build(configWith({bad}), 1);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error()[0].message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST(SnapshotHolderTest, PublishSwapsWhileEarlierReadersKeepTheirSnapshot) {
  auto first = Snapshot::build(configWith({backend("a")}), 1);
  auto second = Snapshot::build(configWith({backend("b")}), 2);
  ASSERT_TRUE(first && second);
  SnapshotHolder holder(*first);
  auto pinned = holder.get();
  holder.publish(*second);
  EXPECT_EQ(pinned->version(), 1u);
  EXPECT_EQ(holder.get()->version(), 2u);
}

}  // namespace
}  // namespace sy::config
