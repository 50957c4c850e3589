// Validators of payment and identity numbers: card numbers (Luhn, network prefix and length,
// grouping), IBANs (registered length, mod-97) and US SSNs (area/group/serial rules).
#include <cstdlib>
#include <string>
#include <vector>

#include "policies/number_shape.h"
#include "policies/pii_validators.h"
#include "policies/validators.h"

namespace sy::policies {
namespace {

std::string_view slice(std::string_view text, const Span& span) {
  return text.substr(span.begin, span.end - span.begin);
}

struct CardRange {
  int prefix_lo;
  int prefix_hi;
  int prefix_digits;
  int min_len;
  int max_len;
};

// Issuer identification ranges of the major networks (public IIN tables).
constexpr CardRange kCardRanges[] = {
    {4, 4, 1, 13, 19},        // Visa
    {51, 55, 2, 16, 16},      // Mastercard
    {2221, 2720, 4, 16, 16},  // Mastercard 2-series
    {34, 34, 2, 15, 15},      // American Express
    {37, 37, 2, 15, 15},      //
    {6011, 6011, 4, 16, 19},  // Discover
    {644, 649, 3, 16, 19},    //
    {65, 65, 2, 16, 19},      //
    {300, 305, 3, 14, 19},    // Diners Club
    {3095, 3095, 4, 14, 19},  //
    {36, 36, 2, 14, 19},      //
    {38, 39, 2, 14, 19},      //
    {3500, 3599, 4, 16, 19},  // JCB (3528-3589 assigned; the whole 35 block accepted)
    {2131, 2131, 4, 15, 15},  // JCB (legacy 15-digit)
    {1800, 1800, 4, 15, 15},  //
    {62, 62, 2, 16, 19},      // UnionPay
    {2200, 2204, 4, 16, 19},  // Mir
    {50, 50, 2, 12, 19},      // Maestro
    {56, 69, 2, 12, 19},      //
    {604, 604, 4, 12, 19},    // Maestro (0604)
    {60, 60, 2, 16, 16},      // RuPay
    {81, 82, 2, 16, 16},      //
    {9792, 9792, 4, 16, 16},  // Troy
};

bool cardGroupingOk(const NumberShape& shape) {
  const auto& g = shape.groups;
  if (g.size() <= 1) {
    return true;
  }
  bool all_single = true;
  for (int size : g) {
    all_single &= size == 1;
  }
  if (all_single) {
    return true;  // "4 1 1 1 ..." spelled out digit by digit
  }
  if (g.size() >= 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4) && g.size() == 3) {
    return true;  // Amex 4-6-5, Diners 4-6-4
  }
  for (size_t i = 0; i + 1 < g.size(); ++i) {
    if (g[i] != 4) {
      return false;
    }
  }
  return g.back() >= 1 && g.back() <= 4;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// The separators between the digit groups of `value`, each with its whitespace runs collapsed to
// one space ("\n  " -> " ", ", " stays ", ") unless `raw`.
std::vector<std::string> digitGaps(std::string_view value, bool raw = false) {
  std::vector<std::string> gaps;
  std::string gap;
  bool in_gap = false;
  for (char c : value) {
    if (isDigit(c)) {
      if (in_gap) {
        gaps.push_back(gap);
        gap.clear();
        in_gap = false;
      }
      continue;
    }
    in_gap = true;
    if (isSpace(c) && !raw) {
      if (gap.empty() || gap.back() != ' ') {
        gap.push_back(' ');
      }
    } else {
      gap.push_back(c);
    }
  }
  return gaps;
}

// Separators the card pattern has always accepted: at most two of ' ', '.', '-' per gap, mixed
// freely ("4111 1111-1111.1111"). Anything else (line breaks, tabs, '/', ',', longer gaps)
// ('_', '|', ':', ';' too) counts only when the gaps agree (uniformGaps) and the groups are a
// card's (4-4-4-x, 4-6-5, 4-6-4):
// a list of numbers or of single digits ("[4, 1, 1, ...]", "2019/2020/...") is not a card.
bool plainGaps(std::string_view value) {
  size_t run = 0;
  for (char c : value) {
    if (isDigit(c)) {
      run = 0;
    } else if ((c == ' ' || c == '.' || c == '-') && ++run <= 2) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

// Every gap the same; or, for exactly the groups of a 16-digit card or an Amex (4-4-4-4, 4-6-5),
// any mix without a comma ("4080-4670/4847\n6648"): lists are written with commas.
bool uniformGaps(std::string_view value, const NumberShape& shape) {
  std::vector<std::string> gaps = digitGaps(value);
  bool uniform = true;
  bool comma = false;
  for (const std::string& gap : gaps) {
    uniform &= gap == gaps.front();
    comma |= gap.find(',') != std::string::npos;
  }
  bool card_groups =
      shape.groups == std::vector<int>{4, 4, 4, 4} || shape.groups == std::vector<int>{4, 6, 5};
  return uniform || (card_groups && !comma);
}

// "210\n76\n2493" (one group per line) and "846/36/9265" read as an SSN without a context word:
// no date, decimal or list is written that way.
bool ssnLayout(std::string_view value) {
  std::vector<std::string> gaps = digitGaps(value, true);
  if (gaps.size() != 2) {
    return false;
  }
  auto line = [](const std::string& gap) {
    return gap.find('\n') != std::string::npos &&
           gap.find_first_not_of(" \t\r\n") == std::string::npos;
  };
  auto slash = [](const std::string& gap) { return gap == "/" || gap == " / "; };
  return (line(gaps[0]) && line(gaps[1])) || (slash(gaps[0]) && slash(gaps[1]));
}

}  // namespace

bool cardNetworkKnown(std::string_view digits) {
  int length = static_cast<int>(digits.size());
  for (const auto& range : kCardRanges) {
    if (length < range.min_len || length > range.max_len) {
      continue;
    }
    int prefix = std::atoi(std::string(digits.substr(0, range.prefix_digits)).c_str());
    if (range.prefix_lo == 604 && !digits.starts_with("0604")) {
      continue;
    }
    if (range.prefix_lo != 604 && digits[0] == '0') {
      continue;
    }
    if (prefix >= range.prefix_lo && prefix <= range.prefix_hi) {
      return true;
    }
  }
  return false;
}

bool validateCard(const MatchInput& input, Span& value) {
  std::string_view text = input.text;
  if (gluedBefore(text, value.begin) || gluedAfter(text, value.end)) {
    return false;
  }
  if (value.begin > 1 && isDigit(text[value.begin - 2])) {
    char prev = text[value.begin - 1];
    if (prev == '.' || prev == '-' || prev == ',' || prev == '/') {
      return false;
    }
  }
  NumberShape shape = parseNumber(slice(text, value));
  if (shape.digits.size() < 12 || shape.digits.size() > 19 || !cardGroupingOk(shape)) {
    return false;
  }
  bool plain = plainGaps(slice(text, value));
  if (!plain) {
    bool all_single = shape.groups.size() == shape.digits.size();
    if (all_single || shape.groups.size() == 1) {
      return false;
    }
  }
  if (luhnValid(shape.digits) && cardNetworkKnown(shape.digits)) {
    return plain || uniformGaps(slice(text, value), parseNumber(slice(text, value)));
  }
  // "4111 1111 1111 1111 2024": a valid card followed by another group of digits.
  if (shape.groups.size() < 3) {
    return false;
  }
  std::string digits = shape.digits.substr(0, shape.digits.size() - shape.groups.back());
  if (digits.size() < 12 || !luhnValid(digits) || !cardNetworkKnown(digits)) {
    return false;
  }
  size_t end = value.end;
  while (end > value.begin && isDigit(text[end - 1])) {
    --end;
  }
  while (end > value.begin && !isDigit(text[end - 1])) {
    --end;
  }
  value.end = end;
  return plain || uniformGaps(slice(text, value), parseNumber(slice(text, value)));
}

bool validateIban(const MatchInput& input, Span& value) {
  std::string_view text = input.text;
  if (gluedBefore(text, value.begin)) {
    return false;
  }
  std::string compact;
  size_t pos = value.begin;
  size_t expected = 0;
  while (pos < value.end) {
    char c = text[pos];
    if (isAlnum(c)) {
      compact.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
      ++pos;
      if (compact.size() == 2) {
        expected = ibanLength(compact);
        if (expected == 0) {
          return false;
        }
      }
      if (expected != 0 && compact.size() == expected) {
        break;
      }
    } else {
      ++pos;  // a single separator (the pattern allows one between characters)
    }
  }
  if (expected == 0 || compact.size() != expected || gluedAfter(text, pos)) {
    return false;
  }
  if (!ibanChecksumValid(compact)) {
    return false;
  }
  value.end = pos;
  return true;
}

bool validateSsn(const MatchInput& input, Span& value) {
  std::string_view text = input.text;
  if (gluedBefore(text, value.begin) || gluedAfter(text, value.end)) {
    return false;
  }
  NumberShape shape = parseNumber(slice(text, value));
  if (shape.digits.size() != 9) {
    return false;
  }
  int area = std::atoi(shape.digits.substr(0, 3).c_str());
  int group = std::atoi(shape.digits.substr(3, 2).c_str());
  int serial = std::atoi(shape.digits.substr(5, 4).c_str());
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) {
    return false;
  }
  // Numbers published as examples (Woolworth wallet card, SSA pamphlets, advertising).
  static constexpr std::string_view kSamples[] = {"078051120", "219099999", "457555462",
                                                  "123456789", "111111111", "333333333"};
  for (std::string_view sample : kSamples) {
    if (shape.digits == sample) {
      return false;
    }
  }
  bool dashed = shape.groups == std::vector<int>{3, 2, 4} && allSeparatorsAre(shape, '-');
  if (dashed || (shape.groups == std::vector<int>{3, 2, 4} && ssnLayout(slice(text, value)))) {
    return true;
  }
  if (shape.groups.size() != 1 && shape.groups != std::vector<int>{3, 2, 4}) {
    return false;
  }
  return hasContextBefore(
      text, value.begin, 48,
      {"ssn", "ss#", "social security", "soc sec", "social-security", "taxpayer", "itin", "tin"});
}

}  // namespace sy::policies
