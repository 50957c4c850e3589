// One client connection (plain TCP or TLS): reads requests under the configured limits and
// deadlines, answers protocol-level problems itself (400/408/413/431) and hands every complete
// request to the pipeline. A session is a coroutine that owns its stream and buffers; it runs
// on one worker for its whole life and uses no locks.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include "gateway/server/worker_state.h"

namespace sy::server {

// Per-worker registry of sessions waiting for their next request, so a drain can close them.
class IdleSessions {
 public:
  void add(beast::tcp_stream* stream) { idle_.push_back(stream); }
  void remove(beast::tcp_stream* stream) { std::erase(idle_, stream); }
  // Closes every idle connection: their pending read fails and the session ends.
  void closeAll() {
    for (beast::tcp_stream* stream : idle_) {
      stream->cancel();
    }
  }

 private:
  std::vector<beast::tcp_stream*> idle_;
};

// Serves one accepted connection to completion. `tls` is null for plain HTTP.
net::awaitable<void> runSession(tcp::socket socket, net::ssl::context* tls, WorkerState& worker,
                                IdleSessions& idle);

}  // namespace sy::server
