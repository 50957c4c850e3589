// Internal to the DLP engine: the static description of a built-in detector (its patterns and
// validators) that DlpEngine::create() compiles. Immutable tables; safe to share.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "policies/dlp_types.h"

namespace sy::policies {

class PhoneRegions;

struct Span {
  size_t begin = 0;
  size_t end = 0;
};

// What a validator sees: the whole scanned text (for context words around the match), the
// whole regex match, and the tunables from DlpConfig.
struct MatchInput {
  std::string_view text;
  Span match;
  double generic_min_entropy = 3.0;
  const PhoneRegions* phone = nullptr;  // DlpConfig::phone; null: no national numbering plan
};

// Accepts or rejects one candidate. `value` starts as capture group 1 (or the whole match when
// the pattern has no group) and may be narrowed, e.g. to the valid prefix of an IBAN.
using Validator = bool (*)(const MatchInput& input, Span& value);

struct PatternSpec {
  std::string_view regex;        // RE2 syntax; group 1, if any, is the reported value
  Validator validate = nullptr;  // nullptr accepts every match
  double weight = 1.0;           // threshold detectors only: contribution to the text's score
  size_t max_len = 64;           // longest value+context it matches, in bytes (stream window)
  double untrusted_weight = -1;  // weight in untrusted content (tool results, documents);
                                 // < 0: same as `weight`
  std::string_view prefilter;    // a cheaper regex matching wherever `regex` can (a superset),
                                 // run in the RE2::Set instead of it; empty: `regex` itself
  // Number patterns (every match is digits and separators): > 0 runs the pattern only around
  // runs of at least this many digits (and `min_dots` dots), found by a fast byte loop.
  int min_digits = 0;
  int min_dots = 0;
};

// A number pattern: see PatternSpec::min_digits.
inline PatternSpec numberPattern(std::string_view regex, Validator validate, size_t max_len,
                                 int min_digits, int min_dots = 0) {
  PatternSpec spec;
  spec.regex = regex;
  spec.validate = validate;
  spec.max_len = max_len;
  spec.min_digits = min_digits;
  spec.min_dots = min_dots;
  return spec;
}

// A pattern with the default weights and no prefilter.
inline PatternSpec pattern(std::string_view regex, Validator validate, size_t max_len) {
  PatternSpec spec;
  spec.regex = regex;
  spec.validate = validate;
  spec.max_len = max_len;
  return spec;
}

struct BuiltinDetector {
  std::string_view id;
  DetectorClass detector_class = DetectorClass::Pii;
  std::string_view default_level;
  bool default_on = true;
  int priority = 0;  // overlapping findings of one class: the higher priority wins
  std::string_view description;
  std::vector<PatternSpec> patterns;
  double threshold = 0;  // > 0: pattern weights add up per text and must reach it (injection)
};

std::vector<BuiltinDetector> piiDetectors();
std::vector<BuiltinDetector> secretDetectors();
std::vector<BuiltinDetector> injectionDetectors();

}  // namespace sy::policies
