// The request-level limits of the data plane, as pure functions over Beast's
// parser: which read errors get which answer (400/408/413/431) and which header
// checks Beast does not do itself. Stateless; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "core/error.h"
#include "gateway/config/config.h"
#include "gateway/server/transport/net.h"

namespace sy::server {

struct Rejection {
  Error error;
  std::string_view reason;  // label of switchyard_downstream_rejections_total
};

// Sets the limits every session reads a request under on a fresh parser: header bytes per read
// (the session also bounds their total across reads) and body bytes.
void applyParserLimits(http::request_parser<http::string_body>& parser,
                       const config::ServerLimits& limits);

// Maps a failed header/body read to the answer the client gets; nullopt when
// the client left and nobody is there to answer. A read cut by its deadline
// must be passed as beast::error::timeout.
std::optional<Rejection> classifyReadError(const error_code& ec, bool reading_body,
                                           const config::ServerLimits& limits);

// Checks a parsed request head: header count, Transfer-Encoding other than
// chunked, a missing (HTTP/1.1) or repeated Host, and a Content-Length over the
// body limit (answered before the body is read).
std::optional<Rejection> checkHeader(const http::request_parser<http::string_body>& parser,
                                     const config::ServerLimits& limits);

}  // namespace sy::server
