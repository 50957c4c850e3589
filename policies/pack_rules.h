// Internal to the DLP engine: the compiled form of a rule pack's rule (dlp.rule_packs): what
// the scan checks on each regex match beyond the regex itself, with gitleaks' semantics: the
// secret is the rule's secret group (or the first non-empty group), its Shannon entropy must
// exceed the rule's, and neither the rule's allowlists nor the pack's global ones may apply.
// Immutable after compilePackRule(); shared by every pattern of the pack.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policies/detector_spec.h"
#include "policies/dlp_config.h"

namespace sy::policies {

struct CompiledAllowlist {
  PackAllowlist::Target target = PackAllowlist::Target::Secret;
  bool all = false;
  bool has_path_criteria = false;
  std::vector<std::unique_ptr<RE2>> regexes;
  std::vector<std::string> stopwords;  // lower case
};

struct PackCheck {
  int secret_group = 0;
  double entropy = 0;
  std::vector<CompiledAllowlist> allowlists;
  std::shared_ptr<const std::vector<CompiledAllowlist>> global;  // the pack's [allowlist]
};

// Compiles allowlists; appends "where: message" to `errors` for an invalid regex.
std::vector<CompiledAllowlist> compileAllowlists(const std::vector<PackAllowlist>& lists,
                                                 const std::string& where,
                                                 std::vector<std::string>& errors);

// The RE2::Set prefilter of a rule: its keywords as a case-insensitive alternation (gitleaks
// runs a rule's regex only on text holding one of them), or the regex when it has none.
std::string packPrefilter(const PackRule& rule);

// Whether a match of the rule's regex is a finding. `groups[0]` is the whole match and
// `groups[1..n)` the capture groups (null data: did not participate); on success `value` is
// the secret's span in `text`.
bool acceptPackMatch(const PackCheck& check, std::string_view text, const re2::StringPiece* groups,
                     int n, Span& value);

}  // namespace sy::policies
