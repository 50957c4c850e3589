#include "policies/pii_validators.h"

#include <algorithm>
#include <string>
#include <vector>

#include "policies/number_shape.h"
#include "policies/phone_numbers.h"
#include "policies/validators.h"

namespace sy::policies {
namespace {

std::string_view slice(std::string_view text, const Span& span) {
  return text.substr(span.begin, span.end - span.begin);
}

constexpr std::string_view kPhoneWordsBefore[] = {
    "phone",    "telephone", "tel",    "tel.",    "mobile",    "mob",      "cell",     "cellphone",
    "fax",      "call",      "called", "calling", "text",      "texting",  "sms",      "whatsapp",
    "contact",  "reach",     "dial",   "number",  "desk:",     "office:",  "landline", "hotline",
    "messages", "ph",        "ring",   "telefon", "téléphone", "teléfono", "handy",    "tlf"};
constexpr std::string_view kPhoneWordsAfter[] = {"office", "fax", "mobile", "cell",    "home",
                                                 "work",   "tel", "phone",  "landline"};

// The best libphonenumber verdict: international for "+…" (and for "00 …"/"011 …", which may
// also be national numbers, e.g. Delhi's 011), otherwise national in the policy's regions.
PhoneVerdict phoneVerdict(const PhoneRegions* phone, std::string_view candidate,
                          const NumberShape& shape) {
  if (phone == nullptr) {
    return PhoneVerdict::None;
  }
  if (shape.plus) {
    return phone->international(candidate);
  }
  PhoneVerdict verdict = PhoneVerdict::None;
  if (shape.digits.starts_with("00") || shape.digits.starts_with("011")) {
    verdict = phone->international(candidate);
  }
  return verdict == PhoneVerdict::Valid ? verdict : std::max(verdict, phone->national(candidate));
}

// Does `begin` continue a longer number that failed as a whole (the engine then tries the
// candidates inside it)? Inside a "+CC …" run, or after four-digit groups, as in a card number
// ("4111 1111 1111 1111" is not the phone "1111 1111 1111"). A postcode before a national number
// ("70651 082 490 1693") is not such a piece, unless the whole run is longer than any phone
// number (15 digits: "FR84 2345 3222 5165 9142 1520 839"). Looks back at most 24 bytes.
bool pieceOfLongerNumber(std::string_view text, size_t begin, size_t digits) {
  size_t i = begin;
  while (i > 0 && begin - i < 24) {
    const char c = text[i - 1];
    if (c == '+') {
      return i < begin;
    }
    if (!isDigit(c) && c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      break;
    }
    --i;
  }
  const NumberShape before = parseNumber(text.substr(i, begin - i));
  return !before.groups.empty() &&
         (before.digits.size() + digits > 15 ||
          std::all_of(before.groups.begin(), before.groups.end(), [](int g) { return g == 4; }));
}

// An upper-case code group (2-4 letters and digits, a letter among them) right before `begin`,
// across one space: "XUWT 0350 3680 39".
bool codeGroupBefore(std::string_view text, size_t begin) {
  if (begin < 2 || text[begin - 1] != ' ') {
    return false;
  }
  size_t i = begin - 1;
  bool letter = false;
  while (i > 0 && begin - 1 - i < 5 &&
         ((text[i - 1] >= 'A' && text[i - 1] <= 'Z') || isDigit(text[i - 1]))) {
    letter |= !isDigit(text[i - 1]);
    --i;
  }
  const size_t length = begin - 1 - i;
  return letter && length >= 2 && length <= 4 && (i == 0 || !isAlnum(text[i - 1]));
}

// A word on the same line right after the candidate ("… 2450 Crown St").
bool wordFollows(std::string_view text, size_t end) {
  while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) {
    ++end;
  }
  return end < text.size() && isAlpha(text[end]);
}

}  // namespace

