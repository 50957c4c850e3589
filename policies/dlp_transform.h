// Text transforms applied to DLP findings: redact ("[EMAIL]"), mask ("****1111"), pseudonymize
// ("<EMAIL_7Q2FX>", restorable) or allow, with the action chosen per finding by the caller (the
// policy decides per detector, level and destination).
// Thread-safety: the free functions are pure. A Pseudonymizer is per request and NOT
// thread-safe; it owns copies of the original values and must outlive every restore().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/dlp_types.h"

namespace sy::policies {

// Maps values to tokens "<LABEL_XXXXX>" within one request and restores them in the model's
// answer. XXXXX is 5 characters of Crockford base32 (0-9, A-Z without I, L, O, U) drawn from a
// CSPRNG per token, so a client cannot guess a token it has not been shown; the same value
// under the same label always gets the same token. A token never equals a token-shaped string
// the client sent (see reserve()), so what a client typed is never rewritten into a value.
class Pseudonymizer {
 public:
  static constexpr size_t kRandomChars = 5;
  // Fills the buffer with random bytes. The default is OpenSSL's CSPRNG; tests pass their own.
  using RandomSource = void (*)(std::span<unsigned char> out);

  explicit Pseudonymizer(RestoreScope scope = RestoreScope::All, RandomSource random = nullptr)
      : scope_(scope), random_(random) {}

  // Marks every token-shaped substring of `text` ("<" [A-Z0-9_]* "_" 5 chars ">") as taken:
  // tokenFor() never issues one of them. Call it with every string of the client's request
  // before the first tokenFor().
  void reserve(std::string_view text);

  // The token for `value` under `label` (e.g. "EMAIL"), created on first use. `source` is
  // where this occurrence was found: under RestoreScope::UserTurns the value is restored only
  // once some occurrence came from TextSource::User.
  std::string tokenFor(std::string_view label, std::string_view value,
                       TextSource source = TextSource::User);

  // The original value for a token this pseudonymizer issued and may restore, or nullopt.
  std::optional<std::string_view> originalFor(std::string_view token) const;

  // Replaces every token originalFor() knows with its value; anything else, including
  // look-alikes ("<EMAIL_1>", tokens of other requests, tokens not restorable under the
  // scope), is copied unchanged.
  std::string restore(std::string_view text) const;

  // Length of the longest token handed out so far (0 when none): how much of a stream's tail
  // may still be the beginning of a token.
  size_t maxTokenLength() const { return max_token_length_; }
  // Number of tokens restore() gives back.
  size_t size() const { return restorable_; }
  RestoreScope scope() const { return scope_; }

 private:
  struct Entry {
    std::string value;
    bool restorable = false;
  };

  std::string newToken(std::string_view label);
  bool isReserved(std::string_view token);

  RestoreScope scope_;
  RandomSource random_;
  std::unordered_map<std::string, std::string> token_by_key_;  // label + '\0' + value -> token
  std::unordered_map<std::string, Entry> entry_by_token_;
  // Hashes of the client's token-shaped strings (8 bytes each, whatever a body holds; a hash
  // collision only makes one more draw), sorted on first use.
  std::vector<uint64_t> reserved_;
  bool reserved_sorted_ = true;
  size_t restorable_ = 0;
  size_t max_token_length_ = 0;
};

// "4111 1111 1111 1111" -> "****1111"; "jane.doe@example.com" -> "j***@example.com"; values
// with fewer than 8 letters and digits -> "****".
std::string maskValue(std::string_view detector_id, std::string_view value);

// The replacement of one finding's bytes for `action` ("" never: Allow returns the value).
// `pseudonymizer` may be null, in which case Pseudonymize falls back to Redact. `source` is
// where the text comes from (see Pseudonymizer::tokenFor).
std::string replacementFor(const Finding& finding, std::string_view value, DlpAction action,
                           Pseudonymizer* pseudonymizer, TextSource source = TextSource::User);

// Applies actions[i] to findings[i] (the two spans have the same length; findings index into
// `text`). Overlapping findings are merged: the union of their bytes gets the strictest action
// among them (Redact > Pseudonymize > Mask > Allow) and the label of the first finding with it.
std::string applyActions(std::string_view text, std::span<const Finding> findings,
                         std::span<const DlpAction> actions, Pseudonymizer* pseudonymizer,
                         TextSource source = TextSource::User);

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
