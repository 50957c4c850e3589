#include "gateway/server/transport/policy_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "observability/logging.h"

namespace sy::server {
namespace {

// A file replaced (rename-over-write, cp, k8s-style moves), written in place, created or
// removed: anything after which the file's bytes may differ.
constexpr uint32_t kDirectoryEvents =
    IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ONLYDIR;

std::pair<std::string, std::string> splitPath(const std::string& file) {
  const std::filesystem::path path(file);
  std::string directory = path.parent_path().string();
  return {directory.empty() ? "." : directory, path.filename().string()};
}

}  // namespace

Result<std::unique_ptr<PolicyWatcher>> PolicyWatcher::create(net::io_context& io,
                                                             std::chrono::milliseconds debounce,
                                                             std::function<void()> on_change) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                     std::string("server.watch_policy: inotify_init1: ") + std::strerror(errno));
  }
  return std::unique_ptr<PolicyWatcher>(new PolicyWatcher(io, fd, debounce, std::move(on_change)));
}

PolicyWatcher::PolicyWatcher(net::io_context& io, int fd, std::chrono::milliseconds debounce,
                             std::function<void()> on_change)
    : descriptor_(io, fd),
      debounce_timer_(io),
      debounce_(debounce),
      on_change_(std::move(on_change)) {
  arm();
}

PolicyWatcher::~PolicyWatcher() { stop(); }

Status PolicyWatcher::watch(const std::vector<std::string>& files) {
  std::map<std::string, std::set<std::string>> wanted;
  for (const std::string& file : files) {
    const auto [directory, name] = splitPath(file);
    wanted[directory].insert(name);
  }
  for (auto it = directories_.begin(); it != directories_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    ::inotify_rm_watch(descriptor_.native_handle(), it->second.wd);
    by_wd_.erase(it->second.wd);
    it = directories_.erase(it);
  }
  std::string failures;
  for (auto& [directory, names] : wanted) {
    // Adding an existing watch again returns its wd: a directory removed and re-created since
    // (its old watch then got IN_IGNORED) is watched anew.
    const int wd =
        ::inotify_add_watch(descriptor_.native_handle(), directory.c_str(), kDirectoryEvents);
    if (wd < 0) {
      failures += (failures.empty() ? "" : "; ") + directory + ": " + std::strerror(errno);
      continue;
    }
    Directory& entry = directories_[directory];
    if (entry.wd != wd) {
      by_wd_.erase(entry.wd);
    }
    entry.wd = wd;
    entry.names = std::move(names);
    by_wd_[wd] = directory;
  }
  if (!failures.empty()) {
    return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                     "server.watch_policy: cannot watch " + failures);
  }
  return {};
}

void PolicyWatcher::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  error_code ignored;
  debounce_timer_.cancel();
  descriptor_.close(ignored);
}

void PolicyWatcher::arm() {
  descriptor_.async_wait(net::posix::stream_descriptor::wait_read,
                         [this](const error_code& ec) { onReadable(ec); });
}

void PolicyWatcher::onReadable(const error_code& ec) {
  if (ec || stopped_) {
    return;  // operation_aborted: stopped
  }
  alignas(inotify_event) char buffer[16 * 1024];
  bool relevant = false;
  for (;;) {
    const ssize_t n = ::read(descriptor_.native_handle(), buffer, sizeof buffer);
    if (n <= 0) {
      break;  // EAGAIN: drained
    }
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if ((event->mask & IN_Q_OVERFLOW) != 0) {
        relevant = true;  // events were lost: one of them may have been ours
        continue;
      }
      if ((event->mask & IN_IGNORED) != 0) {
        // A watched directory went away (a watch() that dropped it already forgot its wd): the
        // next reload attempt fails or finds the files elsewhere, and watch() re-adds it.
        if (const auto it = by_wd_.find(event->wd); it != by_wd_.end()) {
          directories_.erase(it->second);
          by_wd_.erase(it);
          relevant = true;
        }
        continue;
      }
      const auto it = by_wd_.find(event->wd);
      if (it == by_wd_.end() || event->len == 0) {
        continue;
      }
      const Directory& directory = directories_[it->second];
      if (directory.names.contains(std::string(event->name))) {
        relevant = true;
      }
    }
  }
  if (relevant) {
    changed();
  }
  arm();
}

void PolicyWatcher::changed() {
  debounce_timer_.expires_after(debounce_);  // cancels the wait of an earlier change
  debounce_timer_.async_wait([this](const error_code& ec) {
    if (!ec && !stopped_) {
      on_change_();
    }
  });
}

}  // namespace sy::server
