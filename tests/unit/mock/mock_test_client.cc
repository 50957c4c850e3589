#include "tests/unit/mock/mock_test_client.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sy::mock::testing {

namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string HttpResult::header(std::string_view name) const {
  auto it = response.find(boost::beast::string_view(name.data(), name.size()));
  return it == response.end() ? std::string() : std::string(it->value());
}

boost::json::value HttpResult::json() const { return boost::json::parse(body()); }

TestClient::TestClient(uint16_t port) : socket_(io_) {
  boost::system::error_code ec;
  socket_.connect(tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), port), ec);
  EXPECT_FALSE(ec) << ec.message();
}

HttpResult TestClient::send(http::verb method, std::string_view target, std::string_view body,
                            const Headers& headers) {
  http::request<http::string_body> req(method,
                                       boost::beast::string_view(target.data(), target.size()), 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) {
    req.set(name, value);
  }
  if (!body.empty() || method == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
    req.prepare_payload();
  }
  HttpResult result;
  http::write(socket_, req, result.error);
  if (result.error) {
    return result;
  }
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  http::read(socket_, buffer, parser, result.error);
  result.response = parser.release();
  return result;
}

HttpResult post(uint16_t port, std::string_view target, std::string_view body,
                const Headers& headers) {
  TestClient client(port);
  return client.send(http::verb::post, target, body, headers);
}

HttpResult get(uint16_t port, std::string_view target, const Headers& headers) {
  TestClient client(port);
  return client.send(http::verb::get, target, {}, headers);
}

std::string rawExchange(uint16_t port, std::string_view request, boost::system::error_code& error) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), port), error);
  if (error) {
    return {};
  }
  net::write(socket, net::buffer(request), error);
  std::string received;
  char buf[16384];
  while (!error) {
    const size_t n = socket.read_some(net::buffer(buf), error);
    received.append(buf, n);
  }
  return received;
}

std::vector<std::string> decodeChunks(std::string_view chunked, bool& complete) {
  std::vector<std::string> chunks;
  complete = false;
  size_t pos = 0;
  while (pos < chunked.size()) {
    const size_t line_end = chunked.find("\r\n", pos);
    if (line_end == std::string_view::npos) {
      break;
    }
    const size_t size = std::stoul(std::string(chunked.substr(pos, line_end - pos)), nullptr, 16);
    if (size == 0) {
      complete = chunked.substr(line_end) == "\r\n\r\n";
      break;
    }
    if (line_end + 2 + size + 2 > chunked.size()) {
      break;  // truncated chunk
    }
    chunks.emplace_back(chunked.substr(line_end + 2, size));
    pos = line_end + 2 + size + 2;
  }
  return chunks;
}

std::vector<SseEvent> parseSse(std::string_view body) {
  std::vector<SseEvent> events;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string_view::npos) {
      break;
    }
    SseEvent event;
    std::string_view block = body.substr(pos, end - pos);
    while (!block.empty()) {
      const size_t nl = block.find('\n');
      std::string_view line = block.substr(0, nl);
      if (line.starts_with("event: ")) {
        event.event = line.substr(7);
      } else if (line.starts_with("data: ")) {
        event.data = line.substr(6);
      }
      block = nl == std::string_view::npos ? std::string_view() : block.substr(nl + 1);
    }
    events.push_back(std::move(event));
    pos = end + 2;
  }
  return events;
}

std::unique_ptr<MockServer> startMock(MockOptions options) {
  auto server = MockServer::start(std::move(options));
  if (!server) {
    ADD_FAILURE() << "MockServer::start: " << server.error().message;
    return nullptr;
  }
  return std::move(*server);
}

std::string chatBody(std::string_view user_text, bool stream, std::string_view extra_fields) {
  boost::json::object body;
  body["model"] = "gpt-test";
  body["messages"] =
      boost::json::array{boost::json::object{{"role", "system"}, {"content", "be brief"}},
                         boost::json::object{{"role", "user"}, {"content", user_text}}};
  if (stream) {
    body["stream"] = true;
  }
  std::string text = boost::json::serialize(body);
  if (!extra_fields.empty()) {
    text.pop_back();
    text += ',';
    text += extra_fields;
    text += '}';
  }
  return text;
}

std::string messagesBody(std::string_view user_text, bool stream, int max_tokens) {
  boost::json::object body;
  body["model"] = "claude-test";
  body["max_tokens"] = max_tokens;
  body["messages"] =
      boost::json::array{boost::json::object{{"role", "user"}, {"content", user_text}}};
  if (stream) {
    body["stream"] = true;
  }
  return boost::json::serialize(body);
}

}  // namespace sy::mock::testing
