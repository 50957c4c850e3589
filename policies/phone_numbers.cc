#include "policies/phone_numbers.h"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <set>

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

bool parse(std::string_view candidate, const std::string& region, PhoneNumber& number) {
  return util().Parse(std::string(candidate), region, &number) ==
         PhoneNumberUtil::NO_PARSING_ERROR;
}

// "00 41 …" and "011 41 …" (the ITU and the North American international call prefixes) read
// as "+41 …"; anything else is returned as it is.
std::string withPlus(std::string_view candidate) {
  size_t start = candidate.find_first_not_of(" (");
  std::string_view rest = start == std::string_view::npos ? "" : candidate.substr(start);
  for (std::string_view prefix : {"011", "00"}) {
    if (rest.starts_with(prefix)) {
      return "+" + std::string(rest.substr(prefix.size()));
    }
  }
  return std::string(candidate);
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

PhoneVerdict PhoneRegions::international(std::string_view candidate) const {
  PhoneNumber number;
  if (!parse(withPlus(candidate), "ZZ", number)) {
    return PhoneVerdict::None;
  }
  if (util().IsValidNumber(number)) {
    return PhoneVerdict::Valid;
  }
  return util().IsPossibleNumber(number) ? PhoneVerdict::Possible : PhoneVerdict::None;
}

PhoneVerdict PhoneRegions::national(std::string_view candidate) const {
  PhoneVerdict best = PhoneVerdict::None;
  for (const std::string& region : regions_) {
    PhoneNumber number;
    if (!parse(candidate, region, number)) {
      continue;
    }
    if (util().IsValidNumberForRegion(number, region)) {
      return PhoneVerdict::Valid;
    }
    if (util().IsPossibleNumber(number)) {
      best = PhoneVerdict::Possible;
    }
  }
  return best;
}

}  // namespace sy::policies
