// The DLP section of the policy as plain value structs: which built-in detectors run and at
// which sensitivity level, the security team's custom rules, evasion handling and limits.
// No YAML here: gateway/config decodes the policy file into these structs, and every default
// lives in the struct itself. Values only; DlpEngine::create() validates and compiles them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sy::policies {

// Turns one built-in detector, or a whole group of them, on or off and maps it to a level.
// `id` is a detector id ("email", "credit_card", "secret.github_token", "injection") or a group:
// "pii", "secrets" (the whole secrets pack) or "all". Later settings override earlier ones, so
// {"secrets", level: restricted} followed by {"secret.jwt", enabled: false} is meaningful.
struct DetectorSetting {
  std::string id;
  bool enabled = true;
  std::string level;  // "" keeps the detector's default level
};

// A security-team rule: an RE2 pattern or a keyword dictionary (exactly one of the two).
struct CustomRule {
  std::string name;     // reported as the finding's detector id; unique, not a built-in id
  std::string pattern;  // RE2 syntax. With a capture group, group 1 is the reported span
  std::vector<std::string> keywords;  // literal phrases
  std::string level = "confidential";
  bool case_insensitive = false;  // for both patterns and keywords
  bool whole_words = true;        // keywords only: must not be glued to letters or digits
  size_t max_match_bytes = 128;   // longest expected match; sizes the streaming window
};

// Normalization applied before matching; findings always point into the original text.
struct EvasionConfig {
  bool fold_unicode = true;     // full-width and other Unicode digits, letters, spaces, dashes
  bool strip_invisible = true;  // zero-width characters, bidi controls, soft hyphens
  bool decode_base64 = true;    // standard and URL-safe alphabets
  bool decode_hex = true;
  bool decode_url = true;      // %XX escapes
  size_t min_blob_chars = 16;  // shorter encoded runs are not decoded
  // Scan bounds (bounded work). A longer run, or one past the decoded budget, that decodes to
  // readable text is not scanned: the scan reports the bound as reached (fails closed).
  size_t max_blob_chars = 16 * 1024;
  size_t max_decoded_bytes = 256 * 1024;  // total decoded per scanned text
};

// One `[[rules.allowlists]]` (or the global `[allowlist]`) of a gitleaks rule pack: a finding is
// dropped when the allowlist applies. Path and commit criteria have no meaning for a prompt: an
// allowlist with only those never applies, and under `condition = "AND"` they never hold.
struct PackAllowlist {
  enum class Target { Secret, Match, Line };
  Target target = Target::Secret;      // what `regexes` are matched against (gitleaks regexTarget)
  bool all = false;                    // condition AND: every criterion must hold (default OR)
  bool has_path_criteria = false;      // paths or commits were listed
  std::vector<std::string> regexes;    // RE2 (gitleaks' Go syntax is the same dialect)
  std::vector<std::string> stopwords;  // the secret contains one (case-insensitive): allowed
};

// One rule of a rule pack, decoded from the pack file (gateway/config reads the file).
struct PackRule {
  std::string id;  // reported as the finding's detector id; unique across packs and custom rules
  std::string description;
  std::string regex;     // RE2 syntax
  int secret_group = 0;  // 0: the first non-empty capture group (the whole match if none)
  double entropy = 0;    // > 0: the secret's Shannon entropy must exceed it
  std::vector<std::string> keywords;  // any one must occur (case-insensitive) before the regex runs
  std::vector<PackAllowlist> allowlists;
  std::string where;  // "file:line:col" of the rule, for error messages
};

// `dlp.rule_packs[i]`: a security team's rule file (gitleaks format), compiled into the same
// RE2::Set as the built-in detectors. Every rule is a Secret-class detector at `level`.
struct RulePack {
  std::string source;  // the file as the policy names it, for messages
  std::string level = "restricted";
  std::vector<PackRule> rules;
  std::vector<PackAllowlist> global_allowlists;  // apply to every rule of the pack
};

// `dlp.phone`: how the `phone` detector validates its candidates with libphonenumber. Numbers
// written with a country code ("+44 20 7946 0958", "0044 …") are checked against their own
// country whatever the list says; numbers in national format ("020 7946 0958", "(415) 555-2671")
// only against these regions' numbering plans. ISO 3166-1 alpha-2 codes, upper case.
struct PhoneConfig {
  std::vector<std::string> regions = {"US", "CA", "GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL",
                                      "LU", "ES", "PT", "IT", "SE", "NO", "DK", "FI", "PL", "IN",
                                      "AU", "NZ", "SG", "JP", "BR", "MX"};
};

struct DlpConfig {
  // true: every detector of the default pack runs at its default level and `detectors` only
  // adjusts it. false: only the detectors named in `detectors` run. Person names and street
  // addresses are not in the default pack (too many false positives for blocking decisions).
  bool default_pack = true;
  std::vector<DetectorSetting> detectors;
  std::vector<CustomRule> custom;
  std::vector<RulePack> rule_packs;

  // RE2 patterns for known-harmless values (published test keys, documentation examples): a
  // finding whose exact text fully matches one of them is dropped.
  std::vector<std::string> allow_patterns;

  EvasionConfig evasion;
  PhoneConfig phone;

  // Minimum Shannon entropy (bits per character) of a value in a generic `password=`/`token:`
  // assignment before it counts as a secret. Vendor-prefixed tokens use their own, fixed gates.
  double generic_secret_min_entropy = 3.0;

  // Injection heuristics add up per text; a text is flagged when the sum reaches this.
  double injection_threshold = 1.0;

  // Hold-back of the streaming redactor in bytes; 0 picks it from the longest enabled pattern.
  size_t stream_window_bytes = 0;

  // Scan bound: candidate matches one pattern may extract from one text (its decoded blobs
  // included). A text with more reports the bound as reached (fails closed).
  size_t max_matches_per_pattern = 1 << 16;
};

}  // namespace sy::policies
