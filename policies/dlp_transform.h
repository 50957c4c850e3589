// Text transforms applied to DLP findings: redact ("[EMAIL]"), mask ("****1111"), pseudonymize
// ("<EMAIL_1>", restorable) or allow, with the action chosen per finding by the caller (the
// policy decides per detector, level and destination).
// Thread-safety: the free functions are pure. A Pseudonymizer is per request and NOT
// thread-safe; it owns copies of the original values and must outlive every restore().
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/dlp_types.h"

namespace sy::policies {

// Maps values to stable tokens "<LABEL_N>" within one request (the same value always gets the
// same token, numbering is per label) and restores them in the model's answer.
class Pseudonymizer {
 public:
  // The token for `value` under `label` (e.g. "EMAIL"); creates it on first use.
  std::string tokenFor(std::string_view label, std::string_view value);

  // The original value for a token created by this pseudonymizer, or nullopt.
  std::optional<std::string_view> originalFor(std::string_view token) const;

  // Replaces every token this pseudonymizer created with its original value; anything else,
  // including unknown "<FOO_9>" look-alikes, is copied unchanged.
  std::string restore(std::string_view text) const;

  // Length of the longest token handed out so far (0 when none): how much of a stream's tail
  // may still be the beginning of a token.
  size_t maxTokenLength() const { return max_token_length_; }
  size_t size() const { return value_by_token_.size(); }

 private:
  std::unordered_map<std::string, std::string> token_by_key_;  // label + '\0' + value -> token
  std::unordered_map<std::string, std::string> value_by_token_;
  std::unordered_map<std::string, size_t> count_by_label_;
  size_t max_token_length_ = 0;
};

// "4111 1111 1111 1111" -> "****1111"; "jane.doe@example.com" -> "j***@example.com"; values
// with fewer than 8 letters and digits -> "****".
std::string maskValue(std::string_view detector_id, std::string_view value);

// The replacement of one finding's bytes for `action` ("" never: Allow returns the value).
// `pseudonymizer` may be null, in which case Pseudonymize falls back to Redact.
std::string replacementFor(const Finding& finding, std::string_view value, DlpAction action,
                           Pseudonymizer* pseudonymizer);

// Applies actions[i] to findings[i] (the two spans have the same length; findings index into
// `text`). Overlapping findings are merged: the union of their bytes gets the strictest action
// among them (Redact > Pseudonymize > Mask > Allow) and the label of the first finding with it.
std::string applyActions(std::string_view text, std::span<const Finding> findings,
                         std::span<const DlpAction> actions, Pseudonymizer* pseudonymizer);

// Shorthand: every finding redacted.
std::string redact(std::string_view text, std::span<const Finding> findings);

// The non-overlapping groups applyActions() works on, exposed for the streaming redactor.
struct ActionGroup {
  size_t start = 0;
  size_t end = 0;
  size_t finding = 0;  // index of the finding that labels the group
  DlpAction action = DlpAction::Allow;
};
std::vector<ActionGroup> groupFindings(std::span<const Finding> findings,
                                       std::span<const DlpAction> actions);

}  // namespace sy::policies
