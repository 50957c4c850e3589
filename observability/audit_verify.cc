#include "observability/audit_verify.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "observability/audit_file.h"
#include "observability/audit_record.h"

namespace sy::observability {
namespace {

struct Line {
  size_t file = 0;
  uint64_t number = 0;
  std::string text;  // without the newline
  bool has_newline = false;
};

// The lines of several files in order, with a one-line lookahead.
class LineStream {
 public:
  explicit LineStream(const std::vector<std::string>& files) : files_(files) {}
  ~LineStream() {
    if (file_ != nullptr) {
      std::fclose(file_);
    }
    std::free(buffer_);
  }
  LineStream(const LineStream&) = delete;
  LineStream& operator=(const LineStream&) = delete;

  // The next line; false at the end of the last file or on a read error (see error()).
  bool next(Line& line) {
    if (peeked_.has_value()) {
      line = std::move(*peeked_);
      peeked_.reset();
      return true;
    }
    return read(line);
  }
  // The line next() will return, or nullptr at the end.
  const Line* peek() {
    if (!peeked_.has_value()) {
      Line line;
      if (read(line)) {
        peeked_ = std::move(line);
      }
    }
    return peeked_.has_value() ? &*peeked_ : nullptr;
  }
  const std::string& error() const { return error_; }
  std::string where(const Line& line) const {
    return files_[line.file] + ":" + std::to_string(line.number);
  }

 private:
  bool read(Line& line) {
    while (error_.empty()) {
      if (file_ == nullptr) {
        if (next_file_ >= files_.size()) {
          return false;
        }
        current_ = next_file_++;
        line_number_ = 0;
        file_ = std::fopen(files_[current_].c_str(), "rb");
        if (file_ == nullptr) {
          error_ = errnoMessage(files_[current_] + ": cannot open", errno);
          return false;
        }
      }
      const ssize_t n = ::getline(&buffer_, &capacity_, file_);
      if (n < 0) {
        if (std::ferror(file_)) {
          error_ = errnoMessage(files_[current_] + ": read", errno);
        }
        std::fclose(file_);
        file_ = nullptr;
        continue;
      }
      line.file = current_;
      line.number = ++line_number_;
      line.has_newline = buffer_[n - 1] == '\n';
      line.text.assign(buffer_, static_cast<size_t>(n) - (line.has_newline ? 1 : 0));
      return true;
    }
    return false;
  }

  const std::vector<std::string>& files_;
  size_t next_file_ = 0;
  size_t current_ = 0;
  uint64_t line_number_ = 0;
  std::FILE* file_ = nullptr;
  char* buffer_ = nullptr;
  size_t capacity_ = 0;
  std::optional<Line> peeked_;
  std::string error_;
};

struct Parsed {
  SplitAuditLine split;
  AuditRecord record;
};

// The line as a record, or why it is not one.
Result<Parsed> parseLine(std::string_view text) {
  auto split = splitAuditLine(text);
  if (!split) {
    return std::unexpected(std::move(split.error()));
  }
  auto record = parseAuditRecord(text);
  if (!record) {
    return std::unexpected(std::move(record.error()));
  }
  return Parsed{std::move(*split), std::move(*record)};
}

// What is wrong with `record` coming after `prev`, or "" when it links.
std::string linkProblem(const AuditRecord& prev, const AuditRecord& record, LineStream& lines) {
  const std::string p = std::to_string(prev.seq);
  if (record.seq == prev.seq + 1) {
    if (record.prev_hash != prev.hash) {
      return "prev_hash does not match the hash of record seq " + p + " (record " + p +
             " was modified, or this record was inserted)";
    }
    return "";
  }
  if (record.seq == prev.seq) {
    return "seq repeats the previous record's: a record was inserted or duplicated";
  }
  if (record.seq < prev.seq) {
    return "seq goes back from " + p + ": records were reordered";
  }
  const uint64_t expected = prev.seq + 1;
  if (const Line* next = lines.peek(); next != nullptr) {
    if (auto following = parseAuditRecord(next->text); following && following->seq == expected) {
      return "comes before record seq " + std::to_string(expected) + ": records were reordered";
    }
  }
  const uint64_t last_missing = record.seq - 1;
  return expected == last_missing
             ? "record seq " + std::to_string(expected) + " is missing (deleted)"
             : "records seq " + std::to_string(expected) + ".." + std::to_string(last_missing) +
                   " are missing (deleted)";
}

}  // namespace

VerifyResult verifyAuditFiles(const std::vector<std::string>& files, const std::string& hmac_key) {
  VerifyResult result;
  LineStream lines(files);
  std::optional<AuditRecord> prev;
  std::optional<std::string> torn;  // first unparsable line since prev: "where: why"
  const auto fail = [&](std::string problem) {
    result.problem = std::move(problem);
    return result;
  };
  for (Line line; lines.next(line);) {
    const std::string where = lines.where(line);
    auto parsed = parseLine(line.text);
    if (!parsed) {
      if (!line.has_newline && lines.peek() == nullptr && lines.error().empty()) {
        if (torn.has_value()) {  // a crash while recovering from a crash: nothing follows
          result.warnings.push_back(*torn + ": a torn write before the truncated last line");
          torn.reset();
        }
        result.warnings.push_back(where + ": truncated last line (" +
                                  std::to_string(line.text.size()) +
                                  " bytes, no newline): a write cut short, not part of the chain");
        break;
      }
      if (!torn.has_value()) {
        torn = where + ": unparsable line (" + parsed.error().message + ")" +
               (prev ? " after record seq " + std::to_string(prev->seq) : std::string());
      }
      continue;
    }
    const AuditRecord& record = parsed->record;
    const std::string at = where + ": record seq " + std::to_string(record.seq) + ": ";
    if (record.hash != parsed->split.hash) {
      return fail(at + "more than one hash member");
    }
    if (auditHash(parsed->split.hashed, hmac_key) != parsed->split.hash) {
      return fail(at + "hash does not match the record (modified" +
                  (result.records == 0 ? std::string(", or a wrong or missing HMAC key)")
                                       : std::string(")")));
    }
    if (prev) {
      if (const std::string problem = linkProblem(*prev, record, lines); !problem.empty()) {
        return fail(torn.value_or(at + problem));
      }
    } else {
      if (torn.has_value()) {
        return fail(*torn);
      }
      if (record.seq != 1 || record.prev_hash != kAuditGenesisHash) {
        result.warnings.push_back(at +
                                  "the chain starts here, not at a new log's first record: "
                                  "older records were not given");
      }
    }
    if (torn.has_value()) {
      result.warnings.push_back(*torn + ": a torn write skipped (the chain links across it)");
      torn.reset();
    }
    prev = record;
    ++result.records;
  }
  if (!lines.error().empty()) {
    return fail(lines.error());
  }
  if (torn.has_value()) {
    return fail(*torn);
  }
  if (result.records == 0 && result.warnings.empty()) {
    result.warnings.push_back("no records in the files given");
  }
  result.ok = true;
  return result;
}

}  // namespace sy::observability
