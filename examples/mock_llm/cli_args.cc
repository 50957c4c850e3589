// parseMockArgs / mockUsage: the `switchyard-mock` command line (declared in mock_server.h).
#include <charconv>

#include "examples/mock_llm/mock_server.h"

namespace sy::mock {
namespace {

Status flagError(std::string_view flag, std::string_view message) {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                   std::string(flag) + ": " + std::string(message));
}

Status parseIntFlag(std::string_view flag, std::string_view text, int64_t min, int64_t max,
                    int64_t& out) {
  int64_t value = 0;
  if (!parseInt64(text, value)) {
    return flagError(flag, "expected an integer, got '" + std::string(text) + "'");
  }
  if (value < min || value > max) {
    return flagError(flag, std::to_string(value) + " is out of range " + std::to_string(min) +
                               ".." + std::to_string(max));
  }
  out = value;
  return {};
}

struct ControlFlag {
  std::string_view flag;
  ControlKey key;
};

constexpr ControlFlag kControlFlags[] = {
    {"--latency-ms", ControlKey::LatencyMs},
    {"--ttft-ms", ControlKey::TtftMs},
    {"--tokens-per-sec", ControlKey::TokensPerSec},
    {"--reply-tokens", ControlKey::ReplyTokens},
    {"--error-status", ControlKey::ErrorStatus},
    {"--disconnect-after", ControlKey::DisconnectAfter},
    {"--echo-chunk-bytes", ControlKey::EchoChunkBytes},
    {"--health-status", ControlKey::HealthStatus},
    {"--error-count", ControlKey::ErrorCount},
    {"--tool-calls", ControlKey::ToolCalls},
    {"--cached-tokens", ControlKey::CachedTokens},
    {"--ignore-max-tokens", ControlKey::IgnoreMaxTokens},
    {"--grade", ControlKey::Grade},
    {"--reset-permille", ControlKey::ResetPermille},
    {"--stall-permille", ControlKey::StallPermille},
    {"--stall-ms", ControlKey::StallMs},
};

// Applies one `--flag value`; false in `known` if the flag is not ours.
Status applyFlag(std::string_view flag, std::string_view value, MockOptions& options,
                 bool& saw_port, bool& saw_name) {
  int64_t number = 0;
  if (flag == "--port") {
    saw_port = true;
    auto status = parseIntFlag(flag, value, 0, 65535, number);
    options.port = static_cast<uint16_t>(number);
    return status;
  }
  if (flag == "--threads") {
    auto status = parseIntFlag(flag, value, 1, 256, number);
    options.threads = static_cast<int>(number);
    return status;
  }
  if (flag == "--idle-timeout-s") {
    auto status = parseIntFlag(flag, value, 1, 86400, number);
    options.idle_timeout = std::chrono::seconds(number);
    return status;
  }
  if (flag == "--name") {
    saw_name = true;
    options.name = value;
    return {};
  }
  if (flag == "--host") {
    options.host = value;
    return {};
  }
  if (flag == "--require-key") {
    if (value.empty()) {
      return flagError(flag, "must not be empty");
    }
    options.require_key = value;
    return {};
  }
  if (flag == "--tls-cert") {
    options.tls_cert_file = value;
    return {};
  }
  if (flag == "--tls-key") {
    options.tls_key_file = value;
    return {};
  }
  for (const ControlFlag& control : kControlFlags) {
    if (flag == control.flag) {
      if (!parseInt64(value, number)) {
        return flagError(flag, "expected an integer, got '" + std::string(value) + "'");
      }
      return setControl(options.controls, control.key, number, flag);
    }
  }
  return flagError(flag, "unknown flag");
}

}  // namespace

Result<MockOptions> parseMockArgs(std::span<const std::string_view> args) {
  MockOptions options;
  bool saw_port = false;
  bool saw_name = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::string_view value;
    if (!flag.starts_with("--")) {
      return std::unexpected(flagError(flag, "unexpected argument").error());
    }
    if (const size_t eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return std::unexpected(flagError(flag, "missing value").error());
    }
    if (auto status = applyFlag(flag, value, options, saw_port, saw_name); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  if (!saw_port || !saw_name) {
    return std::unexpected(flagError(!saw_port ? "--port" : "--name", "is required").error());
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return std::unexpected(flagError("--tls-cert/--tls-key", "give both or neither").error());
  }
  return options;
}

std::string_view mockUsage() {
  return "usage: switchyard-mock --port N --name NAME [--host 127.0.0.1] [--threads N]\n"
         "         [--latency-ms MS] [--ttft-ms MS] [--tokens-per-sec R] [--reply-tokens N]\n"
         "         [--error-status CODE] [--error-count N] [--disconnect-after N]\n"
         "         [--echo-chunk-bytes N] [--health-status CODE] [--tool-calls N]\n"
         "         [--cached-tokens N] [--reset-permille N] [--stall-permille N]\n"
         "         [--stall-ms MS] [--require-key KEY]\n"
         "         [--tls-cert PEM --tls-key PEM] [--idle-timeout-s S]\n"
         "Port 0 picks an ephemeral port. Prints one JSON line when listening; SIGTERM/SIGINT\n"
         "stop it. See examples/mock_llm/README.md for endpoints and controls.\n";
}

}  // namespace sy::mock
