// `switchyard keys new`, through its functions: argument parsing, and the printed key and policy
// entry (the key parses, the hash is the key's, the entry pastes into a policy as YAML).
#include "gateway/cli/keys_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/keys.h"

namespace sy::cli {
namespace {

Result<NewKeyRequest> parse(std::vector<std::string_view> args) { return parseKeysArgs(args); }

std::string usageError(std::vector<std::string_view> args) {
  const auto parsed = parse(std::move(args));
  return parsed ? std::string("(parsed)") : parsed.error().message;
}

const char* noEnv(const char*) { return nullptr; }

TEST(KeysCommandTest, ParsesOptionsInBothSpellings) {
  const auto request = parse({"new", "--id", "analytics-batch", "--team=analytics"});
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->id, "analytics-batch");
  EXPECT_EQ(request->team, "analytics");
  EXPECT_EQ(request->pepper_env, "");
  EXPECT_FALSE(request->admin);
  const auto admin = parse({"new", "--admin", "--id=ops", "--pepper-env", "SY_PEPPER"});
  ASSERT_TRUE(admin.has_value()) << admin.error().message;
  EXPECT_TRUE(admin->admin);
  EXPECT_EQ(admin->id, "ops");
  EXPECT_EQ(admin->pepper_env, "SY_PEPPER");
}

TEST(KeysCommandTest, RejectsBadArguments) {
  EXPECT_EQ(usageError({}), "keys needs a subcommand: new");
  EXPECT_EQ(usageError({"list"}), "unknown keys subcommand 'list' (expected: new)");
  EXPECT_EQ(usageError({"new"}), "keys new needs --id ID");
  EXPECT_EQ(usageError({"new", "--id"}), "keys new: --id needs a value");
  EXPECT_EQ(usageError({"new", "--id", "k", "--tema", "t"}), "keys new: unknown option '--tema'");
  EXPECT_EQ(usageError({"new", "--id", "Batch_1"}),
            "keys new: invalid key id 'Batch_1' (use lowercase letters, digits and '-', starting "
            "with a letter or digit, at most 63 characters)");
  EXPECT_EQ(usageError({"new", "--id", "k", "--team", "data science"}),
            "keys new: invalid team 'data science' (use letters, digits, '.', '_' and '-')");
  EXPECT_EQ(usageError({"new", "--id", "k", "--admin", "--team", "t"}),
            "keys new: admin keys have no team");
  EXPECT_EQ(usageError({"new", "--id", "k", "--pepper-env", "not a name"}),
            "keys new: --pepper-env must name an environment variable ([A-Za-z_][A-Za-z0-9_]*), "
            "not hold the pepper itself");
}

TEST(KeysCommandTest, PrintsTheKeyOnceAndTheEntryWithItsHash) {
  NewKeyRequest request;
  request.id = "analytics-batch";
  request.team = "analytics";
  const auto made = newKey(request, noEnv);
  ASSERT_TRUE(made.has_value()) << made.error().message;
  const auto parsed = policies::parseKey(made->key);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->id, "analytics-batch");
  EXPECT_EQ(made->hash, policies::hashKey(made->key, ""));
  EXPECT_EQ(made->text, "key (shown once, store it in your secret manager):\n  " + made->key +
                            "\npolicy entry (under keys):\n  - id: analytics-batch\n    hash: \"" +
                            made->hash + "\"\n    team: analytics\n");
  EXPECT_NE(newKey(request, noEnv)->key, made->key);
}

TEST(KeysCommandTest, HashesWithThePepperFromTheEnvironment) {
  NewKeyRequest request;
  request.id = "ops";
  request.admin = true;
  request.pepper_env = "SY_PEPPER";
  const auto made = newKey(request, [](const char* name) {
    return std::string_view(name) == "SY_PEPPER" ? "pepper-for-tests" : nullptr;
  });
  ASSERT_TRUE(made.has_value()) << made.error().message;
  EXPECT_EQ(made->hash, policies::hashKey(made->key, "pepper-for-tests"));
  EXPECT_TRUE(made->hash.starts_with("hmac-sha256:"));
  EXPECT_EQ(made->text, "key (shown once, store it in your secret manager):\n  " + made->key +
                            "\npolicy entry (under auth.admin_keys):\n  - id: ops\n    hash: \"" +
                            made->hash +
                            "\"\nhashed with HMAC-SHA256 and the pepper in $SY_PEPPER: the policy "
                            "needs auth.pepper_env: SY_PEPPER\n");
}

TEST(KeysCommandTest, AnUnsetOrEmptyPepperVariableIsAnError) {
  NewKeyRequest request;
  request.id = "k";
  request.pepper_env = "SY_PEPPER";
  for (const EnvLookup& env : {EnvLookup(noEnv), EnvLookup([](const char*) { return ""; })}) {
    const auto made = newKey(request, env);
    ASSERT_FALSE(made.has_value());
    EXPECT_EQ(made.error().message,
              "keys new: the environment variable SY_PEPPER (--pepper-env) is not set or empty");
  }
}

TEST(KeysCommandTest, QuotesNamesThatYamlWouldReadAsSomethingElse) {
  NewKeyRequest request;
  request.id = "null";
  request.team = "123";
  const auto made = newKey(request, noEnv);
  ASSERT_TRUE(made.has_value());
  EXPECT_NE(made->text.find("  - id: \"null\"\n"), std::string::npos) << made->text;
  EXPECT_NE(made->text.find("    team: \"123\"\n"), std::string::npos) << made->text;
}

}  // namespace
}  // namespace sy::cli