bool validateEmail(const MatchInput& input, Span& value) {
  std::string_view text = input.text;
  while (value.begin < value.end &&
         (text[value.begin] == '.' || text[value.begin] == '-' || text[value.begin] == '+')) {
    ++value.begin;
  }
  // "scheme://user:password@host" is a credential in a URL, not an e-mail address; an address
  // further on in the URL ("https://host/?to=jane@example.com") is one.
  size_t token_start = value.begin;
  while (token_start > 0 && text[token_start - 1] != ' ' && text[token_start - 1] != '\n' &&
         text[token_start - 1] != '\t' && text[token_start - 1] != '"' &&
         text[token_start - 1] != '\'') {
    --token_start;
  }
  const std::string_view before = text.substr(token_start, value.begin - token_start);
  if (const size_t scheme = before.find("://"); scheme != std::string_view::npos &&
      before.find_first_of("/?#=&", scheme + 3) == std::string_view::npos) {
    return false;
  }
  std::string_view email = slice(text, value);
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.size() > 254 || at > 64) {
    return false;
  }
  std::string_view local = email.substr(0, at);
  std::string_view domain = email.substr(at + 1);
  // Consecutive dots in the local part are invalid but still identify a mailbox: keep them.
  if (local.back() == '.' || domain.find("..") != std::string_view::npos || domain.front() == '-' ||
      domain.find("-.") != std::string_view::npos || domain.find(".-") != std::string_view::npos) {
    return false;
  }
  size_t last_dot = domain.rfind('.');
  if (last_dot == std::string_view::npos || domain.size() - last_dot - 1 < 2) {
    return false;
  }
  return true;
}

bool validateObfuscatedEmail(const MatchInput& input, Span& value) {
  return !gluedBefore(input.text, value.begin) && value.end - value.begin >= 10;
}

bool validatePhone(const MatchInput& input, Span& value) {
  std::string_view text = input.text;
  if (gluedBefore(text, value.begin) || gluedAfter(text, value.end)) {
    return false;
  }
  if (value.begin > 0) {
    char prev = text[value.begin - 1];
    bool after_digit = value.begin > 1 && isDigit(text[value.begin - 2]);
    if (prev == '/' || prev == '_' || prev == '$' || prev == '#' || prev == '=' || prev == '+' ||
        prev == '\\' || ((prev == '.' || prev == ',' || prev == '-') && after_digit)) {
      return false;
    }
  }
  if (value.end < text.size()) {
    char next = text[value.end];
    if (next == '/' || next == '%' || next == '_' ||
        ((next == '.' || next == ',' || next == ':') && value.end + 1 < text.size() &&
         isDigit(text[value.end + 1]))) {
      return false;  // "…1,5", "…3.14", a time "…11:34" or a port
    }
  }
  const std::string_view candidate = slice(text, value);
  NumberShape shape = parseNumber(candidate);
  size_t digits = shape.digits.size();
  if (digits < 6 || digits > 15 || shape.groups.size() > 7) {
    return false;
  }
  for (int group : shape.groups) {
    if (group > 10 && !(shape.plus && shape.groups.size() == 1)) {
      return false;  // one long run is an E.164 number only with its '+'
    }
  }
  if (looksLikeDate(shape) || startsWithIsoDate(shape) || isYearRange(shape)) {
    return false;
  }
  if (shape.groups.size() == 2 && allSeparatorsAre(shape, '.')) {
    return false;  // a decimal number ("2.7182818"); dotted phones have two dots or more
  }
  if (pieceOfLongerNumber(text, value.begin, digits)) {
    return false;  // "+999 1234 5678" failed as a whole; "1234 5678" is not a number of its own
  }
  if (shape.groups == std::vector<int>{3, 2, 4} && allSeparatorsAre(shape, '-')) {
    return false;  // US SSN shape
  }
  if (shape.groups.size() == 4 && allSeparatorsAre(shape, '.') && digits <= 12) {
    return false;  // IPv4 shape
  }
  if (shape.plus) {  // a country code, and a valid number or a full-length possible one
    const PhoneVerdict verdict = phoneVerdict(input.phone, candidate, shape);
    return verdict == PhoneVerdict::Valid || (verdict == PhoneVerdict::Possible && digits >= 8);
  }
  if (isNanpShape(shape) || (shape.extension_digits > 0 && shape.groups.size() >= 2)) {
    return true;  // (NPA) NXX-XXXX and "… ext. 12" read as phones even where unassigned
  }
  // libphonenumber runs last, and only where its verdict decides. Grouped like a phone number
  // ("020 7946 0958", "(030) 1234567"), long enough, not a list of years and not a house number
  // before a street name ("17151 2450 Crown St"): a valid national number needs no context word.
  const bool grouped = shape.groups.size() >= 2 || candidate.find('(') != std::string_view::npos;
  // Nor four-digit groups only (a card read in pieces, "4154 3970" in one message and the rest in
  // the next) or digits after a code group ("NL96 XUWT 0350 3680 39", an IBAN's tail).
  const bool card_groups = std::all_of(shape.groups.begin(), shape.groups.end(),
                                       [](int g) { return g == 4; });
  const bool context_free = grouped && digits >= 8 && !allGroupsAreYears(shape) && !card_groups &&
                            !wordFollows(text, value.end) && !codeGroupBefore(text, value.begin);
  if (digits < 7 && shape.groups.size() < 3) {
    return false;  // "61 51 81" needs three groups and context; "615181" is just a number
  }
  const bool context = hasContextBefore(text, value.begin, 48, kPhoneWordsBefore) ||
                       hasContextAfter(text, value.end, 16, kPhoneWordsAfter);
  if (!context && !context_free) {
    return false;
  }
  const PhoneVerdict verdict = phoneVerdict(input.phone, candidate, shape);
  // With a context word, a possible length is enough (short locals, unassigned ranges).
  return verdict == PhoneVerdict::Valid || (context && verdict == PhoneVerdict::Possible);
}

