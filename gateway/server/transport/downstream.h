// The client connection as the request pipeline sees it: complete responses, or
// a chunked response written piece by piece (SSE). Implemented by the session
// for plain and TLS streams. Per connection, used from its worker thread only.
#pragma once

#include <string_view>

#include "gateway/server/transport/net.h"

namespace sy::server {

class Downstream {
 public:
  virtual ~Downstream() = default;
  // Each returns the write's error (the client went away, or the write deadline
  // passed).
  virtual net::awaitable<error_code> writeResponse(http::response<http::string_body>& response) = 0;
  virtual net::awaitable<error_code> writeHead(http::response<http::empty_body>& head) = 0;
  virtual net::awaitable<error_code> writeChunk(std::string_view data) = 0;
  virtual net::awaitable<error_code> writeLastChunk() = 0;
};

}  // namespace sy::server
