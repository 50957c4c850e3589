// One client connection (plain TCP or TLS): reads requests under the configured
// limits and deadlines, answers protocol-level problems itself
// (400/408/413/431), hands each request head to the pipeline (which may answer
// it without the body being read) and reads the body only after that, under the
// process-wide in-flight body budget. A session is a coroutine that owns its
// stream and buffers; it runs on one worker for its whole life and uses no locks.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include "gateway/server/transport/worker_state.h"

namespace sy::server {

// Per-worker registry of sessions waiting for their next request, so a drain
// can close them.
class IdleSessions {
 public:
  void add(Socket* socket) { idle_.push_back(socket); }
  void remove(Socket* socket) { std::erase(idle_, socket); }
  // Cancels every idle connection's read: the session sees an error and ends.
  void closeAll() {
    for (Socket* socket : idle_) {
      error_code ignored;
      socket->cancel(ignored);
    }
  }

 private:
  std::vector<Socket*> idle_;
};

// Serves one accepted connection to completion. `tls` is null for plain HTTP.
net::awaitable<void> runSession(Socket socket, net::ssl::context* tls, WorkerState& worker,
                                IdleSessions& idle);

}  // namespace sy::server
