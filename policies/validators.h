// Internal to the DLP engine: checksum, shape and context helpers shared by the detectors.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace sy::policies {

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool isAlnum(char c) { return isDigit(c) || isAlpha(c); }
inline bool isWordChar(char c) { return isAlnum(c) || c == '_'; }
inline char toLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string digitsOf(std::string_view text);
std::string toLowerCopy(std::string_view text);

// Luhn checksum over a string of ASCII digits (at least 2).
bool luhnValid(std::string_view digits);

// Registered IBAN length for a two-letter (upper-case) country code; 0 when unknown.
size_t ibanLength(std::string_view country);
// `iban`: upper-case letters and digits only, no separators.
bool ibanChecksumValid(std::string_view iban);

// Shannon entropy in bits per byte.
double shannonEntropy(std::string_view text);

// Documentation placeholders and obvious fakes: EXAMPLE, xxxx, ****, changeme, <your-key>,
// ${VAR}, {{ var }}, $VAR, "your_api_key", runs of one repeated character, ...
bool looksLikePlaceholder(std::string_view value);

// Case-insensitive: does one of `words` occur as a whole word (not glued to letters on either
// side) in text[from, to)?
bool containsWord(std::string_view text, size_t from, size_t to,
                  std::span<const std::string_view> words);

// Does a context word occur within `window` bytes before `pos` (same or previous lines)?
bool hasContextBefore(std::string_view text, size_t pos, size_t window,
                      std::span<const std::string_view> words);
bool hasContextAfter(std::string_view text, size_t pos, size_t window,
                     std::span<const std::string_view> words);
inline bool hasContextBefore(std::string_view text, size_t pos, size_t window,
                             std::initializer_list<std::string_view> words) {
  return hasContextBefore(text, pos, window, std::span(words.begin(), words.size()));
}

// True when the byte before `begin` / at `end` is a letter or digit (the candidate is part of a
// longer token).
bool gluedBefore(std::string_view text, size_t begin);
bool gluedAfter(std::string_view text, size_t end);

// A calendar date with 1 <= month <= 12, 1 <= day <= days in month, and a plausible year.
bool plausibleDate(int year, int month, int day);

bool ipv4Valid(std::string_view text);
bool ipv6Valid(std::string_view text);

}  // namespace sy::policies
