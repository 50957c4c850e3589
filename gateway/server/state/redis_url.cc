// parseUrl (redis_client.h): the state store's Redis URL, parsed once into the client's Options.
#include <charconv>
#include <optional>

#include "gateway/server/state/redis_client.h"

namespace sy::server::redis {
namespace {

std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) {
      return std::nullopt;
    }
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) {
      return std::nullopt;
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

}  // namespace

Result<Options> parseUrl(std::string_view url) {
  auto bad = [](std::string_view why) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "state.redis_url: " + std::string(why) +
                         " (expected redis[s]://[[user]:password@]host[:port][/db])");
  };
  Options options;
  std::string_view rest;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("rediss://")) {
    rest = url.substr(9);
    options.tls = true;
  } else {
    return bad("the scheme must be redis:// or rediss://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad("query and fragment are not supported");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return bad("credentials need a password (user:password@ or :password@)");
    }
    auto username = percentDecode(userinfo.substr(0, colon));
    auto password = percentDecode(userinfo.substr(colon + 1));
    if (!username || !password) {
      return bad("malformed percent-escape in the credentials");
    }
    if (password->empty()) {
      return bad("empty password");
    }
    options.username = std::move(*username);
    options.password = std::move(*password);
  }
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("unterminated IPv6 address");
    }
    options.host.assign(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return bad("junk after the IPv6 address");
      }
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      authority = authority.substr(0, colon);
      has_port = true;
    }
    options.host.assign(authority);
  }
  if (options.host.empty()) {
    return bad("missing host");
  }
  for (char c : options.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@' || c == '[' || c == ']') {
      return bad("malformed host");
    }
  }
  if (has_port) {
    unsigned port = 0;
    if (!parseDecimal(port_text, port) || port == 0 || port > 65535) {
      return bad("the port must be 1-65535");
    }
    options.port = static_cast<uint16_t>(port);
  }
  if (!path.empty() && !parseDecimal(path, options.db)) {
    return bad("the path must be a database number");
  }
  if (options.db < 0) {
    return bad("the database number must not be negative");
  }
  return options;
}

}  // namespace sy::server::redis
