// One audit record (a JSON line of the tamper-evident audit log) and its canonical form.
// Value types and pure functions: thread-safe as values, no I/O. A record carries ids, names
// from the policy, counts and numbers: never prompt text or matched values (the caller's duty).
//
// Canonical line: one JSON object, no whitespace, keys in this fixed order:
//   seq, boot_id, phase, time[, policy_version[, previous_policy_version][, trigger][, error]],
//   request_id[, client_request_id], key_id, team, endpoint[, surface],
//   requested_model, model, tier, backend, rule, sensitivity, difficulty{score,label},
//   findings[{detector,count,action}], outcome, status, tokens{prompt,completion[,cached]},
//   cost_usd, latency_ms[, shadow{policy_version,action,status,tier,backend,rule,sensitivity,
//   differs[]}], prev_hash, hash
// Numbers: integers in decimal; difficulty.score with 4 decimals (null when absent), cost_usd
// with 6, latency_ms with 3 (locale-independent; a NaN or infinity is written as null).
// Strings are JSON-escaped; invalid UTF-8 bytes become U+FFFD so every line parses.
// `hash` = lowercase hex SHA-256 (or HMAC-SHA256 with a key) of the line without its hash
// member: the exact bytes `{...,"prev_hash":"<hex>"}`. Verification never re-serializes: it cuts
// the final `,"hash":"<64 hex>"}` off the stored line and appends `}` (splitAuditLine), so a
// record stays verifiable even if a later version formats numbers differently.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::observability {

// prev_hash of the first record of a brand-new log.
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditFinding {
  std::string detector;  // detector id from the policy, e.g. "pii.email"
  uint64_t count = 0;    // how many matches; never the matched values
  std::string action;    // "allow" | "redact" | "pseudonymize" | "block" | ...
};

struct AuditRecord {
  // Set by the caller.
  // "decision" (written before forwarding) | "completion" (after) | "reload" (a new policy took
  // effect: no request members are meaningful then, outcome is "ok")
  std::string phase;
  std::string time;  // RFC 3339 UTC with ms (formatAuditTime); "" = filled in by AuditLog::append
  // The policy that decided the request (config::policyVersion; a reload record: the new one).
  // These three are written only when not empty, so records from before they existed verify and
  // read back unchanged.
  std::string policy_version;
  std::string previous_policy_version;  // reload records: the policy it replaced
  std::string trigger;                  // reload records: "signal" | "file"
  // Rejected reload records (outcome "rejected"): how many errors and the first one, as
  // "file:line:col: message" about the policy's own text (never client data), at most 300 bytes.
  std::string error;
  std::string request_id;         // the gateway's, unique per request
  std::string client_request_id;  // the client's x-request-id; written only when not empty
  std::string key_id;
  std::string team;
  std::string endpoint;         // "chat" | "embeddings" | ...
  std::string surface;          // the client's API when not OpenAI's ("anthropic"); "" otherwise
  std::string requested_model;  // a policy name ("auto", a tier, a model), else "<unknown:hash>"
  std::string model;            // the chosen model ("" when none was chosen)
  std::string tier;
  std::string backend;
  std::string rule;         // routing/DLP rule that decided; may be empty
  std::string sensitivity;  // level name
  struct Difficulty {
    std::optional<double> score;  // 0..1; absent when not classified
    std::string label;
    std::string domain;  // the classifier's domain; "" (and not written) when not classified
  } difficulty;
  std::vector<AuditFinding> findings;  // one entry per detector
  std::string outcome;                 // "forwarded" | "blocked" | "rejected" | "error" | ...
  unsigned status = 0;                 // HTTP status sent (0 in a decision record: not yet known)
  struct Tokens {
    uint64_t prompt = 0;
    uint64_t completion = 0;
    uint64_t cached = 0;  // prompt tokens read from the provider's cache; written only when > 0
  } tokens;
  double cost_usd = 0;
  double latency_ms = 0;
  // Shadow mode: the candidate policy's decision for this request, only when it differs from the
  // active policy's (`differs` names the fields: action, status, tier, backend, rule,
  // sensitivity, findings). Names from the candidate policy, never client strings.
  struct Shadow {
    std::string policy_version;
    std::string action;  // allow | redact | block | error
    unsigned status = 0;
    std::string tier;
    std::string backend;
    std::string rule;
    std::string sensitivity;
    std::vector<std::string> differs;
  };
  std::optional<Shadow> shadow;

  // Chain fields: assigned by AuditLog when the record is written; the caller's values are
  // ignored there.
  uint64_t seq = 0;       // 1 for the first record of a new log; +1 per record across files
  std::string boot_id;    // 32 hex chars, new per AuditLog::open (process start)
  std::string prev_hash;  // hash of the previous record; kAuditGenesisHash for seq 1
  std::string hash;       // see the file comment
};

// RFC 3339 UTC with milliseconds: "2026-11-26T08:05:43.123Z".
std::string formatAuditTime(std::chrono::system_clock::time_point time);
// Inverse of formatAuditTime (the "Z" form with exactly 3 decimals); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parseAuditTime(std::string_view text);

// The members from "phase" through "latency_ms", comma-separated, without braces: the part of
// the line that does not depend on the chain. AuditLog serializes it on the caller's thread.
std::string auditContentMembers(const AuditRecord& record);

// `{"seq":N,"boot_id":"...",<content>,"prev_hash":"..."}`: the bytes that are hashed.
std::string assembleAuditLine(uint64_t seq, std::string_view boot_id, std::string_view content,
                              std::string_view prev_hash);

// The canonical line of `record` without its hash member (uses seq, boot_id and prev_hash).
std::string canonicalAuditText(const AuditRecord& record);

// `text` (a line without hash) with `,"hash":"<hash>"` inserted before the final `}`.
std::string withAuditHash(std::string_view text, std::string_view hash);

// Lowercase hex SHA-256 of `text`, or HMAC-SHA256 keyed by `hmac_key` when it is not empty.
// Never fails for inputs below 2 GiB (OpenSSL failure there is a bug: the result is then "").
std::string auditHash(std::string_view text, std::string_view hmac_key);

// A stored line split for verification: `hashed` is the line with its final
// `,"hash":"<64 hex>"}` replaced by `}`; `hash` is the 64 hex characters. Fails
// (InvalidArgument) when the line does not end that way.
struct SplitAuditLine {
  std::string hashed;
  std::string hash;
};
Result<SplitAuditLine> splitAuditLine(std::string_view line);

// Parses a stored line (without its newline) back into a record. Fails (InvalidArgument, with a
// message naming the member) when the line is not a JSON object, lacks a chain member (seq,
// boot_id, prev_hash, hash) or has a member of the wrong type. Content members that are absent
// keep their defaults; unknown members are ignored (the hash covers them anyway).
Result<AuditRecord> parseAuditRecord(std::string_view line);

}  // namespace sy::observability
