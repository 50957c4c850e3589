// PolicyWatcher on real files in a temporary directory: an in-place write, a rename-over-write
// (again and again: nothing to re-arm) and an included file in another directory each call back
// once per burst; other files in the same directory do not.
#include "gateway/server/transport/policy_watcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace sy::server {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class PolicyWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = fs::temp_directory_path() / "sy-watch-XXXXXX";
    dir_ = ::mkdtemp(pattern.data());
    fs::create_directories(dir_ / "teams");
    main_ = dir_ / "switchyard.yaml";
    team_ = dir_ / "teams" / "team.yaml";
    write(main_, "a: 1\n");
    write(team_, "b: 1\n");
    auto watcher = PolicyWatcher::create(io_, milliseconds(50), [this] { ++calls_; });
    ASSERT_TRUE(watcher.has_value()) << watcher.error().message;
    watcher_ = std::move(*watcher);
    ASSERT_TRUE(watcher_->watch({main_.string(), team_.string()}).has_value());
  }
  void TearDown() override {
    watcher_.reset();
    fs::remove_all(dir_);
  }

  static void write(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::trunc) << text;
  }
  static void renameOver(const fs::path& file, const std::string& text) {
    write(file.string() + ".tmp", text);
    fs::rename(file.string() + ".tmp", file);
  }
  // Runs the loop long enough for the events and the debounce (a deadline, not a condition).
  int callsAfterQuiet() {
    io_.restart();
    io_.run_for(milliseconds(300));
    return calls_;
  }

  fs::path dir_;
  fs::path main_;
  fs::path team_;
  net::io_context io_{1};
  std::unique_ptr<PolicyWatcher> watcher_;
  int calls_ = 0;
};

TEST_F(PolicyWatcherTest, NothingChangedNoCall) { EXPECT_EQ(callsAfterQuiet(), 0); }

TEST_F(PolicyWatcherTest, AnInPlaceWriteBurstIsOneCall) {
  write(main_, "a: 2\n");
  write(main_, "a: 3\n");
  EXPECT_EQ(callsAfterQuiet(), 1);
}

TEST_F(PolicyWatcherTest, EachRenameOverWriteIsSeenWithoutReArming) {
  renameOver(main_, "a: 2\n");
  EXPECT_EQ(callsAfterQuiet(), 1);
  renameOver(main_, "a: 3\n");
  EXPECT_EQ(callsAfterQuiet(), 2);
}

TEST_F(PolicyWatcherTest, AnIncludedFileInAnotherDirectoryIsWatched) {
  renameOver(team_, "b: 2\n");
  EXPECT_EQ(callsAfterQuiet(), 1);
}

TEST_F(PolicyWatcherTest, OtherFilesAndDroppedFilesAreIgnored) {
  write(dir_ / "notes.txt", "x");
  EXPECT_EQ(callsAfterQuiet(), 0);
  ASSERT_TRUE(watcher_->watch({main_.string()}).has_value());
  write(team_, "b: 3\n");
  EXPECT_EQ(callsAfterQuiet(), 0);
  write(main_, "a: 4\n");
  EXPECT_EQ(callsAfterQuiet(), 1);
}

TEST_F(PolicyWatcherTest, NoCallAfterStop) {
  write(main_, "a: 2\n");
  watcher_->stop();
  EXPECT_EQ(callsAfterQuiet(), 0);
}

}  // namespace
}  // namespace sy::server
