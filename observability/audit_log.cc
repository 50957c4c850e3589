#include "observability/audit_log.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include "observability/audit_file.h"
#include "observability/logging.h"

namespace sy::observability {
namespace {

using std::chrono::system_clock;

// A failed rotation is retried after this long, not before every batch.
constexpr std::chrono::seconds kRotateRetry{60};
// In batch mode the file is synced at most this often (when records are being written).
constexpr std::chrono::seconds kBatchSyncInterval{1};

std::unexpected<Error> unavailable(std::string message) {
  return makeError(ErrorCode::Unavailable, ErrorSource::Internal, std::move(message));
}

void callDone(const AuditLog::Done& done, const Status& status) {
  if (!done) {
    return;
  }
  try {
    done(status);
  } catch (...) {
    // The writer thread must survive a careless callback; the record itself is written.
    log::error("audit: a done callback threw an exception");
  }
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(AuditConfig config, Clock clock) {
  if (!config.to_stdout && config.path.empty()) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "audit.path: empty (name a file, or write to stdout)");
  }
  if (!clock) {
    clock = [] { return system_clock::now(); };
  }
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) {
    return unavailable("audit: the random generator failed (boot_id)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string boot_id;
  for (unsigned char byte : random) {
    boot_id.push_back(kHex[byte >> 4]);
    boot_id.push_back(kHex[byte & 0xf]);
  }
  std::unique_ptr<AuditLog> audit_log(
      new AuditLog(std::move(config), std::move(clock), std::move(boot_id)));
  if (Status status = audit_log->openFile(); !status) {
    return std::unexpected(std::move(status.error()));
  }
  try {
    audit_log->writer_ = std::thread([raw = audit_log.get()] { raw->writerLoop(); });
  } catch (const std::system_error& error) {
    return unavailable(std::string("audit: cannot start the writer thread: ") + error.what());
  }
  return audit_log;
}

AuditLog::AuditLog(AuditConfig config, Clock clock, std::string boot_id)
    : config_(std::move(config)), clock_(std::move(clock)), boot_id_(std::move(boot_id)) {}

AuditLog::~AuditLog() {
  if (!writer_.joinable()) {
    closeFile();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

Status AuditLog::openFile() {
  last_sync_ = std::chrono::steady_clock::now();
  file_started_ = clock_();
  if (config_.to_stdout) {
    fd_ = STDOUT_FILENO;  // a pipe or a terminal: no rotation, no sync, and a new chain per boot
    return {};
  }
  const std::string& path = config_.path;
  struct stat st {};
  const bool created = ::stat(path.c_str(), &st) != 0 && errno == ENOENT;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    return unavailable(errnoMessage(path + ": open", errno));
  }
  if (::fstat(fd_, &st) != 0) {
    return unavailable(errnoMessage(path + ": stat", errno));
  }
  regular_file_ = S_ISREG(st.st_mode);
  AuditFileEnds ends;
  if (regular_file_) {
    file_bytes_ = static_cast<uint64_t>(st.st_size);
    auto read = readAuditFileEnds(fd_, file_bytes_, path);
    if (!read) {
      return std::unexpected(std::move(read.error()));
    }
    ends = std::move(*read);
  }
  if (Status continued = continueChain(std::move(ends)); !continued) {
    return continued;
  }
  if (created) {
    if (Status synced = syncParentDirectory(path); !synced) {
      return synced;
    }
  }
  log::info("audit log opened",
            {{"path", path}, {"next_seq", std::to_string(next_seq_)}, {"boot_id", boot_id_}});
  return {};
}

Status AuditLog::continueChain(AuditFileEnds ends) {
  const std::string& path = config_.path;
  pending_newline_ = ends.missing_newline;
  if (ends.skipped_lines > 0) {
    log::warn(
        "audit: torn line at the end of the log (a crash during a write); the chain "
        "continues from the last whole record",
        {{"path", path}, {"torn_lines", std::to_string(ends.skipped_lines)}});
  } else if (ends.missing_newline) {
    log::warn("audit: the last record lacks its newline (a crash during a write); one is added",
              {{"path", path}});
  }
  std::string source = path;
  if (!ends.last) {
    // No record here (a new file, or one whose first write was torn): the chain may continue
    // from the newest rotated file.
    const std::vector<std::string> files = listAuditFiles(path);
    for (auto it = files.rbegin(); it != files.rend(); ++it) {
      if (*it == path) {
        continue;
      }
      auto rotated = readAuditFileEnds(*it);
      if (!rotated) {
        return std::unexpected(std::move(rotated.error()));
      }
      ends.last = std::move(rotated->last);
      ends.last_line = std::move(rotated->last_line);
      source = *it;
      break;
    }
  } else {
    file_first_seq_ = ends.first ? ends.first->seq : ends.last->seq;
    if (ends.first) {
      file_started_ = parseAuditTime(ends.first->time).value_or(file_started_);
    }
  }
  if (ends.last) {
    next_seq_ = ends.last->seq + 1;
    last_hash_ = ends.last->hash;
    auto split = splitAuditLine(ends.last_line);
    if (split && auditHash(split->hashed, config_.hmac_key) != split->hash) {
      log::warn(
          "audit: the last record does not verify with the configured key (was the HMAC "
          "key changed?); the chain continues from it",
          {{"path", source}, {"seq", std::to_string(ends.last->seq)}});
    }
  }
  return {};
}

void AuditLog::append(AuditRecord record, Done done, Wait wait) {
  if (record.time.empty()) {
    record.time = formatAuditTime(clock_());
  }
  Pending pending{auditContentMembers(record), std::move(done), wait == Wait::Durable};
  size_t queued = 0;
  bool closing = false;
  bool accepted = false;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queued = queue_.size();
    closing = stopping_;
    if (!closing && queued < config_.max_queued) {
      queue_.push_back(std::move(pending));
      accepted = true;
      // The first record of a batch wakes the writer, which then gathers for kGatherWindow.
      wake = wait == Wait::Durable || queued == 0 || queue_.size() >= kGatherRecords;
      urgent_ = urgent_ || wait == Wait::Durable;
    }
  }
  if (accepted) {
    if (wake) {
      wake_.notify_one();
    }
    return;
  }
  records_failed_.fetch_add(1, std::memory_order_relaxed);
  callDone(pending.done, unavailable(closing ? std::string("audit: the log is closing")
                                             : "audit: queue full (" + std::to_string(queued) +
                                                   " records): the writer cannot keep up"));
}

void AuditLog::expedite() {
  {
    std::lock_guard lock(mutex_);
    if (urgent_ || queue_.empty()) {
      return;  // already on its way
    }
    urgent_ = true;
  }
  wake_.notify_one();
}

AuditLogStats AuditLog::stats() const {
  AuditLogStats stats;
  stats.records_written = records_written_.load(std::memory_order_relaxed);
  stats.records_failed = records_failed_.load(std::memory_order_relaxed);
  stats.write_errors = write_errors_.load(std::memory_order_relaxed);
  stats.batches = batches_.load(std::memory_order_relaxed);
  stats.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  stats.rotations = rotations_.load(std::memory_order_relaxed);
  stats.last_fsync_latency =
      std::chrono::nanoseconds(last_fsync_ns_.load(std::memory_order_relaxed));
  return stats;
}

void AuditLog::writerLoop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      // Records nobody waits for yet: gather more for a moment (see Wait).
      wake_.wait_for(lock, kGatherWindow, [&] {
        return stopping_ || urgent_ || queue_.size() >= kGatherRecords;
      });
      if (queue_.empty()) {
        break;  // stopping, and everything queued has been written
      }
      urgent_ = false;
      batch.swap(queue_);
    }
    writeBatch(batch);
    batch.clear();
  }
  closeFile();
}

