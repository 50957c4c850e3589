// AuditLog: the chain under concurrent appends, group commit (counted through stats(), never
// timed), reopening, torn writes, rotation, write errors and stdout mode. Waits on futures only.
#include "observability/audit_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "observability/audit_file.h"
#include "observability/audit_verify.h"
#include "tests/unit/observability/audit_test_support.h"

namespace sy::observability {
namespace {

using namespace testing;  // NOLINT: the helpers of audit_test_support.h
using std::chrono::seconds;
using std::chrono::system_clock;

AuditConfig fileConfig(const TempDir& dir) {
  AuditConfig config;
  config.path = dir.file("audit.jsonl");
  return config;
}

std::vector<AuditRecord> parsedRecords(const std::string& path) {
  std::vector<AuditRecord> records;
  for (const std::string& line : readLines(path)) {
    auto record = parseAuditRecord(line);
    EXPECT_TRUE(record.has_value()) << line;
    if (record) {
      records.push_back(std::move(*record));
    }
  }
  return records;
}

void expectVerifies(const std::vector<std::string>& files, uint64_t records,
                    const std::string& key = "") {
  const VerifyResult result = verifyAuditFiles(files, key);
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.records, records);
}

TEST(AuditLogTest, ThousandRecordsFromFourThreadsFormOneVerifiableChain) {
  TempDir dir;
  const AuditConfig config = fileConfig(dir);
  auto log = openLog(config);
  ASSERT_NE(log, nullptr);
  std::vector<std::thread> threads;
  std::vector<std::vector<std::future<Status>>> futures(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        auto promise = std::make_shared<std::promise<Status>>();
        futures[t].push_back(promise->get_future());
        log->append(sampleRecord(t * 250 + i), [promise](Status s) { promise->set_value(s); });
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (auto& per_thread : futures) {
    for (auto& future : per_thread) {
      ASSERT_TRUE(future.get().has_value());
    }
  }
  const AuditLogStats stats = log->stats();
  EXPECT_EQ(stats.records_written, 1000u);
  EXPECT_EQ(stats.fsyncs, stats.batches);
  std::printf(
      "[ figures  ] 1000 records from 4 threads: %llu fsyncs, %.1f records per fsync, "
      "last fsync %lld us\n",
      static_cast<unsigned long long>(stats.fsyncs), 1000.0 / stats.fsyncs,
      static_cast<long long>(stats.last_fsync_latency.count() / 1000));
  const std::string boot_id = log->bootId();
  log.reset();
  const std::vector<AuditRecord> records = parsedRecords(config.path);
  ASSERT_EQ(records.size(), 1000u);
  EXPECT_EQ(records.front().prev_hash, kAuditGenesisHash);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].seq, i + 1);
    EXPECT_EQ(records[i].boot_id, boot_id);
  }
  expectVerifies({config.path}, 1000);
}

TEST(AuditLogTest, FsyncModeCommitsEveryQueuedRecordWithOneFsync) {
  TempDir dir;
  auto log = openLog(fileConfig(dir));
  ASSERT_NE(log, nullptr);
  // Hold the writer inside the first record's callback while 99 more records queue up.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Status> first;
  std::future<Status> first_done = first.get_future();
  log->append(sampleRecord(0), [&first, released](Status status) {
    first.set_value(status);
    released.wait();
  });
  ASSERT_TRUE(first_done.get().has_value());
  std::vector<std::future<Status>> rest;
  for (int i = 1; i < 100; ++i) {
    auto promise = std::make_shared<std::promise<Status>>();
    rest.push_back(promise->get_future());
    log->append(sampleRecord(i), [promise](Status status) { promise->set_value(status); });
  }
  EXPECT_EQ(log->stats().records_written, 1u);
  release.set_value();
  for (auto& future : rest) {
    ASSERT_TRUE(future.get().has_value());
  }
  const AuditLogStats stats = log->stats();
  EXPECT_EQ(stats.records_written, 100u);
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(stats.fsyncs, 2u);  // 100 records, 2 fsyncs: 99 of them shared one
  EXPECT_GT(stats.last_fsync_latency.count(), 0);
}

