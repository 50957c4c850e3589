#include "gateway/config/value_parsers.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "gateway/config/str_cat.h"

namespace sy::config {
namespace {

using std::chrono::milliseconds;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isAlnum(char c) { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Splits "123abc" into its leading digits and the rest.
std::pair<std::string_view, std::string_view> splitDigits(std::string_view text) {
  const auto end = std::find_if_not(text.begin(), text.end(), isDigit);
  const auto n = static_cast<size_t>(end - text.begin());
  return {text.substr(0, n), text.substr(n)};
}

// Digits only (the caller checked); nullopt when the value does not fit in uint64_t.
std::optional<uint64_t> digitsToU64(std::string_view digits) {
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return value;
}

// A hostname or IPv4 address; IPv6 is handled by the callers (it needs brackets).
bool isValidHostName(std::string_view host) {
  if (host.empty()) {
    return false;
  }
  const bool chars_ok = std::all_of(host.begin(), host.end(), [](char c) {
    return isAlnum(c) || c == '.' || c == '-' || c == '_';
  });
  if (!chars_ok) {
    return false;
  }
  const bool looks_ipv4 =
      std::all_of(host.begin(), host.end(), [](char c) { return isDigit(c) || c == '.'; });
  if (looks_ipv4) {
    in_addr addr{};
    return inet_pton(AF_INET, std::string(host).c_str(), &addr) == 1;
  }
  return true;
}

bool isValidIpv6(std::string_view host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, std::string(host).c_str(), &addr) == 1;
}

// Splits "host", "[v6]", "host:port" or "[v6]:port" into the host (without brackets) and the
// port text, if any. `what` ("listen address", "URL") and `whole` only serve the messages.
struct HostPort {
  std::string host;
  std::optional<std::string_view> port;
};

std::expected<HostPort, std::string> splitHostPort(std::string_view text, std::string_view what,
                                                   std::string_view whole) {
  HostPort out;
  std::string_view rest;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return std::unexpected(strCat("invalid ", what, " '", whole, "' (missing ']')"));
    }
    out.host = text.substr(1, close - 1);
    if (!isValidIpv6(out.host)) {
      return std::unexpected(strCat("invalid IPv6 address '", out.host, "'"));
    }
    rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      return std::unexpected(strCat("invalid ", what, " '", whole, "'"));
    }
  } else {
    const size_t colon = text.find(':');
    out.host = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
    if (rest.find(':', 1) != std::string_view::npos) {
      return std::unexpected(std::string("IPv6 addresses must be in brackets, e.g. [::1]:8080"));
    }
  }
  if (out.host.empty()) {
    return std::unexpected(strCat("missing host in '", whole, "'"));
  }
  if (!text.starts_with('[') && !isValidHostName(out.host)) {
    return std::unexpected(strCat("invalid host '", out.host, "'"));
  }
  if (!rest.empty()) {
    out.port = rest.substr(1);
  }
  return out;
}

