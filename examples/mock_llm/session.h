// One HTTP/1.1 connection of the mock server: reads requests (keep-alive, bodies up to 64 MiB,
// 100-continue), runs the handlers, and executes their Reply plans: delays, one write per SSE
// event, pacing, and resets (SO_LINGER 0) for disconnect_after.
// Each session runs on exactly one io thread (its socket's io_context); the coroutine owns its
// stream and buffers. `state` (and `tls`) must outlive the session.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "examples/mock_llm/server_state.h"

namespace sy::mock {

boost::asio::awaitable<void> runPlainSession(boost::asio::ip::tcp::socket socket,
                                             ServerState& state);
boost::asio::awaitable<void> runTlsSession(boost::asio::ip::tcp::socket socket,
                                           boost::asio::ssl::context& tls, ServerState& state);

}  // namespace sy::mock
