// Test helpers for the mock server tests: a small synchronous Beast HTTP client (plain TCP),
// raw socket exchanges, and parsers for SSE and HTTP chunk framing.
// Not thread-safe: one TestClient per thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "examples/mock_llm/mock_server.h"

namespace sy::mock::testing {

namespace http = boost::beast::http;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  http::response<http::string_body> response;  // what arrived, even if the read failed midway
  boost::system::error_code error;             // the read error, if any
  unsigned status() const { return response.result_int(); }
  const std::string& body() const { return response.body(); }
  std::string header(std::string_view name) const;
  boost::json::value json() const;  // parses body(); throws on malformed JSON (tests only)
};

// A keep-alive connection to 127.0.0.1:port.
class TestClient {
 public:
  explicit TestClient(uint16_t port);
  HttpResult send(http::verb method, std::string_view target, std::string_view body = {},
                  const Headers& headers = {});
  bool isOpen() const { return socket_.is_open(); }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
};

// One request on a fresh connection.
HttpResult post(uint16_t port, std::string_view target, std::string_view body,
                const Headers& headers = {});
HttpResult get(uint16_t port, std::string_view target, const Headers& headers = {});

// Writes `request` verbatim and returns every byte received until EOF or a reset; `error` gets
// the terminating error (eof for a clean close).
std::string rawExchange(uint16_t port, std::string_view request, boost::system::error_code& error);

// Splits a chunked HTTP body (after the head) into its chunk payloads, without the terminating
// zero-size chunk; `complete` tells whether that terminator was seen.
std::vector<std::string> decodeChunks(std::string_view chunked, bool& complete);

struct SseEvent {
  std::string event;  // the `event:` field, empty if absent
  std::string data;
};
std::vector<SseEvent> parseSse(std::string_view body);

// Starts a mock on 127.0.0.1:0 (fails the test via ADD_FAILURE and returns null on error).
std::unique_ptr<MockServer> startMock(MockOptions options = {});

// A chat-completions body with one user message.
std::string chatBody(std::string_view user_text, bool stream = false,
                     std::string_view extra_fields = {});
// A messages body (Anthropic) with one user message.
std::string messagesBody(std::string_view user_text, bool stream = false, int max_tokens = 1024);

}  // namespace sy::mock::testing
