// A file in the temp dir for the CLI tests, named after the running test and removed at the end.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace sy::cli {

class TempFile {
 public:
  TempFile(std::string_view suffix, std::string_view text)
      : path_((std::filesystem::temp_directory_path() /
               ("sy-test-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name() +
                std::string(suffix)))
                  .string()) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sy::cli
