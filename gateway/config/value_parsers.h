// Internal to gateway/config: pure parsers for the scalar value syntaxes of the policy file
// (durations, sizes, integers, listen addresses, upstream URLs, names, enum spellings).
// Stateless and thread-safe. Each returns the value, or a message without a path or position
// (e.g. "invalid size '8XB' (use e.g. 8MiB)"): the decoder prefixes "file:line:col: path: ".
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/config/config.h"
#include "policies/access_config.h"
#include "policies/dlp_policy.h"
#include "router/catalog.h"

namespace sy::config {

// Durations beyond a year are a typo, and larger ones overflow nanosecond clocks downstream.
inline constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(24 * 365);

// "<digits><unit>" with unit ms|s|m|h|d, > 0 and <= kMaxDuration. "10s" -> 10000ms.
std::expected<std::chrono::milliseconds, std::string> parseDuration(std::string_view text);

// "<digits>[unit]" with unit B|KiB|MiB|GiB (binary) or KB|MB|GB (decimal); no unit = bytes.
// Must be > 0 and fit in uint64_t.
std::expected<uint64_t, std::string> parseSize(std::string_view text);

// A plain decimal integer (digits only: no sign, no fraction, no exponent) in [0, max].
std::expected<uint64_t, std::string> parseUnsigned(std::string_view text, uint64_t max);

// A finite decimal number >= 0 ("3", "0.05", "1e-3").
std::expected<double, std::string> parseNonNegativeNumber(std::string_view text);

// "host:port" or "[ipv6]:port"; port 0..65535 (0 = ephemeral). The host is returned without
// brackets. Hosts made of digits and dots must be valid IPv4 addresses.
std::expected<ListenAddress, std::string> parseListenAddress(std::string_view text);

// "http[s]://host[:port][/base/path]"; the port defaults to 80/443; the base path keeps no
// trailing slash. Userinfo, query and fragment are rejected.
std::expected<router::UpstreamAddress, std::string> parseUpstreamUrl(std::string_view text);

// A key's `expires`: a date "YYYY-MM-DD" (the key works through the end of that UTC day, so it is
// refused from 00:00:00Z the next day) or an RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SS[.frac]Z"
// (refused from that instant). Returns the first instant the key is refused.
std::expected<std::chrono::system_clock::time_point, std::string> parseExpiry(
    std::string_view text);

// Checks `state.redis.url` as the Redis client will read it: "redis://[[user]:password@]host
// [:port][/db]" (port 6379 and db 0 by default; IPv6 hosts in brackets). Query strings,
// fragments and rediss:// are rejected. Messages never echo the credentials.
struct RedisAddress {
  std::string host;
  uint16_t port = 6379;
  uint32_t db = 0;
};
std::expected<RedisAddress, std::string> parseRedisUrl(std::string_view text);

// Backend, tier and alias names: [A-Za-z0-9._-]+.
bool isValidName(std::string_view name);
// Model aliases may look like upstream model ids ("meta-llama/Llama-3.1-8B", "qwen2.5:7b"):
// isValidName's charset plus ':' and '/', not starting with '/', at most 256 characters.
bool isValidAliasName(std::string_view name);

// Environment variable names: [A-Za-z_][A-Za-z0-9_]*.
bool isValidEnvVarName(std::string_view name);

// Enum spellings as written in the policy file, in documentation order.
inline constexpr std::array<std::pair<std::string_view, router::BackendKind>, 4> kBackendKinds{{
    {"openai", router::BackendKind::OpenAi},
    {"ollama", router::BackendKind::Ollama},
    {"anthropic", router::BackendKind::Anthropic},
    {"azure-openai", router::BackendKind::AzureOpenAi},
}};
inline constexpr std::array<std::pair<std::string_view, policies::UnknownFields>, 3> kUnknownFields{
    {
        {"scan", policies::UnknownFields::Scan},
        {"drop", policies::UnknownFields::Drop},
        {"reject", policies::UnknownFields::Reject},
    }};
inline constexpr std::array<std::pair<std::string_view, router::Location>, 2> kLocations{{
    {"self-hosted", router::Location::SelfHosted},
    {"external", router::Location::External},
}};
inline constexpr std::array<std::pair<std::string_view, router::License>, 4> kLicenses{{
    {"osi-open-source", router::License::OsiOpenSource},
    {"open-weight", router::License::OpenWeight},
    {"source-available", router::License::SourceAvailable},
    {"proprietary", router::License::Proprietary},
}};

// `action` of a DLP action rule (dlp.actions, dlp.responses.actions).
inline constexpr std::array<std::pair<std::string_view, policies::PolicyAction>, 5> kPolicyActions{{
    {"allow", policies::PolicyAction::Allow},
    {"redact", policies::PolicyAction::Redact},
    {"mask", policies::PolicyAction::Mask},
    {"pseudonymize", policies::PolicyAction::Pseudonymize},
    {"block", policies::PolicyAction::Block},
}};

// `limits.on_budget_exhausted`, `state.store` and `state.redis.fail`.
inline constexpr std::array<std::pair<std::string_view, policies::LimitsConfig::OnBudgetExhausted>,
                            2>
    kOnBudgetExhausted{{
        {"reject", policies::LimitsConfig::OnBudgetExhausted::Reject},
        {"downgrade", policies::LimitsConfig::OnBudgetExhausted::Downgrade},
    }};
inline constexpr std::array<std::pair<std::string_view, policies::StateConfig::Store>, 2>
    kStateStores{{
        {"sqlite", policies::StateConfig::Store::Sqlite},
        {"redis", policies::StateConfig::Store::Redis},
    }};
// true = fail open.
inline constexpr std::array<std::pair<std::string_view, bool>, 2> kFailModes{{
    {"open", true},
    {"closed", false},
}};

// Exact, case-sensitive matches against the tables above; nullopt for anything else.
std::optional<router::BackendKind> parseBackendKind(std::string_view text);
std::optional<router::Location> parseLocation(std::string_view text);
std::optional<router::License> parseLicense(std::string_view text);

}  // namespace sy::config
