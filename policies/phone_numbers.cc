#include "policies/phone_numbers.h"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

namespace sy::policies {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// The instance, with its logger silenced on first use (SetLogger is not thread-safe; a
// function-local static runs it exactly once). Parse errors would otherwise be logged with
// the candidate's digits.
const PhoneNumberUtil& util() {
  static const PhoneNumberUtil* const instance = [] {
    PhoneNumberUtil* u = PhoneNumberUtil::GetInstance();
    u->SetLogger(new i18n::phonenumbers::NullLogger());  // takes ownership
    return u;
  }();
  return *instance;
}

// The digits of a candidate up to an extension ("x123", "ext. 12" are not part of the number).
std::string digitsOf(std::string_view candidate) {
  std::string digits;
  for (char c : candidate) {
    if (c == 'x' || c == 'X' || c == 'e' || c == 'E') {
      break;
    }
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    }
  }
  return digits;
}

// The number `national` (digits) of `country_code`; nullopt when empty or too long for any plan.
std::optional<PhoneNumber> numberOf(int country_code, std::string_view national) {
  if (national.empty() || national.size() > 17) {
    return std::nullopt;
  }
  PhoneNumber number;
  number.set_country_code(country_code);
  const size_t zeros = std::min(national.find_first_not_of('0'), national.size() - 1);
  if (zeros > 0) {  // Italian-style numbers keep their leading zeros
    number.set_italian_leading_zero(true);
    number.set_number_of_leading_zeros(static_cast<int>(zeros));
  }
  number.set_national_number(std::stoull(std::string(national)));
  return number;
}

// The verdict on `national` digits in `region`'s plan (or any plan of the country code when
// `any_region`), read with the region's trunk prefix ("0", "1") dropped and, as Parse does when
// that reading fails, as written.
PhoneVerdict verdictOf(int country_code, const std::string& region, std::string_view national,
                       bool any_region) {
  std::string trunk;
  util().GetNddPrefixForRegion(region, /*strip_non_digits=*/true, &trunk);
  PhoneVerdict best = PhoneVerdict::None;
  for (bool strip : {true, false}) {
    std::string_view digits = national;
    if (strip) {
      if (trunk.empty() || !digits.starts_with(trunk)) {
        continue;
      }
      digits.remove_prefix(trunk.size());
    }
    const auto number = numberOf(country_code, digits);
    if (!number) {
      continue;
    }
    if (any_region ? util().IsValidNumber(*number)
                   : util().IsValidNumberForRegion(*number, region)) {
      return PhoneVerdict::Valid;
    }
    if (util().IsPossibleNumber(*number)) {
      best = PhoneVerdict::Possible;
    }
  }
  return best;
}

}  // namespace

bool PhoneRegions::known(std::string_view region) {
  static const std::set<std::string, std::less<>> supported = [] {
    std::set<std::string> regions;
    util().GetSupportedRegions(&regions);
    return std::set<std::string, std::less<>>(regions.begin(), regions.end());
  }();
  return supported.contains(region);
}

Result<PhoneRegions> PhoneRegions::create(const std::vector<std::string>& regions) {
  std::string errors;
  for (size_t i = 0; i < regions.size(); ++i) {
    const std::string& code = regions[i];
    std::string problem;
    if (!known(code)) {
      problem = "unknown region '" + code + "' (an ISO 3166-1 alpha-2 code in upper case)";
    } else if (std::find(regions.begin(), regions.begin() + static_cast<std::ptrdiff_t>(i),
                         code) != regions.begin() + static_cast<std::ptrdiff_t>(i)) {
      problem = "region '" + code + "' is listed twice";
    }
    if (!problem.empty()) {
      errors += (errors.empty() ? "" : "\n") + ("dlp.phone.regions[" + std::to_string(i) + "]: ") +
                problem;
    }
  }
  if (!errors.empty()) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config, std::move(errors),
                     "invalid_dlp_config");
  }
  return PhoneRegions(regions);
}

// Both checks build the number from its digits instead of calling PhoneNumberUtil::Parse, whose
// ICU regular expressions cost several times the validity check itself.
PhoneVerdict PhoneRegions::international(std::string_view candidate) const {
  std::string digits = digitsOf(candidate);
  if (candidate.find('+') == std::string_view::npos) {
    // "00 41 …" / "011 41 …": the ITU and the North American international call prefixes.
    digits.erase(0, digits.starts_with("011") ? 3 : digits.starts_with("00") ? 2 : 0);
  }
  // Country codes are prefix-free: the first 1-3 digits that name one are it.
  for (size_t length = 1; length <= 3 && length < digits.size(); ++length) {
    const int code = std::stoi(digits.substr(0, length));
    std::string region;
    util().GetRegionCodeForCountryCode(code, &region);
    if (region == "ZZ") {
      continue;
    }
    return verdictOf(code, region, std::string_view(digits).substr(length), /*any_region=*/true);
  }
  return PhoneVerdict::None;
}

// National format: the region's trunk prefix dropped, checked against each region's plan.
PhoneVerdict PhoneRegions::national(std::string_view candidate) const {
  const std::string digits = digitsOf(candidate);
  PhoneVerdict best = PhoneVerdict::None;
  for (const std::string& region : regions_) {
    const PhoneVerdict verdict =
        verdictOf(util().GetCountryCodeForRegion(region), region, digits, /*any_region=*/false);
    if (verdict == PhoneVerdict::Valid) {
      return verdict;
    }
    best = std::max(best, verdict);
  }
  return best;
}

}  // namespace sy::policies
