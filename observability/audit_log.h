// The tamper-evident audit log: JSON lines (audit_record.h) hash-chained by seq and prev_hash,
// written by one dedicated thread with group commit (one write(2) and, in fsync mode, one
// fdatasync(2) per batch), rotated by size or age with the chain continuing across files.
// Thread-safe: append() and stats() may be called from any thread. The AuditLog owns its file
// descriptor and its writer thread; destroying it drains the queue, syncs and joins.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "observability/audit_file.h"
#include "observability/audit_record.h"

namespace sy::observability {

struct AuditConfig {
  enum class Durability {
    Fsync,  // done(ok) only after fdatasync: the record survives a crash or power loss
    Batch,  // done(ok) once write(2) returned: survives a process crash, not a power loss
            // (synced at most once a second while writing, at rotation and at close)
  };
  std::string path;  // the live file; rotated files sit next to it (audit_file.h)
  Durability durability = Durability::Fsync;
  std::string hmac_key;  // the key itself ("" = plain SHA-256), not its env name
  // Rotation is checked before each batch is written, so a file may pass rotate_bytes by one
  // batch. The age counts from the time of the file's first record (or its creation).
  uint64_t rotate_bytes = 0;           // rotate once the file reaches this size; 0 = never
  std::chrono::seconds rotate_age{0};  // rotate once the file is this old; 0 = never
  // Lines to stdout (log collectors): no file, no fsync, no rotation, and each process starts a
  // new chain (seq 1), since there is no file to continue from.
  bool to_stdout = false;
  size_t max_queued = 65536;  // records waiting for the writer; more are refused
};

struct AuditLogStats {
  uint64_t records_written = 0;  // records handed to the kernel (and synced in fsync mode)
  uint64_t records_failed = 0;   // records whose done() got an error (write, sync, queue full)
  uint64_t write_errors = 0;     // failed write(2)/fdatasync(2) calls and failed rotations
  uint64_t batches = 0;          // write(2) batches that succeeded
  uint64_t fsyncs = 0;           // fdatasync(2) calls on the log file
  uint64_t rotations = 0;
  std::chrono::nanoseconds last_fsync_latency{0};
};

class AuditLog {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  using Done = std::function<void(Status)>;

  // Opens (or creates, mode 0640) config.path and starts the writer thread. An existing log is
  // continued: seq = last record's seq + 1 and prev_hash = its hash, taken from the last line of
  // the file that parses (or of the newest rotated file when the live one has no record). A
  // torn last line is logged as a warning and gets a newline before the next record. A new
  // random boot_id is drawn every time. `clock` (tests) defaults to system_clock::now. Does
  // blocking file I/O: call it at startup, not on a worker. Fails with InvalidArgument/Config
  // (empty path) or Unavailable (open, read, directory fsync, random generator, thread), with
  // a message naming the path.
  static Result<std::unique_ptr<AuditLog>> open(AuditConfig config, Clock clock = {});

  // Drains the queue (every pending done() is called), syncs, closes and joins the writer.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // How long `done` waits: until the record is durable as the log's durability says (synced in
  // Fsync mode), or only until it is written (handed to the kernel: it survives a crash of the
  // process, which is what an answer the client already received needs). A batch of Written
  // records is not synced on its own in Fsync mode; it is synced with the next Durable record,
  // or within a second.
  // Durable records wake the writer at once. Written records are gathered: the first of a batch
  // wakes the writer, which takes the queue kGatherWindow later, or earlier when kGatherRecords
  // are queued, a Durable record arrives or someone calls expedite() (a request about to answer
  // whose record is not written yet). One wake-up and one write(2) then serve many records.
  enum class Wait { Durable, Written };
  static constexpr size_t kGatherRecords = 64;
  static constexpr std::chrono::milliseconds kGatherWindow{2};

  // Wakes the writer now for whatever is queued.
  void expedite();

  // Queues `record` (its `time` is set to now when empty; the chain fields are assigned by the
  // writer in queue order, so the chain order is the write order). `done` is called exactly
  // once: ok when the record's line was handed to the kernel (Batch, stdout, Wait::Written) or
  // synced (Fsync with Wait::Durable);
  // an error (Unavailable) when the write or sync failed or the queue is full. It runs on the
  // writer thread (or inline, on a full queue): it must be quick and must not destroy this
  // AuditLog. A failed batch is truncated away and its seq numbers reused, so the chain on disk
  // has no hole. Never blocks on I/O.
  void append(AuditRecord record, Done done, Wait wait = Wait::Durable);

  AuditLogStats stats() const;
  const std::string& bootId() const { return boot_id_; }

 private:
  struct Pending {
    std::string content;  // auditContentMembers()
    Done done;
    bool needs_sync = true;
  };

  AuditLog(AuditConfig config, Clock clock, std::string boot_id);
  Status openFile();
  Status continueChain(AuditFileEnds ends);
  void writerLoop();
  void writeBatch(std::vector<Pending>& batch);
  // Assigns seq and prev_hash to each record in queue order and hashes it; the bytes to write.
  std::string chainBatch(const std::vector<Pending>& batch);
  Status writeAll(std::string_view bytes, size_t& written);
  Status syncFile();
  void maybeRotate(std::chrono::system_clock::time_point now);
  void rotate(std::chrono::system_clock::time_point now);
  void closeFile();

  const AuditConfig config_;
  const Clock clock_;
  const std::string boot_id_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Pending> queue_;  // guarded by mutex_
  bool stopping_ = false;       // guarded by mutex_
  bool urgent_ = false;         // guarded by mutex_: take the queue now

  // Writer thread only (and open(), before the thread starts).
  int fd_ = -1;
  bool regular_file_ = false;  // rotation, tail reading and fdatasync only apply to files
  uint64_t next_seq_ = 1;
  std::string last_hash_{kAuditGenesisHash};
  uint64_t file_bytes_ = 0;
  uint64_t file_first_seq_ = 0;  // 0 = no record in the current file yet
  std::chrono::system_clock::time_point file_started_;
  std::chrono::steady_clock::time_point last_sync_;
  bool pending_newline_ = false;                           // the file ends with a torn line
  bool dirty_ = false;                                     // written since the last fdatasync
  std::chrono::system_clock::time_point rotate_retry_at_;  // after a failed rotation

  std::atomic<uint64_t> records_written_{0};
  std::atomic<uint64_t> records_failed_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> fsyncs_{0};
  std::atomic<uint64_t> rotations_{0};
  std::atomic<int64_t> last_fsync_ns_{0};

  std::thread writer_;  // last: started once everything above is initialized
};

}  // namespace sy::observability