TEST(AuditLogTest, BatchModeAnswersOnceTheKernelHasTheLine) {
  TempDir dir;
  AuditConfig config = fileConfig(dir);
  config.durability = AuditConfig::Durability::Batch;
  auto log = openLog(config);
  ASSERT_NE(log, nullptr);
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(appendAndWait(*log, sampleRecord(i)).has_value());
  }
  const AuditLogStats stats = log->stats();
  EXPECT_EQ(stats.records_written, 50u);
  EXPECT_EQ(stats.batches, 50u);
  EXPECT_LT(stats.fsyncs, stats.records_written);  // periodic syncs only: at most one a second
  log.reset();
  expectVerifies({config.path}, 50);
}

TEST(AuditLogTest, FsyncModeSyncsOnlyForRecordsThatMustBeDurable) {
  TempDir dir;
  auto log = openLog(fileConfig(dir));
  ASSERT_NE(log, nullptr);
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(appendAndWait(*log, sampleRecord(i), AuditLog::Wait::Written).has_value());
  }
  AuditLogStats stats = log->stats();
  EXPECT_EQ(stats.records_written, 20u);
  EXPECT_EQ(stats.batches, 20u);
  EXPECT_LT(stats.fsyncs, 20u);  // written records wait for the kernel only (periodic syncs)
  const uint64_t before = stats.fsyncs;
  ASSERT_TRUE(appendAndWait(*log, sampleRecord(21), AuditLog::Wait::Durable).has_value());
  stats = log->stats();
  EXPECT_EQ(stats.fsyncs, before + 1);  // a durable record syncs its batch
  log.reset();
  expectVerifies({fileConfig(dir).path}, 21);
}

TEST(AuditLogTest, WrittenRecordsAreGatheredIntoFewerWrites) {
  TempDir dir;
  auto log = openLog(fileConfig(dir));
  ASSERT_NE(log, nullptr);
  std::vector<std::future<Status>> done;
  for (int i = 1; i <= 10; ++i) {
    auto promise = std::make_shared<std::promise<Status>>();
    done.push_back(promise->get_future());
    log->append(
        sampleRecord(i), [promise](Status status) { promise->set_value(status); },
        AuditLog::Wait::Written);
  }
  log->expedite();  // whatever the gather window still holds goes now
  for (auto& future : done) {
    ASSERT_TRUE(future.get().has_value());
  }
  const AuditLogStats stats = log->stats();
  EXPECT_EQ(stats.records_written, 10u);
  EXPECT_LT(stats.batches, 10u);  // one wake-up and one write(2) served several records
  log.reset();
  expectVerifies({fileConfig(dir).path}, 10);
}

TEST(AuditLogTest, ReopenContinuesTheChainWithANewBootId) {
  TempDir dir;
  const AuditConfig config = fileConfig(dir);
  std::string first_boot;
  {
    auto log = openLog(config);
    ASSERT_NE(log, nullptr);
    first_boot = log->bootId();
    for (int i = 1; i <= 5; ++i) {
      ASSERT_TRUE(appendAndWait(*log, sampleRecord(i)).has_value());
    }
  }
  auto log = openLog(config);
  ASSERT_NE(log, nullptr);
  EXPECT_NE(log->bootId(), first_boot);
  EXPECT_EQ(log->bootId().size(), 32u);
  for (int i = 6; i <= 10; ++i) {
    ASSERT_TRUE(appendAndWait(*log, sampleRecord(i)).has_value());
  }
  log.reset();
  const std::vector<AuditRecord> records = parsedRecords(config.path);
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records[5].seq, 6u);
  EXPECT_EQ(records[5].prev_hash, records[4].hash);
  EXPECT_EQ(records[4].boot_id, first_boot);
  EXPECT_NE(records[5].boot_id, first_boot);
  expectVerifies({config.path}, 10);
}

