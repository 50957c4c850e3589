#include "observability/audit_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <limits>
#include <system_error>

namespace sy::observability {
namespace {

constexpr size_t kMaxTailBytes = 4 << 20;
constexpr size_t kMaxFirstLineBytes = 64 << 10;

std::unexpected<Error> unavailable(std::string message) {
  return makeError(ErrorCode::Unavailable, ErrorSource::Internal, std::move(message));
}

// Reads [offset, offset + length) fully; false on a read error (errno set).
bool readAt(int fd, uint64_t offset, size_t length, std::string& out) {
  out.resize(length);
  size_t done = 0;
  while (done < length) {
    const ssize_t n =
        ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return false;
    }
    if (n == 0) {
      break;  // the file shrank: use what there is
    }
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return true;
}

// Parses the suffix n of a rotated name `<base>.<15-char stamp>.<n>`; nullopt if it is not one.
std::optional<uint64_t> rotatedIndex(std::string_view name, std::string_view base) {
  if (!name.starts_with(base) || name.size() <= base.size() + 17 || name[base.size()] != '.') {
    return std::nullopt;
  }
  const std::string_view stamp = name.substr(base.size() + 1, 15);
  for (size_t i = 0; i < stamp.size(); ++i) {
    const bool digit = stamp[i] >= '0' && stamp[i] <= '9';
    if (i == 8 ? stamp[i] != 'T' : !digit) {
      return std::nullopt;
    }
  }
  const std::string_view rest = name.substr(base.size() + 16);
  if (rest.size() < 2 || rest[0] != '.') {
    return std::nullopt;
  }
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), n);
  if (ec != std::errc() || end != rest.data() + rest.size()) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::string errnoMessage(std::string_view what, int error_number) {
  return std::string(what) + ": " + std::generic_category().message(error_number);
}

std::string rotatedAuditPath(std::string_view path, std::chrono::system_clock::time_point when,
                             uint64_t first_seq) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &utc);
  return std::string(path) + "." + stamp + "." + std::to_string(first_seq);
}

std::vector<std::string> listAuditFiles(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path live(path);
  const std::string base = live.filename().string();
  const fs::path dir = live.has_parent_path() ? live.parent_path() : fs::path(".");
  std::vector<std::pair<uint64_t, std::string>> rotated;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (const auto n = rotatedIndex(name, base); n.has_value()) {
      rotated.emplace_back(*n, (live.has_parent_path() ? dir / name : fs::path(name)).string());
    }
  }
  std::sort(rotated.begin(), rotated.end());
  std::vector<std::string> files;
  for (auto& [n, name] : rotated) {
    files.push_back(std::move(name));
  }
  if (fs::exists(live, ec)) {
    files.push_back(path);
  }
  return files;
}

std::vector<std::string> sortAuditFilesByFirstSeq(std::vector<std::string> files) {
  std::vector<std::pair<uint64_t, std::string>> keyed;
  for (std::string& file : files) {
    uint64_t first_seq = std::numeric_limits<uint64_t>::max();
    if (const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      std::string head;
      if (readAt(fd, 0, kMaxFirstLineBytes, head)) {
        const size_t newline = head.find('\n');
        auto first = parseAuditRecord(std::string_view(head).substr(0, newline));
        first_seq = first ? first->seq : first_seq;
      }
      ::close(fd);
    }
    keyed.emplace_back(first_seq, std::move(file));
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < keyed.size(); ++i) {
    files[i] = std::move(keyed[i].second);
  }
  return files;
}

Result<AuditFileEnds> readAuditFileEnds(int fd, uint64_t size, const std::string& path) {
  AuditFileEnds ends;
  if (size == 0) {
    return ends;
  }
  std::string head;
  if (!readAt(fd, 0, static_cast<size_t>(std::min<uint64_t>(size, kMaxFirstLineBytes)), head)) {
    return unavailable(errnoMessage(path + ": read", errno));
  }
  if (const size_t newline = head.find('\n'); newline != std::string::npos) {
    if (auto first = parseAuditRecord(std::string_view(head).substr(0, newline)); first) {
      ends.first = std::move(*first);
    }
  }
  const uint64_t start = size > kMaxTailBytes ? size - kMaxTailBytes : 0;
  std::string tail;
  if (!readAt(fd, start, static_cast<size_t>(size - start), tail)) {
    return unavailable(errnoMessage(path + ": read", errno));
  }
  ends.missing_newline = !tail.empty() && tail.back() != '\n';
  // Walk the lines back from the end; in a partial window the first line may be cut: skip it.
  size_t end = tail.size() - (ends.missing_newline ? 0 : 1);
  for (;;) {
    const size_t newline = end == 0 ? std::string::npos : tail.rfind('\n', end - 1);
    const size_t begin = newline == std::string::npos ? 0 : newline + 1;
    if (begin == 0 && start > 0) {
      break;
    }
    auto record = parseAuditRecord(std::string_view(tail).substr(begin, end - begin));
    if (record) {
      ends.last = std::move(*record);
      ends.last_line = tail.substr(begin, end - begin);
      if (start == 0 && begin == 0 && !ends.first) {
        ends.first = ends.last;  // a single record without a newline
      }
      return ends;
    }
    ++ends.skipped_lines;
    if (begin == 0) {
      break;
    }
    end = begin - 1;
  }
  if (start > 0) {
    return unavailable(path + ": no audit record in its last 4 MiB: cannot continue the chain");
  }
  return ends;
}

Result<AuditFileEnds> readAuditFileEnds(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return unavailable(errnoMessage(path + ": open", errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error_number = errno;
    ::close(fd);
    return unavailable(errnoMessage(path + ": stat", error_number));
  }
  auto ends = readAuditFileEnds(fd, static_cast<uint64_t>(st.st_size), path);
  ::close(fd);
  return ends;
}

int renameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return 0;
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return -1;
  }
  if (::access(to.c_str(), F_OK) == 0) {
    errno = EEXIST;
    return -1;
  }
  return ::rename(from.c_str(), to.c_str());
}

Status syncParentDirectory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? "." : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return unavailable(errnoMessage(dir + ": open", errno));
  }
  const int rc = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  if (rc != 0) {
    return unavailable(errnoMessage(dir + ": fsync", error_number));
  }
  return {};
}

}  // namespace sy::observability
