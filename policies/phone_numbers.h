// Internal to the DLP engine: phone-number validation with libphonenumber's metadata against the
// regions of DlpConfig::phone (the phone detector's validator asks it about RE2 candidates only,
// never about whole texts; numbers are built from their digits, not with the slow Parse). Immutable after create(); thread-safe: libphonenumber's PhoneNumberUtil is one
// process-wide instance whose const methods take their own locks (Debian's build uses POSIX
// mutexes), and its logger is silenced once, before first use, so candidate text never reaches
// stdout.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::policies {

// How well a candidate reads as a phone number under libphonenumber's metadata.
enum class PhoneVerdict {
  None,      // no country code, or no possible length in any plan asked
  Possible,  // a possible length for its country (or a policy region), not a valid number
  Valid,     // a valid number of its country (international) or of a policy region (national)
};

class PhoneRegions {
 public:
  // `regions`: ISO 3166-1 alpha-2 codes, upper case ("US", "GB"). Errors name the index and the
  // offending code ("dlp.phone.regions[2]: unknown region 'XX'"); an empty list is allowed
  // (international numbers only).
  static Result<PhoneRegions> create(const std::vector<std::string>& regions);
  // Is `region` a region code libphonenumber has metadata for ("US": yes; "us", "XX": no)?
  static bool known(std::string_view region);

  // `candidate` in international format: a '+' (without one, the international call prefix
  // "00" or "011") followed by a country code; checked against that country's plans.
  PhoneVerdict international(std::string_view candidate) const;
  // `candidate` in national format: the best verdict over the policy regions.
  PhoneVerdict national(std::string_view candidate) const;

  const std::vector<std::string>& regions() const { return regions_; }

 private:
  explicit PhoneRegions(std::vector<std::string> regions) : regions_(std::move(regions)) {}
  std::vector<std::string> regions_;
};

}  // namespace sy::policies
