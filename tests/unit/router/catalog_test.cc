#include "router/catalog.h"

#include <gtest/gtest.h>

namespace sy::router {
namespace {

BackendSpec backend(std::string name) {
  BackendSpec spec;
  spec.name = std::move(name);
  spec.model = spec.name + "-model";
  return spec;
}

CatalogSpec twoTierSpec() {
  CatalogSpec spec;
  spec.backends = {backend("a"), backend("b"), backend("gpt")};
  spec.tiers = {{"local", {"a", "b"}}, {"frontier", {"gpt"}}};
  spec.models = {{"gpt-4o", "gpt", ""}, {"llama", "", "local"}};
  return spec;
}

std::vector<std::string> names(const Target& target) {
  std::vector<std::string> out;
  for (const BackendSpec* spec : target.backends) {
    out.push_back(spec->name);
  }
  return out;
}

TEST(CatalogTest, AutoResolvesToTheFirstDeclaredTier) {
  auto catalog = Catalog::create(twoTierSpec());
  ASSERT_TRUE(catalog) << catalog.error().message;
  auto target = (*catalog)->resolve("auto", 0);
  ASSERT_TRUE(target);
  EXPECT_EQ(target->tier, "local");
  EXPECT_EQ(names(*target), (std::vector<std::string>{"a", "b"}));
}

TEST(CatalogTest, RotationStartsAtADifferentBackendAndKeepsAllAsFallbacks) {
  auto catalog = Catalog::create(twoTierSpec());
  ASSERT_TRUE(catalog);
  EXPECT_EQ(names(*(*catalog)->resolve("local", 1)), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(names(*(*catalog)->resolve("local", 2)), (std::vector<std::string>{"a", "b"}));
}

TEST(CatalogTest, AliasesResolveToTheirBackendOrTier) {
  auto catalog = Catalog::create(twoTierSpec());
  ASSERT_TRUE(catalog);
  auto to_backend = (*catalog)->resolve("gpt-4o", 0);
  ASSERT_TRUE(to_backend);
  EXPECT_EQ(to_backend->tier, "");
  EXPECT_EQ(names(*to_backend), (std::vector<std::string>{"gpt"}));
  auto to_tier = (*catalog)->resolve("llama", 0);
  ASSERT_TRUE(to_tier);
  EXPECT_EQ(to_tier->tier, "local");
}

TEST(CatalogTest, UnknownModelIsNotFoundWithTheOpenAiCode) {
  auto catalog = Catalog::create(twoTierSpec());
  ASSERT_TRUE(catalog);
  auto target = (*catalog)->resolve("gpt-5-turbo", 0);
  ASSERT_FALSE(target);
  EXPECT_EQ(target.error().code, ErrorCode::NotFound);
  EXPECT_EQ(target.error().code_id, "model_not_found");
  EXPECT_EQ(toHttpStatus(target.error()), 404u);
  EXPECT_NE(target.error().message.find("gpt-5-turbo"), std::string::npos);
}

TEST(CatalogTest, AnUnknownModelIsEchoedOnlyWhenItIsShapedLikeAModelId) {
  auto catalog = Catalog::create(twoTierSpec());
  ASSERT_TRUE(catalog);
  for (std::string_view id : {"meta-llama/Llama-3.1-8B-Instruct", "claude-3-5-sonnet-20241022",
                              "ft:gpt-4o-mini:acme:custom:abc123"}) {
    auto target = (*catalog)->resolve(id, 0);
    ASSERT_FALSE(target);
    EXPECT_NE(target.error().message.find("'" + std::string(id) + "'"), std::string::npos) << id;
  }
  const std::string token = "ghp_" + std::string(36, 'A');
  for (std::string_view data : {std::string_view("jane.doe@example.com"),
                                std::string_view("4111111111111111"),
                                std::string_view("4111-1111-1111-1111-x"), std::string_view(token),
                                std::string_view("a b"), std::string_view("")}) {
    auto target = (*catalog)->resolve(data, 0);
    ASSERT_FALSE(target);
    EXPECT_EQ(target.error().code_id, "model_not_found");
    EXPECT_TRUE(target.error().message.starts_with("The model requested does not exist"))
        << target.error().message;
  }
}

TEST(CatalogTest, ModelNamesListAutoTiersThenAliases) {
  auto catalog = Catalog::create(twoTierSpec());
  ASSERT_TRUE(catalog);
  EXPECT_EQ((*catalog)->modelNames(),
            (std::vector<std::string>{"auto", "local", "frontier", "gpt-4o", "llama"}));
}

TEST(CatalogTest, ModelPatternsCatchClientDefaultsInPolicyOrderAfterExactNames) {
  CatalogSpec spec = twoTierSpec();
  spec.models.push_back({"claude-*", "", "frontier"});
  spec.models.push_back({"gpt-4o*", "", "local"});  // the exact "gpt-4o" alias still wins
  spec.models.push_back({"*", "", "local"});        // the default for every other name
  auto catalog = Catalog::create(std::move(spec));
  ASSERT_TRUE(catalog) << catalog.error().message;
  EXPECT_EQ((*catalog)->resolve("claude-sonnet-4-5", 0)->tier, "frontier");
  EXPECT_EQ(names(*(*catalog)->resolve("gpt-4o", 0)), (std::vector<std::string>{"gpt"}));
  EXPECT_EQ((*catalog)->resolve("gpt-4o-mini", 0)->tier, "local");
  EXPECT_EQ((*catalog)->resolve("text-embedding-3-small", 0)->tier, "local");
  // Patterns are not names a client picks: the models list leaves them out.
  EXPECT_EQ((*catalog)->modelNames(),
            (std::vector<std::string>{"auto", "local", "frontier", "gpt-4o", "llama"}));
}

TEST(CatalogTest, RejectsDanglingAndDuplicateReferences) {
  struct Case {
    std::function<void(CatalogSpec&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](CatalogSpec& s) { s.tiers[0].backends.push_back("nope"); },
       "tiers.local: unknown backend 'nope'"},
      {[](CatalogSpec& s) { s.backends.push_back(backend("a")); },
       "backends: duplicate backend name 'a'"},
      {[](CatalogSpec& s) { s.models.push_back({"x", "", "xl"}); }, "models.x: unknown tier 'xl'"},
      {[](CatalogSpec& s) { s.models.push_back({"local", "a", ""}); },
       "models.local: name is already taken"},
      {[](CatalogSpec& s) { s.models.push_back({"y", "a", "local"}); },
       "models.y: set exactly one of 'backend' or 'tier'"},
      {[](CatalogSpec& s) { s.tiers.clear(); }, "tiers: at least one tier is required"},
  };
  for (const Case& c : cases) {
    CatalogSpec spec = twoTierSpec();
    c.mutate(spec);
    auto catalog = Catalog::create(spec);
    ASSERT_FALSE(catalog) << c.message;
    EXPECT_EQ(catalog.error().message, c.message);
  }
}

}  // namespace
}  // namespace sy::router
