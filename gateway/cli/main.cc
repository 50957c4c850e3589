// The `switchyard` command: serve, lint (and, as later issues land, explain, test, keys, audit).
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/config/snapshot.h"
#include "gateway/server/server.h"
#include "observability/logging.h"

namespace {

constexpr std::string_view kUsage = R"(usage: switchyard <command> [options]

commands:
  serve --config FILE   run the gateway (SIGTERM/SIGINT drain and exit, SIGHUP reloads FILE)
  lint --config FILE    validate FILE; exit 0, or 1 with every error as file:line:col: message
  version               print the version

See README.md for the policy reference.
)";

int usageError(std::string_view message) {
  std::fprintf(stderr, "switchyard: %.*s\n\n%.*s", static_cast<int>(message.size()),
               message.data(), static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

// Returns the value of --config (also --config=FILE), or "" if absent.
std::string configArgument(const std::vector<std::string_view>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      return std::string(args[i + 1]);
    }
    if (args[i].starts_with("--config=")) {
      return std::string(args[i].substr(9));
    }
  }
  return "";
}

void printErrors(const sy::config::ConfigErrors& errors) {
  for (const auto& error : errors) {
    std::fprintf(stderr, "%s\n", error.str().c_str());
  }
}

int lint(const std::string& path) {
  auto config = sy::config::loadConfigFile(path);
  if (!config) {
    printErrors(config.error());
    return 1;
  }
  std::printf("%s: ok (%zu backends, %zu tiers, %zu models)\n", path.c_str(),
              config->catalog.backends.size(), config->catalog.tiers.size(),
              config->catalog.models.size());
  return 0;
}

int serve(const std::string& path) {
  auto config = sy::config::loadConfigFile(path);
  if (!config) {
    printErrors(config.error());
    return 1;
  }
  auto snapshot = sy::config::Snapshot::build(std::move(*config), 1);
  if (!snapshot) {
    printErrors(snapshot.error());
    return 1;
  }
  auto server = sy::server::Server::create(path, std::move(*snapshot));
  if (!server) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), server.error().message.c_str());
    return 1;
  }
  return (*server)->run();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(std::string(kUsage).c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string_view command = args[0];
  args.erase(args.begin());
  if (command == "version" || command == "--version") {
    std::printf("switchyard 0.1.0\n");
    return 0;
  }
  if (command != "serve" && command != "lint") {
    return usageError("unknown command '" + std::string(command) + "'");
  }
  const std::string path = configArgument(args);
  if (path.empty()) {
    return usageError(std::string(command) + " needs --config FILE");
  }
  return command == "serve" ? serve(path) : lint(path);
}
