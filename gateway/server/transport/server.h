// The switchyard process: N worker threads (one io_context each), the
// data-plane listener whose accepted connections are handed round-robin to the
// workers, the admin listener, signal handling (SIGTERM/SIGINT drain, SIGHUP
// reload) and hot reload of the policy file. Create and run from one thread;
// stop() may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "gateway/config/snapshot.h"

namespace sy::server {

class Server {
 public:
  // Binds both listeners (so port 0 resolves to a real port here) and prepares
  // the workers. Fails when a listener cannot bind or the TLS certificate/key
  // cannot be loaded.
  static Result<std::unique_ptr<Server>> create(std::string config_path,
                                                std::shared_ptr<const config::Snapshot> snapshot);
  ~Server();

  // Serves until SIGTERM/SIGINT (or stop()), then drains: stops accepting, lets
  // in-flight requests finish within server.shutdown_grace, and returns 0.
  int run();
  void stop();

  uint16_t dataPort() const;
  uint16_t adminPort() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy::server
