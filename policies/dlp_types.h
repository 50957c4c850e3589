// Value types shared by the DLP engine, its transforms and the streaming redactor: detector
// classes, findings and the per-finding actions a policy chooses. Plain values, no invariants
// beyond start <= end; safe to copy and to share between threads as values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sy::policies {

// What kind of thing a detector finds. Policies match on the class ("block every secret") as
// well as on the detector id. Confidential markers defined by the security team are Custom.
enum class DetectorClass { Pii, Secret, Injection, Custom };

// Where a text comes from. Untrusted content (tool results, fetched documents, e-mails the
// model is asked to read) weighs instructions addressed to the assistant much more: there they
// are an indirect prompt injection, while in a user's own prompt they are just instructions.
// System (system and developer prompts) and Assistant (earlier answers sent back as history)
// are trusted like User for injection scoring; they differ only for pseudonym restoring
// (RestoreScope::UserTurns gives back only values found in User texts).
enum class TextSource { User, Untrusted, System, Assistant };

// "pii", "secret", "injection", "custom".
std::string_view toString(DetectorClass detector_class);

// One detected value. Offsets are bytes into the ORIGINAL text given to scan() (or, for the
// streaming redactor, into the whole raw stream), half-open: [start, end).
struct Finding {
  std::string detector_id;  // stable: "email", "credit_card", "secret.github_token", a rule name
  DetectorClass detector_class = DetectorClass::Pii;
  std::string level;  // the sensitivity level the config maps this detector to
  size_t start = 0;
  size_t end = 0;
  bool decoded = false;  // found inside a base64/hex/URL-encoded blob; the span covers the
                         // encoded bytes that carry the value

  size_t length() const { return end - start; }
  bool operator==(const Finding&) const = default;
};

// What to do with one finding's bytes. Blocking a whole request is a policy decision, not a
// text transform, so it is not an action here.
enum class DlpAction {
  Allow,         // keep the text (audit only)
  Redact,        // "[EMAIL]"
  Mask,          // "****1111": keeps the last 4 characters of long values, the domain of emails
  Pseudonymize,  // "<EMAIL_7Q2FX>": stable per request, restorable (see Pseudonymizer)
};

// Which pseudonyms a model's answer gets back: every token issued for the request, or only
// those of values that occur in the user's own turns (not only in system prompts, tool results
// or earlier assistant turns), so an end user cannot have the model replay a value that only
// the application put in the context.
enum class RestoreScope { All, UserTurns };

std::string_view toString(DlpAction action);

// The label used by redaction and pseudonym tokens: the part of the id after the last '.',
// upper-cased, with every other character than [A-Z0-9] turned into '_'.
// "email" -> "EMAIL", "secret.github_token" -> "GITHUB_TOKEN", "customer-id" -> "CUSTOMER_ID";
// except secret.generic_assignment -> "SECRET", the URL detectors -> "PASSWORD" and
// secret.http_credentials -> "CREDENTIALS".
std::string labelFor(std::string_view detector_id);

// The detector id of the synthetic finding the streaming redactor reports for text that a scan
// bound kept from being fully examined (labelled "[SCAN_LIMIT]"; always redacted).
inline constexpr std::string_view kScanLimitDetectorId = "scan_limit";

}  // namespace sy::policies
