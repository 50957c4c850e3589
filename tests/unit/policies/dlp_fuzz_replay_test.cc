// Replays the seed corpus of the DLP fuzz target (corpus/*) in every test run: each seed is a
// tricky input that once crashed or nearly did, or exercises an edge of the normalizer.
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

TEST(DlpFuzzReplayTest, EverySeedOfTheCorpusRunsCleanly) {
  std::filesystem::path dir(SY_DLP_CORPUS_DIR);
  size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string bytes = readFile(entry.path());
    SCOPED_TRACE(entry.path().filename().string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0);
    ++seeds;
  }
  EXPECT_GE(seeds, 10u);
}

TEST(DlpFuzzReplayTest, EveryPrefixOfAMixedSeedRunsCleanly) {
  std::string seed = readFile(std::filesystem::path(SY_DLP_CORPUS_DIR) / "mixed_findings.txt");
  ASSERT_FALSE(seed.empty());
  for (size_t n = 0; n <= seed.size(); n += 3) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), n);
  }
}

}  // namespace
