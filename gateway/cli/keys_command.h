// `switchyard keys new --id ID [--team T] [--pepper-env VAR] [--admin]`: mints an API key, prints
// it once, and prints the policy entry (id and hash, never the key) to paste into `keys:` (or
// `auth.admin_keys:` with --admin). The parsing and the output are pure functions so that tests
// need not run the binary; only keysCommand() touches stdout, stderr and the environment.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::cli {

struct NewKeyRequest {
  std::string id;          // [a-z0-9][a-z0-9-]{0,62}
  std::string team;        // "" = none; [A-Za-z0-9._-]+
  std::string pepper_env;  // "" = a sha256 hash; else the variable holding the HMAC pepper
  bool admin = false;      // an entry for auth.admin_keys (no team)
};

// Parses the arguments after `keys` ("new" first; `--opt VALUE` or `--opt=VALUE`). Fails with
// InvalidArgument and a message for the usage line on anything else.
Result<NewKeyRequest> parseKeysArgs(const std::vector<std::string_view>& args);

// Reads the environment; returns nullptr when a variable is unset.
using EnvLookup = std::function<const char*(const char*)>;

// A fresh key and the text to print for it. Fails (InvalidArgument) when --pepper-env names an
// unset or empty variable, or (Internal) when the random generator fails.
struct NewKeyOutput {
  std::string key;   // the secret, shown once
  std::string hash;  // what the policy stores
  std::string text;  // everything to print on stdout
};
Result<NewKeyOutput> newKey(const NewKeyRequest& request, const EnvLookup& getenv);

// The `keys` command: prints the key and the policy entry on stdout; errors on stderr. Returns
// the exit status: 0, 1 (could not make a key) or 2 (usage).
int keysCommand(const std::vector<std::string_view>& args);

// Usage lines for `switchyard help`.
inline constexpr std::string_view kKeysUsage =
    R"(  keys new --id ID [--team TEAM] [--pepper-env VAR] [--admin]
                        mint an API key: prints the key once, and the policy entry (id, hash
                        and team) to paste under keys: (auth.admin_keys: with --admin);
                        --pepper-env hashes with HMAC-SHA256 keyed by that variable's value
)";

}  // namespace sy::cli
