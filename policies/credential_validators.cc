// Validators of credentials embedded in command lines, URLs and config pairs, and of private
// key blocks.
#include <algorithm>
#include <string>

#include "policies/secret_validators.h"
#include "policies/validators.h"

namespace sy::policies {
namespace {

std::string_view slice(std::string_view text, const Span& span) {
  return text.substr(span.begin, span.end - span.begin);
}

template <size_t N>
bool inArray(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

}  // namespace

namespace {

std::string_view stripQuotes(std::string_view s) {
  while (!s.empty() && (s.front() == '"' || s.front() == '\'')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == '"' || s.back() == '\'')) {
    s.remove_suffix(1);
  }
  return s;
}

bool credentialPartOk(std::string_view part) {
  return part.size() >= 6 && !looksLikePlaceholder(part) && !isCommonValue(part) &&
         enoughEntropy(part, 2.5);
}

}  // namespace

bool validateCurlUser(const MatchInput& input, Span& value) {
  std::string_view pair = stripQuotes(slice(input.text, value));
  // "user":"password" arrives as `user":"password` after stripping the outer quotes.
  std::string joined;
  for (char c : pair) {
    if (c != '"' && c != '\'') {
      joined.push_back(c);
    }
  }
  size_t colon = joined.find(':');
  if (colon == std::string::npos) {
    return false;
  }
  std::string_view user = std::string_view(joined).substr(0, colon);
  std::string_view password = std::string_view(joined).substr(colon + 1);
  if (!user.empty() && (looksLikePlaceholder(user) || user.front() == '$')) {
    return false;
  }
  if (password.empty()) {
    return credentialPartOk(user);  // `-u "apikey:"`: the key is the user part
  }
  if (password.front() == '$' || password.front() == '<' || password.front() == '[') {
    return false;
  }
  return password.size() >= 4 && !looksLikePlaceholder(password) && !isCommonValue(password);
}

namespace {

bool isDatabaseScheme(std::string_view scheme) {
  static constexpr std::string_view kSchemes[] = {
      "postgres",   "postgresql", "mysql",       "mariadb",    "mongodb",       "mongodb+srv",
      "redis",      "rediss",     "amqp",        "amqps",      "mssql",         "sqlserver",
      "oracle",     "db2",        "cockroachdb", "clickhouse", "cassandra",     "couchdb",
      "neo4j",      "neo4j+s",    "bolt",        "memcached",  "elasticsearch", "jdbc:postgresql",
      "jdbc:mysql", "snowflake",  "influxdb"};
  return inArray(kSchemes, toLowerCopy(scheme));
}

bool urlCredentialsOk(const MatchInput& input, const Span& value, bool want_database) {
  std::string_view match = slice(input.text, input.match);
  size_t scheme_end = match.find("://");
  if (scheme_end == std::string_view::npos) {
    return false;
  }
  if (isDatabaseScheme(match.substr(0, scheme_end)) != want_database) {
    return false;
  }
  std::string_view password = slice(input.text, value);
  if (password.empty() || password.front() == '$' || password.front() == '{' ||
      password.front() == '<' || password.front() == '%' || password.front() == '*') {
    return false;
  }
  return !looksLikePlaceholder(password) && !isCommonValue(password) && password.size() >= 3;
}

}  // namespace

bool validateDatabaseUrl(const MatchInput& input, Span& value) {
  return urlCredentialsOk(input, value, true);
}

bool validateUrlCredentials(const MatchInput& input, Span& value) {
  return urlCredentialsOk(input, value, false);
}

bool validateCredentialPair(const MatchInput& input, Span& value) {
  std::string_view pair = slice(input.text, value);
  size_t colon = pair.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= pair.size()) {
    return false;
  }
  std::string_view user = pair.substr(0, colon);
  std::string_view password = pair.substr(colon + 1);
  return !looksLikePlaceholder(user) && !looksLikePlaceholder(password) && password.front() != '$';
}

bool validatePrivateKey(const MatchInput& input, Span& value) {
  std::string_view block = slice(input.text, value);
  // The header ends with the first run of dashes after its opening dashes and BEGIN.
  size_t header_end = block.find_first_not_of("- \t");
  header_end = header_end == std::string_view::npos ? header_end : block.find('-', header_end);
  if (header_end == std::string_view::npos) {
    return false;
  }
  while (header_end < block.size() && block[header_end] == '-') {
    ++header_end;
  }
  // "-----BEGIN X PRIVATE KEY----------END X PRIVATE KEY-----": an empty armor, not a key.
  std::string_view rest = block.substr(header_end);
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  if (rest.size() >= 3 && toLowerAscii(rest[0]) == 'e' && toLowerAscii(rest[1]) == 'n' &&
      toLowerAscii(rest[2]) == 'd') {
    return false;
  }
  size_t body_chars = 0;
  for (size_t i = header_end; i < block.size() && block[i] != '-'; ++i) {
    char c = block[i];
    body_chars += (isAlnum(c) || c == '+' || c == '/') ? 1 : 0;
  }
  return body_chars >= 20;
}

}  // namespace sy::policies