TEST(AuditLogTest, ReopenAfterATornWriteEndsTheTornLineAndChainsAroundIt) {
  TempDir dir;
  const AuditConfig config = fileConfig(dir);
  writeRecords(config, 5);
  const std::string whole = readFile(config.path);
  writeFile(config.path, whole + "{\"seq\":6,\"boot_id\":\"ab");  // a write cut short
  writeRecords(config, 3, 6);
  const std::vector<std::string> lines = readLines(config.path);
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[5], "{\"seq\":6,\"boot_id\":\"ab");
  const auto sixth = parseAuditRecord(lines[6]);
  ASSERT_TRUE(sixth.has_value());
  EXPECT_EQ(sixth->seq, 6u);
  const VerifyResult result = verifyAuditFiles({config.path}, "");
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.records, 8u);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find("audit.jsonl:6: unparsable line"), std::string::npos)
      << result.warnings[0];
  EXPECT_NE(result.warnings[0].find("torn write skipped"), std::string::npos);
}

TEST(AuditLogTest, ReopenAfterALostFinalNewlineContinuesFromThatRecord) {
  TempDir dir;
  const AuditConfig config = fileConfig(dir);
  writeRecords(config, 5);
  std::string text = readFile(config.path);
  text.pop_back();
  writeFile(config.path, text);
  writeRecords(config, 1, 6);
  const VerifyResult result = verifyAuditFiles({config.path}, "");
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.records, 6u);
  EXPECT_TRUE(result.warnings.empty());
}

TEST(AuditLogTest, RotationBySizeKeepsTheChainAcrossFiles) {
  TempDir dir;
  AuditConfig config = fileConfig(dir);
  config.rotate_bytes = 2000;
  writeRecords(config, 40);
  const std::vector<std::string> files = listAuditFiles(config.path);
  ASSERT_GE(files.size(), 5u);
  EXPECT_EQ(files.back(), config.path);
  for (size_t i = 0; i + 1 < files.size(); ++i) {
    const std::string text = readFile(files[i]);
    EXPECT_GE(text.size(), 2000u) << files[i];
    const auto first = parseAuditRecord(readLines(files[i]).front());
    ASSERT_TRUE(first.has_value());
    EXPECT_TRUE(files[i].ends_with("." + std::to_string(first->seq))) << files[i];
  }
  expectVerifies(files, 40);
  std::vector<std::string> missing_one = files;
  missing_one.erase(missing_one.begin() + 1);
  const VerifyResult result = verifyAuditFiles(missing_one, "");
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.problem.find("missing (deleted)"), std::string::npos) << result.problem;
}

TEST(AuditLogTest, RotationByAgeFollowsTheClock) {
  TempDir dir;
  AuditConfig config = fileConfig(dir);
  config.rotate_age = seconds(60);
  std::atomic<int64_t> now{1767323045};
  auto log = openLog(config, [&now] { return system_clock::time_point(seconds(now.load())); });
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(appendAndWait(*log, sampleRecord(1)).has_value());
  ASSERT_TRUE(appendAndWait(*log, sampleRecord(2)).has_value());
  now += 61;
  ASSERT_TRUE(appendAndWait(*log, sampleRecord(3)).has_value());
  now += 30;
  ASSERT_TRUE(appendAndWait(*log, sampleRecord(4)).has_value());
  EXPECT_EQ(log->stats().rotations, 1u);
  log.reset();
  const std::vector<std::string> files = listAuditFiles(config.path);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], config.path + ".20260102T030506.1");  // the time of the rotation
  EXPECT_EQ(readLines(files[0]).size(), 2u);
  expectVerifies(files, 4);
}

TEST(AuditLogTest, ReopenContinuesFromTheNewestRotatedFileWhenTheLiveFileIsGone) {
  TempDir dir;
  AuditConfig config = fileConfig(dir);
  config.rotate_bytes = 2000;
  writeRecords(config, 10);
  // A crash between renaming the live file and creating its successor.
  const auto first = parseAuditRecord(readLines(config.path).front());
  ASSERT_TRUE(first.has_value());
  std::filesystem::rename(config.path,
                          rotatedAuditPath(config.path, system_clock::now(), first->seq));
  writeRecords(config, 2, 11);
  expectVerifies(listAuditFiles(config.path), 12);
}