std::optional<uint16_t> parsePort(std::string_view text) {
  const auto [digits, tail] = splitDigits(text);
  if (digits.empty() || !tail.empty() || digits.size() > 5) {
    return std::nullopt;
  }
  const auto value = digitsToU64(digits);
  if (!value || *value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(*value);
}

template <class Enum, size_t N>
std::optional<Enum> lookup(const std::array<std::pair<std::string_view, Enum>, N>& table,
                           std::string_view text) {
  for (const auto& [name, value] : table) {
    if (name == text) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace

std::expected<milliseconds, std::string> parseDuration(std::string_view text) {
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  const auto [digits, unit] = splitDigits(text);
  const auto* found = std::find_if(std::begin(kUnits), std::end(kUnits),
                                   [&](const auto& u) { return u.first == unit; });
  if (digits.empty() || found == std::end(kUnits)) {
    return std::unexpected(strCat("invalid duration '", text, "' (use e.g. 500ms, 10s, 2m, 1h)"));
  }
  const auto value = digitsToU64(digits);
  const auto max_ms = static_cast<uint64_t>(kMaxDuration.count());
  if (!value || *value > max_ms / found->second) {
    return std::unexpected(
        strCat("duration '", text, "' is too large (max ",
               std::chrono::duration_cast<std::chrono::hours>(kMaxDuration).count(), "h)"));
  }
  if (*value == 0) {
    return std::unexpected(strCat("duration must be > 0, got '", text, "'"));
  }
  return milliseconds(static_cast<int64_t>(*value * found->second));
}

std::expected<uint64_t, std::string> parseSize(std::string_view text) {
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {{"", 1},
                                                                     {"B", 1},
                                                                     {"KiB", 1ull << 10},
                                                                     {"MiB", 1ull << 20},
                                                                     {"GiB", 1ull << 30},
                                                                     {"KB", 1'000},
                                                                     {"MB", 1'000'000},
                                                                     {"GB", 1'000'000'000}};
  const auto [digits, unit] = splitDigits(text);
  const auto* found = std::find_if(std::begin(kUnits), std::end(kUnits),
                                   [&](const auto& u) { return u.first == unit; });
  if (digits.empty() || found == std::end(kUnits)) {
    return std::unexpected(strCat("invalid size '", text, "' (use e.g. 8MiB)"));
  }
  const auto value = digitsToU64(digits);
  if (!value || *value > std::numeric_limits<uint64_t>::max() / found->second) {
    return std::unexpected(strCat("size '", text, "' is too large"));
  }
  if (*value == 0) {
    return std::unexpected(strCat("size must be > 0, got '", text, "'"));
  }
  return *value * found->second;
}

std::expected<uint64_t, std::string> parseUnsigned(std::string_view text, uint64_t max) {
  const bool negative = text.starts_with('-');
  const auto [digits, tail] = splitDigits(negative ? text.substr(1) : text);
  if (digits.empty() || !tail.empty()) {
    return std::unexpected(strCat("expected an integer, got '", text, "'"));
  }
  if (negative) {
    return std::unexpected(strCat("expected a non-negative integer, got '", text, "'"));
  }
  const auto value = digitsToU64(digits);
  if (!value || *value > max) {
    return std::unexpected(strCat("integer '", text, "' is out of range (max ", max, ")"));
  }
  return *value;
}

std::expected<double, std::string> parseNonNegativeNumber(std::string_view text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool whole = !text.empty() && ptr == text.data() + text.size();
  if (ec == std::errc::result_out_of_range && whole) {
    return std::unexpected(strCat("number '", text, "' is out of range"));
  }
  if (ec != std::errc() || !whole || !std::isfinite(value)) {
    return std::unexpected(strCat("expected a number, got '", text, "'"));
  }
  if (value < 0) {
    return std::unexpected(strCat("must be >= 0, got '", text, "'"));
  }
  return value == 0 ? 0.0 : value;  // folds -0 into 0
}

std::expected<ListenAddress, std::string> parseListenAddress(std::string_view text) {
  auto split = splitHostPort(text, "listen address", text);
  if (!split) {
    return std::unexpected(std::move(split.error()));
  }
  if (!split->port) {
    return std::unexpected(
        strCat("missing port in '", text, "' (use host:port, e.g. 0.0.0.0:8080 or [::1]:8080)"));
  }
  const auto port = parsePort(*split->port);
  if (!port) {
    return std::unexpected(strCat("invalid port '", *split->port, "' (use 0-65535)"));
  }
  return ListenAddress{std::move(split->host), *port};
}

std::expected<router::UpstreamAddress, std::string> parseUpstreamUrl(std::string_view text) {
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return std::unexpected(strCat("invalid URL '", text, "' (use e.g. http://127.0.0.1:8000)"));
  }
  std::string scheme(text.substr(0, sep));
  for (char& c : scheme) {
    c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (scheme != "http" && scheme != "https") {
    return std::unexpected(strCat("scheme must be http or https, got '", text.substr(0, sep), "'"));
  }
  // Query strings and userinfo often carry keys: never echo the URL for those.
  const std::string_view rest = text.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) {
    return std::unexpected(std::string("fragments are not allowed in a backend URL"));
  }
  if (rest.find('?') != std::string_view::npos) {
    return std::unexpected(std::string("query strings are not allowed in a backend URL"));
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return std::unexpected(std::string(
        "credentials are not allowed in a URL (put the key in an environment variable and name "
        "it in api_key_env)"));
  }
  auto split = splitHostPort(authority, "URL", text);
  if (!split) {
    return std::unexpected(std::move(split.error()));
  }
  router::UpstreamAddress out;
  out.tls = scheme == "https";
  out.host = std::move(split->host);
  out.port = out.tls ? 443 : 80;
  if (split->port) {
    const auto port = parsePort(*split->port);
    if (!port || *port == 0) {
      return std::unexpected(strCat("invalid port '", *split->port, "' (use 1-65535)"));
    }
    out.port = *port;
  }
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (std::any_of(path.begin(), path.end(), [](char c) { return c <= ' ' || c > '~'; })) {
    return std::unexpected(strCat("invalid character in URL path '", path, "'"));
  }
  while (path.ends_with('/')) {
    path.remove_suffix(1);
  }
  out.base_path = path;
  return out;
}

std::expected<std::chrono::system_clock::time_point, std::string> parseExpiry(
    std::string_view text) {
  using namespace std::chrono;
  const auto invalid = [&] {
    return std::unexpected(strCat("invalid expiry '", text,
                                  "' (use a date like 2027-06-30, or a UTC timestamp like "
                                  "2027-06-30T12:00:00Z)"));
  };
  // Fixed-width fields: "YYYY-MM-DD" then, for a timestamp, "THH:MM:SS[.frac]Z".
  const auto number = [&](size_t pos, size_t width) -> std::optional<unsigned> {
    if (pos + width > text.size()) {
      return std::nullopt;
    }
    const std::string_view digits = text.substr(pos, width);
    if (!std::all_of(digits.begin(), digits.end(), isDigit)) {
      return std::nullopt;
    }
    return static_cast<unsigned>(*digitsToU64(digits));
  };
  const auto y = number(0, 4);
  const auto mo = number(5, 2);
  const auto d = number(8, 2);
  if (!y || !mo || !d || text[4] != '-' || text[7] != '-') {
    return invalid();
  }
  const year_month_day date{year(static_cast<int>(*y)), month(*mo), day(*d)};
  if (!date.ok()) {
    return std::unexpected(strCat("invalid expiry '", text, "' (no such date)"));
  }
  const sys_days midnight(date);
  if (text.size() == 10) {
    return system_clock::time_point(midnight + days(1));
  }
  const auto h = number(11, 2);
  const auto mi = number(14, 2);
  const auto sec = number(17, 2);
  if (!h || !mi || !sec || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return invalid();
  }
  size_t pos = 19;
  nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    const size_t begin = ++pos;
    int64_t scale = 100'000'000;
    while (pos < text.size() && isDigit(text[pos])) {
      fraction += nanoseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == begin || pos - begin > 9) {
      return invalid();
    }
  }
  if (pos + 1 != text.size() || (text[pos] != 'Z' && text[pos] != 'z')) {
    return std::unexpected(strCat("invalid expiry '", text,
                                  "' (a timestamp must be in UTC and end in Z, e.g. "
                                  "2027-06-30T12:00:00Z)"));
  }
  if (*h > 23 || *mi > 59 || *sec > 59) {
    return std::unexpected(strCat("invalid expiry '", text, "' (no such time)"));
  }
  return time_point_cast<system_clock::duration>(midnight + hours(*h) + minutes(*mi) +
                                                 seconds(*sec) + fraction);
}

std::expected<RedisAddress, std::string> parseRedisUrl(std::string_view text) {
  constexpr std::string_view kScheme = "redis://";
  constexpr std::string_view kUse = " (use redis://[[user]:password@]host[:port][/db])";
  // Messages never show the credentials: the URL is echoed only without them.
  const bool has_at = text.find('@') != std::string_view::npos;
  if (text.starts_with("rediss://")) {
    return std::unexpected(std::string("TLS to Redis (rediss://) is not supported yet"));
  }
  if (!text.starts_with(kScheme)) {
    return std::unexpected(has_at ? strCat("invalid Redis URL", kUse)
                                  : strCat("invalid Redis URL '", text, "'", kUse));
  }
  const std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return std::unexpected(
        strCat("query strings and fragments are not allowed in the Redis URL", kUse));
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  std::string shown(text);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos || colon + 1 == userinfo.size()) {
      return std::unexpected(std::string(
          "credentials in the Redis URL need a password (user:password@ or :password@)"));
    }
    for (size_t i = 0; i < userinfo.size(); ++i) {
      const auto hex = [](char c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      };
      if (userinfo[i] == '%' &&
          (i + 2 >= userinfo.size() || !hex(userinfo[i + 1]) || !hex(userinfo[i + 2]))) {
        return std::unexpected(
            std::string("malformed percent-escape in the Redis URL credentials"));
      }
    }
    authority = authority.substr(at + 1);
    shown = strCat(kScheme, "<credentials>@", authority, path);
  }
  auto split = splitHostPort(authority, "Redis URL", shown);
  if (!split) {
    return std::unexpected(std::move(split.error()));
  }
  RedisAddress out;
  out.host = std::move(split->host);
  if (split->port) {
    const auto port = parsePort(*split->port);
    if (!port || *port == 0) {
      return std::unexpected(strCat("invalid port '", *split->port, "' (use 1-65535)"));
    }
    out.port = *port;
  }
  if (path.size() > 1) {
    const std::string_view db = path.substr(1);
    const auto [digits, tail] = splitDigits(db);
    const auto value = digits.empty() || !tail.empty() ? std::nullopt : digitsToU64(digits);
    if (!value || *value > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      return std::unexpected(
          strCat("invalid Redis database '", db, "' (use a number, e.g. redis://host:6379/0)"));
    }
    out.db = static_cast<uint32_t>(*value);
  }
  return out;
}

bool isValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return isAlnum(c) || c == '.' || c == '_' || c == '-';
  });
}

bool isValidAliasName(std::string_view name) {
  return !name.empty() && name.size() <= 256 && name.front() != '/' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return isAlnum(c) || c == '.' || c == '_' || c == '-' || c == ':' || c == '/' ||
                  c == '*' || c == '?';
         });
}

bool isValidEnvVarName(std::string_view name) {
  return !name.empty() && !isDigit(name.front()) &&
         std::all_of(name.begin(), name.end(), [](char c) { return isAlnum(c) || c == '_'; });
}

std::optional<router::BackendKind> parseBackendKind(std::string_view text) {
  return lookup(kBackendKinds, text);
}

std::optional<router::Location> parseLocation(std::string_view text) {
  return lookup(kLocations, text);
}

std::optional<router::License> parseLicense(std::string_view text) {
  return lookup(kLicenses, text);
}

}  // namespace sy::config