bool validateIpv4(const MatchInput& input, Span& value) {
  std::string_view text = input.text;
  if (value.begin > 0 && (isAlnum(text[value.begin - 1]) || text[value.begin - 1] == '.')) {
    return false;
  }
  if (value.end < text.size() &&
      (isAlnum(text[value.end]) ||
       (text[value.end] == '.' && value.end + 1 < text.size() && isDigit(text[value.end + 1])))) {
    return false;
  }
  std::string_view ip = slice(text, value);
  // Loopback, unspecified and broadcast addresses identify nobody.
  if (ip.starts_with("127.") || ip == "0.0.0.0" || ip == "255.255.255.255") {
    return false;
  }
  return ipv4Valid(ip);
}

bool validateIpv6(const MatchInput& input, Span& value) {
  std::string_view text = input.text;
  if (value.begin > 0) {
    char prev = text[value.begin - 1];
    if (isAlnum(prev) || prev == ':' || prev == '.' || prev == '_') {
      return false;
    }
  }
  if (value.end < text.size() && (isWordChar(text[value.end]) || text[value.end] == ':')) {
    return false;
  }
  std::string_view candidate = slice(text, value);
  size_t colons = 0;
  bool digit = false;
  for (char c : candidate) {
    colons += c == ':' ? 1 : 0;
    digit |= isDigit(c);
  }
  bool compressed = candidate.find("::") != std::string_view::npos;
  if (!digit || (colons < 7 && !compressed) || candidate.size() < 3 || candidate == "::1") {
    return false;
  }
  return ipv6Valid(candidate);
}

bool validateBirthDate(const MatchInput& input, Span& value) {
  std::string_view date = slice(input.text, value);
  NumberShape shape = parseNumber(date);
  if (shape.groups.size() == 3) {
    return looksLikeDate(shape);
  }
  // "12 March 1980", "March 12th, 1980": the pattern checked the month name; check the year.
  if (shape.groups.empty() || shape.groups.back() != 4) {
    return false;
  }
  int year = std::atoi(shape.digits.substr(shape.digits.size() - 4).c_str());
  return year >= 1900 && year <= 2100;
}

}  // namespace sy::policies
