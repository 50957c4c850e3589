// Verification of audit log files (`switchyard audit verify`): the hash of every record, and the
// chain across records and files (seq +1, prev_hash = the previous record's hash; a new boot_id
// is fine when the chain links). Stateless and thread-safe; reads the files line by line, so a
// file of any size is checked in constant memory.
//
// Lines that do not parse as records:
//  - the final line of the last file, without a newline: a write cut short by a crash (or a
//    line being written right now). Reported as a warning; not a chain break.
//  - elsewhere: a torn write that a restart left behind (AuditLog continues the chain after
//    the last whole record). Accepted with a warning only when the record after it links to the
//    record before it, so nothing of the chain is missing; otherwise it is the problem reported.
// A chain that does not start at a new log's first record (seq 1, genesis prev_hash) is accepted
// with a warning: older files were not given (or were deleted). Deleting records at the end of
// the newest file cannot be detected from the files alone (keep the last hash elsewhere).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sy::observability {

struct VerifyResult {
  bool ok = false;
  uint64_t records = 0;               // records checked (up to the problem, when there is one)
  std::string problem;                // the first break: "file:line: record seq N: <what>"
  std::vector<std::string> warnings;  // "file:line: <what>": not chain breaks
};

// Verifies `files`, given in chain order (oldest rotated file first, the live file last), with
// `hmac_key` ("" = plain SHA-256). Reports the first modified record (hash mismatch), deleted
// record (seq gap), reordered records (seq out of order), inserted or duplicated record (seq
// repeats, or prev_hash does not link), unparsable line, or unreadable file. ok is false then.
VerifyResult verifyAuditFiles(const std::vector<std::string>& files, const std::string& hmac_key);

}  // namespace sy::observability
