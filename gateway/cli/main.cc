// The `switchyard` command: serve, lint, explain, test, keys, audit.
#include <boost/json/serialize.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/cli/audit_command.h"
#include "gateway/cli/compare_command.h"
#include "gateway/cli/keys_command.h"
#include "gateway/cli/lint_command.h"
#include "gateway/cli/test_command.h"
#include "gateway/config/config.h"
#include "gateway/config/lint.h"
#include "gateway/config/snapshot.h"
#include "gateway/server/pipeline/explain.h"
#include "gateway/server/transport/server.h"
#include "observability/logging.h"

namespace {

constexpr std::string_view kUsage = R"(usage: switchyard <command> [options]

commands:
  serve --config FILE   run the gateway (SIGTERM/SIGINT drain and exit, SIGHUP reloads FILE)
  lint --config FILE [--strict]
                        validate FILE: exit 0, or 1 with every error as file:line:col: message;
                        warnings (routes to a license category or region that compliance: does
                        not allow, unused backends, ...) print as file:line:col: warning:
                        message on stderr and make the exit status 1 only with --strict
  explain --config FILE [--key-id ID] [--jsonl] [--endpoint chat|embeddings]
                        dry run: read request bodies on stdin (the whole input is one body, or
                        one per line with --jsonl) and print one JSON decision per request
                        (action, tier, backend, model, sensitivity, findings, reasons);
                        nothing is forwarded. Exit 0, 1 on a bad policy, 3 if a body was refused
  explain --config A --compare B [--jsonl] < REQUESTS.jsonl
                        decide every request line (as audit export --requests writes them) under
                        both policies; print each request they decide differently (action,
                        status, tier, backend, rule, DLP findings, sensitivity), then a summary
                        by rule pair. Exit 0 when none differs, 1 when some do, 2 on a bad
                        policy or input line
  test --config FILE [--jsonl] CASES.yaml...
                        policy unit tests: each case is a request (key or team, surface,
                        headers, body) and its expected outcome (action, status, tier, backend,
                        rule, detectors, sensitivity, difficulty, what the upstream receives),
                        decided by the same dry run as explain. Prints each failure with
                        expected and actual, then "N passed, N failed"; exit 0, or 1 when a
                        case fails or a file is invalid
  keys new --id ID [--team TEAM] [--pepper-env VAR] [--admin]
                        mint an API key: prints the key once, and the policy entry (id, hash,
                        team) to paste under keys: (auth.admin_keys: with --admin)
  audit verify [--hmac-key-env VAR] FILE...
                        check the hash chain across the audit log's FILEs (rotated and live, in
                        any order: e.g. audit.jsonl*); exit 0, or 1 naming the first modified,
                        deleted, reordered or inserted record
  audit export --requests [--hmac-key-env VAR] FILE...
                        verify the chain, then print the logged requests as request lines for
                        explain --compare (placeholder prompts: the log holds no prompt text)
  version               print the version

See README.md for the policy reference.
)";

int usageError(std::string_view message) {
  std::fprintf(stderr, "switchyard: %.*s\n\n%.*s", static_cast<int>(message.size()), message.data(),
               static_cast<int>(kUsage.size()), kUsage.data());
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

// The value of `--name VALUE` / `--name=VALUE`, or "" if absent.
std::string optionValue(const std::vector<std::string_view>& args, std::string_view name) {
  const std::string prefix = std::string(name) + "=";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) {
      return std::string(args[i + 1]);
    }
    if (args[i].starts_with(prefix)) {
      return std::string(args[i].substr(prefix.size()));
    }
  }
  return "";
}

bool hasFlag(const std::vector<std::string_view>& args, std::string_view flag) {
  for (std::string_view arg : args) {
    if (arg == flag) {
      return true;
    }
  }
  return false;
}

int explain(const std::string& path, const std::vector<std::string_view>& args) {
  if (const std::string other = optionValue(args, "--compare"); !other.empty()) {
    if (!optionValue(args, "--key-id").empty() || !optionValue(args, "--endpoint").empty()) {
      return usageError("--compare reads the key and endpoint from each request line");
    }
    return sy::cli::compareCommand(path, other, hasFlag(args, "--jsonl"));
  }
  std::string endpoint = optionValue(args, "--endpoint");
  if (endpoint.empty()) {
    endpoint = "chat";
  }
  if (endpoint != "chat" && endpoint != "embeddings") {
    return usageError("--endpoint must be chat or embeddings");
  }
  auto config = sy::config::loadConfigFile(path);
  if (!config) {
    printErrors(config.error());
    return 1;
  }
  auto snapshot = sy::config::Snapshot::build(std::move(*config), 1, /*read_upstream_keys=*/false);
  if (!snapshot) {
    printErrors(snapshot.error());
    return 1;
  }
  const sy::policies::Principal* principal = nullptr;
  if (const std::string key_id = optionValue(args, "--key-id"); !key_id.empty()) {
    principal = (*snapshot)->keys().find(key_id);
    if (principal == nullptr) {
      return usageError("--key-id: no key '" + key_id + "' in " + path);
    }
  }
  std::vector<std::string> bodies;
  if (hasFlag(args, "--jsonl")) {
    for (std::string line; std::getline(std::cin, line);) {
      if (line.find_first_not_of(" \t\r") != std::string::npos) {
        bodies.push_back(std::move(line));
      }
    }
  } else {
    bodies.emplace_back(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  int status = 0;
  for (const std::string& body : bodies) {
    const boost::json::object decision =
        sy::server::explainRequest(*snapshot, body, endpoint, principal);
    if (decision.contains("error")) {
      status = 3;
    }
    std::printf("%s\n", boost::json::serialize(decision).c_str());
  }
  return status;
}

int test(const std::string& path, const std::vector<std::string_view>& args) {
  std::vector<std::string> case_files;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config") {
      ++i;  // its value
    } else if (args[i] == "--jsonl" || args[i].starts_with("--config=")) {
      continue;
    } else if (args[i].starts_with("-")) {
      return usageError("test: unknown option '" + std::string(args[i]) + "'");
    } else {
      case_files.emplace_back(args[i]);
    }
  }
  if (case_files.empty()) {
    return usageError("test needs at least one CASES.yaml file");
  }
  return sy::cli::testCommand(path, case_files, hasFlag(args, "--jsonl"));
}

int serve(const std::string& path) {
  // A closed stdout/stderr pipe (log collector gone) must be an EPIPE error, not a dead gateway.
  std::signal(SIGPIPE, SIG_IGN);
  auto config = sy::config::loadConfigFile(path);
  if (!config) {
    printErrors(config.error());
    return 1;
  }
  sy::config::logLintWarnings(*config);  // what `lint` warns about, once at startup
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
  if (command == "keys") {
    return sy::cli::keysCommand(args);
  }
  if (command == "audit") {
    return sy::cli::auditCommand(args);
  }
  if (command != "serve" && command != "lint" && command != "explain" && command != "test") {
    return usageError("unknown command '" + std::string(command) + "'");
  }
  const std::string path = configArgument(args);
  if (path.empty()) {
    return usageError(std::string(command) + " needs --config FILE");
  }
  if (command == "explain") {
    return explain(path, args);
  }
  if (command == "test") {
    return test(path, args);
  }
  return command == "serve" ? serve(path) : sy::cli::lintCommand(path, hasFlag(args, "--strict"));
}
