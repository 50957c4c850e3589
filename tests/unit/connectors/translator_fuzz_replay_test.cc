// Replays the seed corpus of the translator fuzz target (corpus/*) in every test run, whole and
// cut at every length, so each translator meets truncated bodies and streams too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(TranslatorFuzzReplayTest, EverySeedAndEveryPrefixOfItRunsCleanly) {
  size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SY_TRANSLATOR_CORPUS_DIR)) {
    const std::string bytes = readFile(entry.path());
    SCOPED_TRACE(entry.path().filename().string());
    for (size_t n = 0; n <= bytes.size(); ++n) {
      ASSERT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), n), 0);
    }
    ++seeds;
  }
  EXPECT_GE(seeds, 20u);
}

}  // namespace