TEST(AuditLogTest, WriteErrorsReachDoneAndTheStats) {
  AuditConfig config;
  config.path = "/dev/full";
  auto log = openLog(config);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 2; ++i) {
    const Status status = appendAndWait(*log, sampleRecord(i));
    ASSERT_FALSE(status.has_value());
    EXPECT_EQ(status.error().code, ErrorCode::Unavailable);
    EXPECT_NE(status.error().message.find("No space left on device"), std::string::npos)
        << status.error().message;
  }
  const AuditLogStats stats = log->stats();
  EXPECT_EQ(stats.write_errors, 2u);
  EXPECT_EQ(stats.records_failed, 2u);
  EXPECT_EQ(stats.records_written, 0u);
}

// A file size limit makes write(2) stop halfway through a record (then fail with EFBIG).
TEST(AuditLogTest, AFailedWriteIsTruncatedAwaySoTheChainHasNoHole) {
  TempDir dir;
  const AuditConfig config = fileConfig(dir);
  auto log = openLog(config);
  ASSERT_NE(log, nullptr);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(appendAndWait(*log, sampleRecord(i)).has_value());
  }
  const size_t size = readFile(config.path).size();
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = size + 200;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  const Status failed = appendAndWait(*log, sampleRecord(4));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().message.find("File too large"), std::string::npos)
      << failed.error().message;
  EXPECT_EQ(readFile(config.path).size(), size);  // the partial line was truncated away
  for (int i = 5; i <= 6; ++i) {
    ASSERT_TRUE(appendAndWait(*log, sampleRecord(i)).has_value());
  }
  EXPECT_EQ(log->stats().write_errors, 1u);
  log.reset();
  const std::vector<AuditRecord> records = parsedRecords(config.path);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[3].seq, 4u);
  EXPECT_EQ(records[3].request_id, "req-5");
  expectVerifies({config.path}, 5);
}

TEST(AuditLogTest, AFullQueueRefusesTheRecordInline) {
  TempDir dir;
  AuditConfig config = fileConfig(dir);
  config.max_queued = 1;
  auto log = openLog(config);
  ASSERT_NE(log, nullptr);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Status> first;
  std::future<Status> first_done = first.get_future();
  log->append(sampleRecord(0), [&first, released](Status status) {
    first.set_value(status);
    released.wait();
  });
  ASSERT_TRUE(first_done.get().has_value());
  std::promise<Status> queued;
  log->append(sampleRecord(1), [&queued](Status status) { queued.set_value(status); });
  std::optional<Status> refused;
  log->append(sampleRecord(2), [&refused](Status status) { refused = status; });
  ASSERT_TRUE(refused.has_value());  // called inline, before append returned
  ASSERT_FALSE(refused->has_value());
  EXPECT_NE(refused->error().message.find("queue full"), std::string::npos);
  release.set_value();
  EXPECT_TRUE(queued.get_future().get().has_value());
  EXPECT_EQ(log->stats().records_failed, 1u);
  log.reset();
  expectVerifies({config.path}, 2);
}

TEST(AuditLogTest, StdoutModeWritesTheChainToStdoutWithoutFsync) {
  TempDir dir;
  const std::string captured = dir.file("stdout.jsonl");
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  const int fd = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ::dup2(fd, STDOUT_FILENO);
  ::close(fd);
  AuditConfig config;
  config.to_stdout = true;
  auto log = openLog(config);
  for (int i = 1; log != nullptr && i <= 3; ++i) {
    EXPECT_TRUE(appendAndWait(*log, sampleRecord(i)).has_value());
  }
  const uint64_t fsyncs = log ? log->stats().fsyncs : 99;
  log.reset();
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  EXPECT_EQ(fsyncs, 0u);
  expectVerifies({captured}, 3);
}

}  // namespace
}  // namespace sy::observability