void AuditLog::writeBatch(std::vector<Pending>& batch) {
  maybeRotate(clock_());
  const uint64_t first_seq = next_seq_;
  const std::string first_prev_hash = last_hash_;
  const std::string buffer = chainBatch(batch);
  if (regular_file_) {
    // The real end (not our count), so a rollback never cuts what someone else appended.
    if (const off_t end = ::lseek(fd_, 0, SEEK_END); end >= 0) {
      file_bytes_ = static_cast<uint64_t>(end);
    }
  }
  size_t written = 0;
  Status status = writeAll(buffer, written);
  const bool sync_now =
      config_.durability == AuditConfig::Durability::Fsync &&
      std::any_of(batch.begin(), batch.end(), [](const Pending& p) { return p.needs_sync; });
  if (status && sync_now) {
    status = syncFile();
  }
  if (status) {
    file_first_seq_ = file_first_seq_ == 0 ? first_seq : file_first_seq_;
    file_bytes_ += buffer.size();
    pending_newline_ = false;
    records_written_.fetch_add(batch.size(), std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // Nobody was told these records exist: take them back so the chain on disk has no hole.
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    records_failed_.fetch_add(batch.size(), std::memory_order_relaxed);
    next_seq_ = first_seq;
    last_hash_ = first_prev_hash;
    if (written > 0 && !(regular_file_ && ::ftruncate(fd_, static_cast<off_t>(file_bytes_)) == 0)) {
      pending_newline_ = true;  // a partial line stays behind: the verifier skips it
    }
    log::error("audit: writing records failed; their requests are told so",
               {{"path", config_.to_stdout ? "stdout" : config_.path},
                {"records", std::to_string(batch.size())},
                {"error", status.error().message}});
  }
  for (Pending& pending : batch) {
    callDone(pending.done, status);
  }
  if (status && dirty_ && std::chrono::steady_clock::now() - last_sync_ >= kBatchSyncInterval) {
    if (Status synced = syncFile(); !synced) {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      log::error("audit: fdatasync failed", {{"error", synced.error().message}});
    }
  }
}

std::string AuditLog::chainBatch(const std::vector<Pending>& batch) {
  std::string buffer;
  buffer.reserve(batch.size() * 700 + 1);
  if (pending_newline_) {
    buffer.push_back('\n');  // ends the torn line so that the next record starts a line
  }
  for (const Pending& pending : batch) {
    const std::string text = assembleAuditLine(next_seq_, boot_id_, pending.content, last_hash_);
    last_hash_ = auditHash(text, config_.hmac_key);
    buffer += withAuditHash(text, last_hash_);
    buffer.push_back('\n');
    ++next_seq_;
  }
  return buffer;
}

Status AuditLog::writeAll(std::string_view bytes, size_t& written) {
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int error_number = n < 0 ? errno : EIO;
      return unavailable(errnoMessage(
          "audit: " + (config_.to_stdout ? std::string("stdout") : config_.path) + ": write",
          error_number));
    }
    written += static_cast<size_t>(n);
    dirty_ = regular_file_;
  }
  return {};
}

