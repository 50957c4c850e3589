// The replay driver: a main() for a fuzz target in a normal build (gcc, no libFuzzer). Runs
// LLVMFuzzerTestOneInput once over every file of every directory (or file) named on the command
// line, as libFuzzer would run a corpus; a target's own checks abort on a broken invariant and
// the sanitizers of an ASan build report what they find, so either fails the test. An empty or
// missing corpus fails too: a replay that runs nothing would pass for nothing. With --prefixes
// first, every prefix of every input runs too (truncated bodies, streams and heads).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Optional, as in libFuzzer: a target's one-time set-up (an engine, a snapshot), run first.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

int runFile(const std::filesystem::path& path, bool prefixes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return 1;
  }
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  for (size_t size = prefixes ? 0 : bytes.size(); size <= bytes.size(); ++size) {
    // A copy of exactly `size` bytes, so ASan sees a read past the input's end.
    std::vector<uint8_t> input(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(size));
    if (LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size()) != 0) {
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) {
    LLVMFuzzerInitialize(&argc, &argv);
  }
  size_t files = 0;
  const bool prefixes = argc > 1 && std::string(argv[1]) == "--prefixes";
  for (int i = prefixes ? 2 : 1; i < argc; ++i) {
    std::error_code ec;
    std::vector<std::filesystem::path> paths;
    if (std::filesystem::is_directory(argv[i], ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i], ec)) {
        if (entry.is_regular_file()) {
          paths.push_back(entry.path());
        }
      }
    } else if (std::filesystem::is_regular_file(argv[i], ec)) {
      paths.emplace_back(argv[i]);
    }
    for (const auto& path : paths) {
      if (runFile(path, prefixes) != 0) {
        std::fprintf(stderr, "replay: %s was rejected by the target\n", path.c_str());
        return 1;
      }
      ++files;
    }
  }
  std::printf("replay: %zu inputs ran cleanly\n", files);
  return files > 0 ? 0 : 1;
}
