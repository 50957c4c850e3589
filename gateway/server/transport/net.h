// Short aliases for the Boost.Asio/Beast namespaces used throughout
// gateway/server.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sy::server {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// Sockets are bound to the worker's concrete executor type: no type-erased
// executor copies in every I/O operation.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;

// Completion token for `auto [ec, n] = co_await op(..., kTuple)`: errors as
// values, no throws.
inline constexpr auto kTuple = net::as_tuple(net::use_awaitable);
}  // namespace sy::server
