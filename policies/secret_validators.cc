#include "policies/secret_validators.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "policies/keys.h"
#include "policies/validators.h"

namespace sy::policies {
namespace {

std::string_view slice(std::string_view text, const Span& span) {
  return text.substr(span.begin, span.end - span.begin);
}

bool isIdentifierChar(char c) { return isWordChar(c) || c == '.' || c == '-'; }

// "AUTH_CLIENTSECRET" -> {auth, clientsecret}; "oktaApiToken" -> {okta, api, token}.
std::vector<std::string> splitIdentifier(std::string_view identifier) {
  std::vector<std::string> words;
  std::string current;
  for (size_t i = 0; i < identifier.size(); ++i) {
    char c = identifier[i];
    if (!isAlnum(c)) {
      if (!current.empty()) {
        words.push_back(current);
        current.clear();
      }
      continue;
    }
    bool boundary =
        i > 0 && c >= 'A' && c <= 'Z' && identifier[i - 1] >= 'a' && identifier[i - 1] <= 'z';
    if (boundary && !current.empty()) {
      words.push_back(current);
      current.clear();
    }
    current.push_back(toLowerAscii(c));
  }
  if (!current.empty()) {
    words.push_back(current);
  }
  return words;
}

constexpr std::string_view kSecretWords[] = {
    "password", "passwd", "pass", "pwd",        "passphrase",  "secret", "token",
    "key",      "apikey", "auth", "credential", "credentials", "creds",  "pat"};
constexpr std::string_view kPasswordWords[] = {"password", "passwd", "pass", "pwd", "passphrase"};
constexpr std::string_view kQualifiers[] = {
    "api",     "client",     "access", "secret", "private", "auth",     "session",  "master",
    "signing", "encryption", "app",    "bot",    "user",    "admin",    "db",       "service",
    "account", "refresh",    "bearer", "oauth",  "webhook", "license",  "consumer", "root",
    "ssh",     "jwt",        "hmac",   "id",     "x",       "personal", "deploy",   "github",
    "gitlab",  "slack",      "aws",    "azure",  "gcp",     "npm"};
constexpr std::string_view kCommonValues[] = {
    "password", "passwd",   "pass",     "secret",   "token",     "username", "user",
    "admin",    "test",     "testing",  "changeme", "letmein",   "apikey",   "api_key",
    "null",     "none",     "true",     "false",    "undefined", "nil",      "empty",
    "default",  "required", "optional", "string",   "value",     "hidden",   "unknown",
    "pwd",      "qwerty",   "abc123",   "123456",   "12345678",  "root",     "guest"};

template <size_t N>
bool inArray(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

bool endsWithSecretWord(const std::string& word) {
  if (inArray(kSecretWords, word)) {
    return true;
  }
  for (std::string_view secret : kSecretWords) {
    if (word.size() > secret.size() && word.ends_with(secret)) {
      std::string prefix = word.substr(0, word.size() - secret.size());
      if (inArray(kQualifiers, prefix)) {
        return true;
      }
    }
  }
  return false;
}

// "XSalsa20.key_length", "os.environ", "this.config.token": code, not a literal.
bool looksLikeCodeReference(std::string_view value) {
  static constexpr std::string_view kPrefixes[] = {
      "process.env", "os.environ", "os.getenv",     "env.",  "config.", "settings.",
      "self.",       "this.",      "system.getenv", "vars.", "secrets."};
  std::string lower = toLowerCopy(value);
  for (std::string_view prefix : kPrefixes) {
    if (lower.starts_with(prefix)) {
      return true;
    }
  }
  size_t dots = 0;
  bool segment_start = true;
  for (char c : value) {
    if (c == '.') {
      if (segment_start) {
        return false;
      }
      ++dots;
      segment_start = true;
    } else if (segment_start) {
      if (!isAlpha(c) && c != '_') {
        return false;
      }
      segment_start = false;
    } else if (!isWordChar(c)) {
      return false;
    }
  }
  return dots > 0 && !segment_start;
}

bool looksLikePath(std::string_view value) {
  if (value.starts_with("/") || value.starts_with("./") || value.starts_with("~/") ||
      value.starts_with("../") || value.find("://") != std::string_view::npos ||
      (value.size() > 2 && value[1] == ':' && value[2] == '\\')) {
    return true;
  }
  static constexpr std::string_view kExtensions[] = {
      ".pem",  ".p12", ".pfx", ".key", ".cer", ".crt",  ".json", ".txt", ".keytab", ".jks",
      ".yaml", ".yml", ".env", ".xml", ".ini", ".conf", ".cfg",  ".png", ".jpg",    ".html"};
  std::string lower = toLowerCopy(value);
  for (std::string_view ext : kExtensions) {
    if (lower.ends_with(ext)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool isCommonValue(std::string_view value) { return inArray(kCommonValues, toLowerCopy(value)); }

bool enoughEntropy(std::string_view value, double min_entropy) {
  if (value.size() < 2) {
    return false;
  }
  // Short strings cannot reach the entropy of long ones: cap the bar at 72% of log2(length).
  double cap = 0.72 * std::log2(static_cast<double>(value.size()));
  return shannonEntropy(value) >= std::min(min_entropy, cap);
}

bool looksLikeWords(std::string_view value) {
  // Segments: letter runs split at lower->Upper, digit runs, separated by anything else.
  size_t segments = 0;
  size_t i = 0;
  while (i < value.size()) {
    char c = value[i];
    if (!isAlnum(c)) {
      ++i;
      continue;
    }
    size_t start = i;
    if (isDigit(c)) {
      while (i < value.size() && isDigit(value[i])) {
        ++i;
      }
      if (i - start > 4) {
        return false;
      }
    } else {
      ++i;
      bool upper_run = c >= 'A' && c <= 'Z';
      while (i < value.size() && isAlpha(value[i])) {
        bool upper = value[i] >= 'A' && value[i] <= 'Z';
        if (upper && !upper_run) {
          break;  // camelCase boundary
        }
        if (!upper && upper_run && i - start > 1) {
          break;  // "HTTPServer": "HTTP" | "Server" (approximately)
        }
        upper_run = upper_run && upper;
        ++i;
      }
      std::string_view word = value.substr(start, i - start);
      if (word.size() < 3 || word.find_first_of("aeiouyAEIOUY") == std::string_view::npos) {
        return false;
      }
    }
    ++segments;
  }
  return segments > 0 && segments <= 6;
}

bool secretKeyName(std::string_view identifier, bool* password_like) {
  auto words = splitIdentifier(identifier);
  if (words.empty()) {
    return false;
  }
  for (const auto& word : words) {
    if (word == "public" || word == "pub" || word == "csrf" || word == "xsrf" ||
        word.starts_with("public") || word == "example" || word == "sample") {
      return false;
    }
  }
  const std::string& last = words.back();
  if (!endsWithSecretWord(last)) {
    return false;
  }
  if (password_like != nullptr) {
    *password_like = false;
    for (std::string_view word : kPasswordWords) {
      if (last.ends_with(word)) {
        *password_like = true;
      }
    }
  }
  return true;
}

bool validateToken(const MatchInput& input, Span& value) {
  std::string_view token = slice(input.text, value);
  if (value.begin > 0 && input.text[value.begin - 1] == '.') {
    return false;  // part of a file name or a dotted identifier ("box.ico-7a38...png")
  }
  return !looksLikePlaceholder(token) && enoughEntropy(token, 3.0);
}

bool validateSlackToken(const MatchInput& input, Span& value) {
  std::string_view token = slice(input.text, value);
  std::string_view random_part = token.substr(token.rfind('-') + 1);
  return !looksLikePlaceholder(token) && enoughEntropy(random_part, 3.0);
}

bool validateMixedToken(const MatchInput& input, Span& value) {
  std::string_view token = slice(input.text, value);
  bool upper = false;
  bool lower = false;
  bool digit = false;
  for (char c : token) {
    upper |= c >= 'A' && c <= 'Z';
    lower |= c >= 'a' && c <= 'z';
    digit |= isDigit(c);
  }
  return upper && lower && digit && validateToken(input, value);
}

namespace {

// The key of `key = value`: the identifier around the keyword where the match starts (at most
// 64 bytes either side); must end in a secret word. A bare `token, value` is prose or a list,
// only a quoted `"api_token", "value"` is a call argument pair.
bool genericKeyOk(const MatchInput& input, const Span& value, bool* password_like) {
  std::string_view text = input.text;
  size_t key_begin = input.match.begin;
  while (key_begin > 0 && input.match.begin - key_begin < 64 &&
         isIdentifierChar(text[key_begin - 1])) {
    --key_begin;
  }
  size_t key_end = input.match.begin;
  while (key_end < value.begin && key_end - input.match.begin < 64 &&
         isIdentifierChar(text[key_end])) {
    ++key_end;
  }
  if (!secretKeyName(text.substr(key_begin, key_end - key_begin), password_like)) {
    return false;
  }
  size_t op = key_end;
  while (op < value.begin && (text[op] == ' ' || text[op] == '\t')) {
    ++op;
  }
  return !(op < value.begin && text[op] == ',' && text[key_end] != '"' && text[key_end] != '\'');
}

bool isValueChar(char c) {
  return static_cast<unsigned char>(c) > 0x20 && c != '"' && c != '\'' && c != '`' && c != ';' &&
         c != ',' && c != '(' && c != ')' && c != '<' && c != '>' && c != '[' && c != ']' &&
         c != '{' && c != '}';
}

bool genericValueOk(std::string_view secret, bool password_like, double min_entropy) {
  size_t min_length = password_like ? 6 : 8;
  if (secret.size() < min_length || looksLikePlaceholder(secret) || isCommonValue(secret) ||
      looksLikeCodeReference(secret) || looksLikePath(secret) || looksLikeWords(secret)) {
    return false;
  }
  if (std::all_of(secret.begin(), secret.end(), [](char c) { return isDigit(c); }) &&
      secret.size() < 20) {
    return false;
  }
  return enoughEntropy(secret, password_like ? 2.5 : min_entropy);
}

}  // namespace

bool validateGenericAssignment(const MatchInput& input, Span& value) {
  std::string_view text = input.text;
  bool password_like = false;
  if (!genericKeyOk(input, value, &password_like)) {
    return false;
  }
  // The pattern captures the first six characters of the value; the rest is read here, up to
  // a bound that keeps the work per candidate small on adversarial input.
  constexpr size_t kMaxValue = 4096;
  while (value.end < text.size() && value.end - value.begin < kMaxValue &&
         isValueChar(text[value.end])) {
    ++value.end;
  }
  // "id=jfrog_secret" is another key=value, not a value (base64 pads only at the end).
  std::string_view full = slice(text, value);
  size_t equals = full.find('=');
  if (equals != std::string_view::npos &&
      full.find_first_not_of('=', equals) != std::string_view::npos) {
    return false;
  }
  if (looksLikePlaceholder(slice(text, value))) {
    return false;  // before trimming: "ops_eyJzaWdu..." is an elided example, not a secret
  }
  while (value.end > value.begin && (text[value.end - 1] == '.' || text[value.end - 1] == ':')) {
    --value.end;
  }
  return genericValueOk(slice(text, value), password_like, input.generic_min_entropy);
}

bool validateServiceAssignment(const MatchInput& input, Span& value) {
  // The service name (where the match starts) must start a word or a camelCase part:
  // "mapboxToken", "REACT_APP_MAPBOX", "TwitterKey", not "CameraKit" (meraki) or "rookTable".
  const size_t name = input.match.begin;
  if (name > 0) {
    const char before = input.text[name - 1];
    const char first = input.text[name];
    const bool upper_first = first >= 'A' && first <= 'Z';
    const bool lower_before = before >= 'a' && before <= 'z';
    if (isWordChar(before) && !isDigit(before) && before != '_' && !(upper_first && lower_before)) {
      return false;
    }
  }
  std::string_view secret = slice(input.text, value);
  // Trailing punctuation the value class lets through ("...abc." at the end of a sentence).
  while (!secret.empty() && (secret.back() == '.' || secret.back() == ':')) {
    secret.remove_suffix(1);
    --value.end;
  }
  const bool all_digits =
      std::all_of(secret.begin(), secret.end(), [](char c) { return isDigit(c); });
  if (secret.size() < 14 || (all_digits && secret.size() < 17) ||
      std::none_of(secret.begin(), secret.end(), [](char c) { return isDigit(c); })) {
    return false;
  }
  return !looksLikePlaceholder(secret) && !isCommonValue(secret) &&
         !looksLikeCodeReference(secret) && !looksLikePath(secret) && !looksLikeWords(secret) &&
         enoughEntropy(secret, 3.0);
}

bool validateAuthorizationHeader(const MatchInput& input, Span& value) {
  std::string_view secret = slice(input.text, value);
  std::string lower = toLowerCopy(secret);
  if (lower == "basic" || lower == "bearer" || lower == "token" || lower == "digest" ||
      lower == "negotiate" || lower == "apikey" || secret.size() < 6) {
    return false;
  }
  return !looksLikePlaceholder(secret) && !looksLikeWords(secret) && enoughEntropy(secret, 3.0);
}

bool validateSwitchyardKey(const MatchInput& input, Span& value) {
  return parseKey(slice(input.text, value)).has_value();
}

}  // namespace sy::policies
