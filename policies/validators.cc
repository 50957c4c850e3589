#include "policies/validators.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace sy::policies {

std::string digitsOf(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (isDigit(c)) {
      out.push_back(c);
    }
  }
  return out;
}

std::string toLowerCopy(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = toLowerAscii(c);
  }
  return out;
}

bool luhnValid(std::string_view digits) {
  if (digits.size() < 2) {
    return false;
  }
  int sum = 0;
  bool double_it = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (d < 0 || d > 9) {
      return false;
    }
    if (double_it) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

namespace {

struct IbanCountry {
  char code[3];
  unsigned char length;
};

// Lengths from the public IBAN registry (SWIFT), one entry per participating country.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
    {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
    {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
    {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28},
    {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

}  // namespace

size_t ibanLength(std::string_view country) {
  if (country.size() != 2) {
    return 0;
  }
  for (const auto& entry : kIbanCountries) {
    if (entry.code[0] == country[0] && entry.code[1] == country[1]) {
      return entry.length;
    }
  }
  return 0;
}

bool ibanChecksumValid(std::string_view iban) {
  if (iban.size() < 5) {
    return false;
  }
  // Move the first four characters to the end, letters become 10..35, then mod 97 == 1.
  unsigned remainder = 0;
  auto feed = [&remainder](char c) -> bool {
    if (isDigit(c)) {
      remainder = (remainder * 10 + static_cast<unsigned>(c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      unsigned v = static_cast<unsigned>(c - 'A') + 10;
      remainder = (remainder * 100 + v) % 97;
    } else {
      return false;
    }
    return true;
  };
  for (size_t i = 4; i < iban.size(); ++i) {
    if (!feed(iban[i])) {
      return false;
    }
  }
  for (size_t i = 0; i < 4; ++i) {
    if (!feed(iban[i])) {
      return false;
    }
  }
  return remainder == 1;
}

double shannonEntropy(std::string_view text) {
  if (text.empty()) {
    return 0;
  }
  std::array<unsigned, 256> counts{};
  for (unsigned char c : text) {
    ++counts[c];
  }
  double entropy = 0;
  const double n = static_cast<double>(text.size());
  for (unsigned count : counts) {
    if (count != 0) {
      double p = count / n;
      entropy -= p * std::log2(p);
    }
  }
  return entropy;
}

bool looksLikePlaceholder(std::string_view value) {
  if (value.empty()) {
    return true;
  }
  std::string lower = toLowerCopy(value);
  static constexpr std::string_view kMarkers[] = {
      "example", "changeme", "change_me", "change-me", "placeholder", "redacted",   "your_",
      "your-",   "yourkey",  "xxxx",      "****",      "..",          "<",          ">",
      "${",      "{{",       "replace_",  "insert_",   "dummy",       "lorem",      "here",
      "notreal", "not_real", "sample",    "my_secret", "mysecret",    "secret_key_"};
  for (std::string_view marker : kMarkers) {
    if (lower.find(marker) != std::string::npos) {
      return true;
    }
  }
  char first = value.front();
  if (first == '$' || first == '%' || first == '@' || first == '[' || first == '(') {
    return true;  // shell/printf/template variables, bracketed hints
  }
  // One character making up most of the value ("aaaaaaaa", "1111111111111111111=").
  std::array<unsigned, 256> counts{};
  unsigned distinct = 0;
  unsigned most = 0;
  for (unsigned char c : value) {
    if (counts[c]++ == 0) {
      ++distinct;
    }
    most = std::max(most, counts[c]);
  }
  if (value.size() >= 8 && (distinct <= 3 || most * 10 >= value.size() * 6)) {
    return true;
  }
  // "abcdefghijklmnop": a run of 8 consecutive letters of the alphabet.
  size_t run = 1;
  for (size_t i = 1; i < lower.size(); ++i) {
    run = (isAlpha(lower[i]) && lower[i] == lower[i - 1] + 1) ? run + 1 : 1;
    if (run >= 8) {
      return true;
    }
  }
  return false;
}

namespace {

bool matchesWordAt(std::string_view lower_text, size_t pos, std::string_view word) {
  if (pos + word.size() > lower_text.size() || lower_text.compare(pos, word.size(), word) != 0) {
    return false;
  }
  if (pos > 0 && isAlpha(lower_text[pos - 1]) && isAlpha(word.front())) {
    return false;
  }
  size_t after = pos + word.size();
  if (after < lower_text.size() && isAlpha(lower_text[after]) && isAlpha(word.back())) {
    return false;
  }
  return true;
}

}  // namespace

bool containsWord(std::string_view text, size_t from, size_t to,
                  std::span<const std::string_view> words) {
  to = std::min(to, text.size());
  if (from >= to) {
    return false;
  }
  std::string lower = toLowerCopy(text.substr(from, to - from));
  for (std::string_view word : words) {
    for (size_t pos = lower.find(word); pos != std::string::npos; pos = lower.find(word, pos + 1)) {
      if (matchesWordAt(lower, pos, word)) {
        return true;
      }
    }
  }
  return false;
}

bool hasContextBefore(std::string_view text, size_t pos, size_t window,
                      std::span<const std::string_view> words) {
  size_t from = pos > window ? pos - window : 0;
  return containsWord(text, from, pos, words);
}

bool hasContextAfter(std::string_view text, size_t pos, size_t window,
                     std::span<const std::string_view> words) {
  return containsWord(text, pos, pos + window, words);
}

bool gluedBefore(std::string_view text, size_t begin) {
  return begin > 0 && begin <= text.size() && isAlnum(text[begin - 1]);
}

bool gluedAfter(std::string_view text, size_t end) {
  return end < text.size() && isAlnum(text[end]);
}

bool plausibleDate(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1 || year < 1900 || year > 2100) {
    return false;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return day <= kDays[month - 1];
}

bool ipv4Valid(std::string_view text) {
  int octets = 0;
  size_t i = 0;
  while (i <= text.size()) {
    size_t start = i;
    int value = 0;
    while (i < text.size() && isDigit(text[i])) {
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    size_t len = i - start;
    if (len == 0 || len > 3 || value > 255 || (len > 1 && text[start] == '0')) {
      return false;
    }
    ++octets;
    if (i == text.size()) {
      break;
    }
    if (text[i] != '.') {
      return false;
    }
    ++i;
  }
  return octets == 4;
}

bool ipv6Valid(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) {
    return false;
  }
  char buffer[64];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  unsigned char out[16];
  return inet_pton(AF_INET6, buffer, out) == 1;
}

}  // namespace sy::policies