Status AuditLog::syncFile() {
  if (!regular_file_) {
    return {};
  }
  const auto start = std::chrono::steady_clock::now();
  const int rc = ::fdatasync(fd_);
  const int error_number = errno;
  last_sync_ = std::chrono::steady_clock::now();
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  last_fsync_ns_.store(std::chrono::nanoseconds(last_sync_ - start).count(),
                       std::memory_order_relaxed);
  if (rc != 0) {
    return unavailable(errnoMessage("audit: " + config_.path + ": fdatasync", error_number));
  }
  dirty_ = false;
  return {};
}

void AuditLog::maybeRotate(system_clock::time_point now) {
  if (!regular_file_ || file_bytes_ == 0 || now < rotate_retry_at_) {
    return;
  }
  const bool by_size = config_.rotate_bytes > 0 && file_bytes_ >= config_.rotate_bytes;
  const bool by_age = config_.rotate_age.count() > 0 && now - file_started_ >= config_.rotate_age;
  if (by_size || by_age) {
    rotate(now);
  }
}

void AuditLog::rotate(system_clock::time_point now) {
  const std::string& path = config_.path;
  if (dirty_) {
    if (Status synced = syncFile(); !synced) {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      log::error("audit: fdatasync before rotation failed", {{"error", synced.error().message}});
    }
  }
  const std::string target =
      rotatedAuditPath(path, now, file_first_seq_ != 0 ? file_first_seq_ : next_seq_);
  const auto fail = [&](std::string error) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    rotate_retry_at_ = now + kRotateRetry;
    log::error("audit: rotation failed; records still go to the current file",
               {{"path", path}, {"rotated_to", target}, {"error", error}});
  };
  if (renameNoReplace(path, target) != 0) {
    return fail(errnoMessage("rename", errno));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    const int error_number = errno;
    ::rename(target.c_str(), path.c_str());  // put it back; keep appending to the old file
    return fail(errnoMessage("open", error_number));
  }
  ::close(fd_);
  fd_ = fd;
  file_bytes_ = 0;
  file_first_seq_ = 0;
  file_started_ = now;
  pending_newline_ = false;  // a torn line stays at the end of the rotated file
  if (Status synced = syncParentDirectory(path); !synced) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    log::error("audit: fsync of the log directory failed", {{"error", synced.error().message}});
  }
  rotations_.fetch_add(1, std::memory_order_relaxed);
  log::info("audit log rotated", {{"path", path}, {"rotated_to", target}});
}

void AuditLog::closeFile() {
  if (fd_ < 0) {
    return;
  }
  if (dirty_) {
    if (Status synced = syncFile(); !synced) {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      log::error("audit: fdatasync at close failed", {{"error", synced.error().message}});
    }
  }
  if (fd_ != STDOUT_FILENO) {
    ::close(fd_);
  }
  fd_ = -1;
}

}  // namespace sy::observability
