// File helpers of the audit log, shared by AuditLog (continuing a chain at open, rotation) and
// by tools: rotated file names, listing a log's files in chain order, finding the first and last
// record of a file. Stateless functions; safe to call from any thread (they only read files,
// except syncParentDirectory which fsyncs a directory).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "observability/audit_record.h"

namespace sy::observability {

// The name a rotated file gets: `<path>.<UTC yyyymmddThhmmss>.<n>`, where n is the seq of the
// file's first record, so files sort into chain order by n even if the clock steps back.
std::string rotatedAuditPath(std::string_view path, std::chrono::system_clock::time_point when,
                             uint64_t first_seq);

// The files of the log at `path` in chain order: the rotated files (`<path>.<stamp>.<n>`, by n),
// then `path` itself when it exists. Unreadable directories give an empty list.
std::vector<std::string> listAuditFiles(const std::string& path);

// The files in chain order: sorted (stably) by the seq of their first record; files without a
// readable first record (empty, missing, or a torn first line) keep their order, last. Lets
// `audit verify audit.jsonl*` work although a shell glob sorts the live file first and ".14"
// before ".2". Reads at most 64 KiB of each file.
std::vector<std::string> sortAuditFilesByFirstSeq(std::vector<std::string> files);

// What AuditLog needs to know about an existing file to continue its chain.
struct AuditFileEnds {
  std::optional<AuditRecord> first;  // the first line, when it parses as a record
  std::optional<AuditRecord> last;   // the last line that parses, scanning back from the end
  std::string last_line;             // that line's text, for checking its hash
  bool missing_newline = false;      // the file does not end with '\n' (a torn last write)
  size_t skipped_lines = 0;          // unparsable lines after `last` (torn writes)
};

// Reads the ends of the open file `fd` of `size` bytes (pread: the offset is not moved). Fails
// (Unavailable, naming `path`) on a read error, or when the last 4 MiB of a larger file hold no
// record: the chain could not be continued from it.
Result<AuditFileEnds> readAuditFileEnds(int fd, uint64_t size, const std::string& path);
// Same, opening `path` read-only.
Result<AuditFileEnds> readAuditFileEnds(const std::string& path);

// fsync of the directory holding `path`, so that a created or renamed file survives a crash.
// Fails (Unavailable) with the reason.
Status syncParentDirectory(const std::string& path);

// rename(2) that never replaces an existing file (RENAME_NOREPLACE, or a check first on a
// filesystem without it). 0, or -1 with errno set (EEXIST when `to` exists).
int renameNoReplace(const std::string& from, const std::string& to);

// "what: reason" for the current errno, e.g. "audit.jsonl: open: Permission denied".
std::string errnoMessage(std::string_view what, int error_number);

}  // namespace sy::observability
