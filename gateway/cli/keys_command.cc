#include "gateway/cli/keys_command.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "policies/keys.h"

namespace sy::cli {
namespace {

std::unexpected<Error> usage(std::string message) {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message));
}

bool isTeamName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool isEnvVarName(std::string_view name) {
  return !name.empty() && !(name.front() >= '0' && name.front() <= '9') &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_';
         });
}

// Plain YAML when it reads back as the same string; quoted when YAML would read a null, a
// boolean or a number.
std::string yamlScalar(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  constexpr std::string_view kSpecial[] = {"null", "true", "false", "yes",  "no",  "on",
                                           "off",  "y",    "n",     ".inf", ".nan"};
  const bool special =
      std::find(std::begin(kSpecial), std::end(kSpecial), lower) != std::end(kSpecial);
  const bool numeric = !text.empty() && ((text.front() >= '0' && text.front() <= '9') ||
                                         text.front() == '.' || text.front() == '-');
  if (!special && !numeric) {
    return std::string(text);
  }
  return "\"" + std::string(text) + "\"";  // names hold no '"' or '\\'
}

}  // namespace

Result<NewKeyRequest> parseKeysArgs(const std::vector<std::string_view>& args) {
  if (args.empty() || args[0] != "new") {
    return usage(args.empty()
                     ? "keys needs a subcommand: new"
                     : "unknown keys subcommand '" + std::string(args[0]) + "' (expected: new)");
  }
  NewKeyRequest request;
  bool has_id = false;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--admin") {
      request.admin = true;
      continue;
    }
    std::string_view name = arg;
    std::string_view value;
    bool has_value = false;
    if (const size_t equals = arg.find('='); arg.starts_with("--") && equals != arg.npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
      has_value = true;
    } else if (i + 1 < args.size()) {
      value = args[i + 1];
      has_value = true;
    }
    std::string* field = name == "--id"           ? &request.id
                         : name == "--team"       ? &request.team
                         : name == "--pepper-env" ? &request.pepper_env
                                                  : nullptr;
    if (field == nullptr) {
      return usage("keys new: unknown option '" + std::string(name) + "'");
    }
    if (!has_value) {
      return usage("keys new: " + std::string(name) + " needs a value");
    }
    if (name == arg) {
      ++i;  // the value was the next argument
    }
    *field = std::string(value);
    has_id = has_id || field == &request.id;
  }
  if (!has_id) {
    return usage("keys new needs --id ID");
  }
  if (!policies::isValidKeyId(request.id)) {
    return usage("keys new: invalid key id '" + request.id +
                 "' (use lowercase letters, digits and '-', starting with a letter or digit, at "
                 "most 63 characters)");
  }
  if (!request.team.empty() && !isTeamName(request.team)) {
    return usage("keys new: invalid team '" + request.team +
                 "' (use letters, digits, '.', '_' and '-')");
  }
  if (request.admin && !request.team.empty()) {
    return usage("keys new: admin keys have no team");
  }
  if (!request.pepper_env.empty() && !isEnvVarName(request.pepper_env)) {
    return usage(
        "keys new: --pepper-env must name an environment variable "
        "([A-Za-z_][A-Za-z0-9_]*), not hold the pepper itself");
  }
  return request;
}

Result<NewKeyOutput> newKey(const NewKeyRequest& request, const EnvLookup& getenv) {
  std::string_view pepper;
  if (!request.pepper_env.empty()) {
    const char* value = getenv(request.pepper_env.c_str());
    if (value == nullptr || *value == '\0') {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                       "keys new: the environment variable " + request.pepper_env +
                           " (--pepper-env) is not set or empty");
    }
    pepper = value;
  }
  auto key = policies::generateKey(request.id);
  if (!key) {
    return std::unexpected(key.error());
  }
  NewKeyOutput out;
  out.key = std::move(*key);
  out.hash = policies::hashKey(out.key, pepper);
  if (out.hash.empty()) {
    return makeError(ErrorCode::Internal, ErrorSource::Internal,
                     "keys new: OpenSSL could not hash the key");
  }
  out.text = "key (shown once, store it in your secret manager):\n  " + out.key + "\n";
  out.text +=
      request.admin ? "policy entry (under auth.admin_keys):\n" : "policy entry (under keys):\n";
  out.text += "  - id: " + yamlScalar(request.id) + "\n    hash: \"" + out.hash + "\"\n";
  if (!request.team.empty()) {
    out.text += "    team: " + yamlScalar(request.team) + "\n";
  }
  if (!pepper.empty()) {
    out.text += "hashed with HMAC-SHA256 and the pepper in $" + request.pepper_env +
                ": the policy needs auth.pepper_env: " + request.pepper_env + "\n";
  }
  return out;
}

int keysCommand(const std::vector<std::string_view>& args) {
  const auto request = parseKeysArgs(args);
  if (!request) {
    std::fprintf(stderr, "switchyard: %s\n\nusage:\n%.*s", request.error().message.c_str(),
                 static_cast<int>(kKeysUsage.size()), kKeysUsage.data());
    return 2;
  }
  const auto made = newKey(*request, [](const char* name) { return std::getenv(name); });
  if (!made) {
    std::fprintf(stderr, "switchyard: %s\n", made.error().message.c_str());
    return 1;
  }
  std::fputs(made->text.c_str(), stdout);
  return 0;
}

}  // namespace sy::cli
