// PolicyWatcher: calls back when the policy file or any file it includes changes (Linux
// inotify; no dependency). It watches the directories that hold the files, not the files
// themselves, so an editor's rename-over-write (write a temp file, rename it onto the policy)
// is seen like an in-place write and nothing needs re-arming; events on other names in those
// directories are ignored. Changes are debounced: the callback runs once the files have been
// quiet for `debounce`, so a burst of writes (save, chmod, rename) is one reload.
// Not thread-safe: create, use and destroy it on the thread that runs its executor (the main
// thread). It owns its inotify descriptor and timer; destroy it before their io_context.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "gateway/server/transport/net.h"

namespace sy::server {

class PolicyWatcher {
 public:
  // Opens an inotify instance on `io`. `on_change` runs on `io`'s thread. Fails (Unavailable)
  // when inotify cannot be opened (e.g. the per-user instance limit).
  static Result<std::unique_ptr<PolicyWatcher>> create(net::io_context& io,
                                                       std::chrono::milliseconds debounce,
                                                       std::function<void()> on_change);
  ~PolicyWatcher();
  PolicyWatcher(const PolicyWatcher&) = delete;
  PolicyWatcher& operator=(const PolicyWatcher&) = delete;

  // Watches exactly `files` from now on (paths as in SourceMap; relative ones against the working
  // directory): their directories are added or dropped as needed. Fails (Unavailable, naming the
  // directory) when a directory cannot be watched; the others are watched anyway.
  Status watch(const std::vector<std::string>& files);

  // Stops watching and cancels a pending callback; watch() must not be called afterwards.
  void stop();

 private:
  PolicyWatcher(net::io_context& io, int fd, std::chrono::milliseconds debounce,
                std::function<void()> on_change);
  void arm();
  void onReadable(const error_code& ec);
  void changed();

  net::posix::stream_descriptor descriptor_;
  net::steady_timer debounce_timer_;
  std::chrono::milliseconds debounce_;
  std::function<void()> on_change_;
  struct Directory {
    int wd = -1;
    std::set<std::string> names;  // the watched files in it
  };
  std::map<std::string, Directory> directories_;  // by directory path
  std::map<int, std::string> by_wd_;
  bool stopped_ = false;
};

}  // namespace sy::server
