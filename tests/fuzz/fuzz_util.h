// Helpers the fuzz targets share: an invariant check that aborts (so libFuzzer and the replay
// both report it), chunked feeding with splits the input chooses, and an in-memory file for
// loaders that take a path. Header-only; each target is its own executable.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sy::fuzz {

inline void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// Splits a target's input into a leading option byte and the rest (nullopt-like: `ok` false
// when the input has no option byte).
struct Input {
  bool ok = false;
  uint8_t option = 0;
  std::string_view rest;
};
inline Input splitOption(const uint8_t* data, size_t size) {
  if (size < 1) {
    return {};
  }
  return {true, data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

// Feeds `input` in chunks whose sizes come from `cuts` (cycled, 1..64 bytes; the whole input at
// once when `cuts` is empty), then one empty final feed with end = true.
template <class Feed>
void feedInChunks(std::string_view input, std::string_view cuts, Feed&& feed) {
  size_t at = 0;
  size_t i = 0;
  while (at < input.size()) {
    const size_t size =
        cuts.empty() ? input.size() : 1 + static_cast<uint8_t>(cuts[i++ % cuts.size()]) % 64;
    const size_t n = std::min(size, input.size() - at);
    feed(std::string(input.substr(at, n)), false);
    at += n;
  }
  feed(std::string(), true);
}

// The input's last 16 bytes: chunk sizes that a seed fixes along with its text.
inline std::string_view tailCuts(std::string_view input) {
  return input.substr(input.size() > 16 ? input.size() - 16 : 0);
}

// An anonymous in-memory file (memfd) holding `bytes`, reachable by path through
// /proc/self/fd: for loaders that only open paths. Nothing is written to disk.
class MemFile {
 public:
  explicit MemFile(std::string_view bytes) : fd_(memfd_create("sy-fuzz", 0)) {
    check(fd_ >= 0);
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = write(fd_, bytes.data() + done, bytes.size() - done);
      check(n > 0);
      done += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace sy::fuzz
