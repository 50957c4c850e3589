// Internal to the DLP engine: validators of the PII detectors (see detector_spec.h for the
// contract). Pure functions; thread-safe.
#pragma once

#include "policies/detector_spec.h"

namespace sy::policies {

bool validateEmail(const MatchInput& input, Span& value);
bool validateObfuscatedEmail(const MatchInput& input, Span& value);
bool validatePhone(const MatchInput& input, Span& value);
bool validateCard(const MatchInput& input, Span& value);
bool validateIban(const MatchInput& input, Span& value);
bool validateSsn(const MatchInput& input, Span& value);
bool validateIpv4(const MatchInput& input, Span& value);
bool validateIpv6(const MatchInput& input, Span& value);
bool validateBirthDate(const MatchInput& input, Span& value);
bool validateStreetAddress(const MatchInput& input, Span& value);
bool validateContextName(const MatchInput& input, Span& value);
bool validateGazetteerName(const MatchInput& input, Span& value);

// Exposed for tests: is `digits` (12..19 ASCII digits) a number of a known card network?
bool cardNetworkKnown(std::string_view digits);

}  // namespace sy::policies
