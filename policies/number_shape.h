// Internal to the DLP engine: the digit groups and separators of a phone, card or SSN-like
// candidate, and shape tests shared by their validators. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sy::policies {

struct NumberShape {
  std::vector<int> groups;   // digit count of each group
  std::string separators;    // one char per gap: ' ' (any whitespace), or its first other char
  std::string digits;        // all digits, extension excluded
  bool plus = false;         // a leading '+'
  int extension_digits = 0;  // "x123" / "ext. 123"
};

NumberShape parseNumber(std::string_view text);

// Every gap is `separator` (and there is at least one gap).
bool allSeparatorsAre(const NumberShape& shape, char separator);

// Three groups that read as a plausible y-m-d, d-m-y or m-d-y date.
bool looksLikeDate(const NumberShape& shape);

// A date-time's digits: yyyy-mm-dd followed by more groups ("2000-04-16 11:34").
bool startsWithIsoDate(const NumberShape& shape);

// Two four-digit years, the first not after the second ("2008-2013", "1990/1995").
bool isYearRange(const NumberShape& shape);

// Every group is a four-digit year 1800-2100 ("1998 2003 2015"): a list of years.
bool allGroupsAreYears(const NumberShape& shape);

// (NPA) NXX-XXXX, optionally after a "1" or "001" group.
bool isNanpShape(const NumberShape& shape);

}  // namespace sy::policies
