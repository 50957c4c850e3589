// Fuzz target: HTTP/1.1 requests as a session reads them (gateway/server/transport/session.cc): Beast's
// request parser under the gateway's limits (applyParserLimits, and the total of header bytes
// across reads), the head checks Beast does not do (checkHeader), the body under max_body_bytes,
// and the answer every read error gets (classifyReadError); up to four pipelined requests on one
// connection buffer, as keep-alive does. Input: the bytes a client sends; its last bytes choose
// how the reads are cut. Invariants: every refusal is a 4xx with a reason; a complete body never
// exceeds max_body_bytes and matches its Content-Length.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "gateway/server/transport/request_limits.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace sy::server;
using sy::fuzz::check;

// A SyncReadStream over the input: each read returns the next chunk (sizes from `cuts`), then
// end of file.
class InputStream {
 public:
  InputStream(std::string_view input, std::string_view cuts) : input_(input), cuts_(cuts) {}

  template <class Buffers>
  size_t read_some(const Buffers& buffers, error_code& ec) {
    if (at_ == input_.size()) {
      ec = net::error::eof;
      return 0;
    }
    size_t want = cuts_.empty() ? input_.size()
                                : 1 + static_cast<uint8_t>(cuts_[turn_++ % cuts_.size()]) % 200;
    want = std::min(want, input_.size() - at_);
    const size_t n = net::buffer_copy(buffers, net::buffer(input_.data() + at_, want));
    at_ += n;
    ec = {};
    return n;
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) {
      throw boost::system::system_error(ec);
    }
    return n;
  }

 private:
  std::string_view input_;
  std::string_view cuts_;
  size_t at_ = 0;
  size_t turn_ = 0;
};

void checkRejection(const std::optional<Rejection>& rejection) {
  if (rejection) {
    const unsigned status = sy::toHttpStatus(rejection->error);
    check(status >= 400 && status < 500);
    check(!rejection->reason.empty() && !rejection->error.message.empty());
  }
}

const sy::config::ServerLimits& fuzzLimits() {
  static const sy::config::ServerLimits limits{
      .max_body_bytes = 4096, .max_header_bytes = 1024, .max_header_count = 16};
  return limits;
}

// One request off the connection, as a session reads it; false when the connection ends.
bool readOne(InputStream& stream, beast::flat_buffer& buffer) {
  const auto& limits = fuzzLimits();
  http::request_parser<http::string_body> parser;
  applyParserLimits(parser, limits);
  size_t header_bytes = 0;
  while (!parser.is_header_done()) {  // session.cc readHead
    error_code ec;
    header_bytes += http::read_some(stream, buffer, parser, ec);
    if (!ec && header_bytes > limits.max_header_bytes) {
      ec = http::error::header_limit;
    }
    if (ec) {
      checkRejection(classifyReadError(ec, false, limits));
      return false;
    }
  }
  if (auto rejection = checkHeader(parser, limits)) {
    checkRejection(rejection);
    return false;  // refused on its head: answered with Connection: close
  }
  while (!parser.is_done()) {
    error_code ec;
    http::read_some(stream, buffer, parser, ec);
    if (ec) {
      checkRejection(classifyReadError(ec, true, limits));
      return false;
    }
  }
  const auto& body = parser.get().body();
  check(body.size() <= limits.max_body_bytes);
  if (const auto length = parser.content_length()) {
    check(body.size() == *length);
  }
  return parser.get().keep_alive();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  InputStream stream(input, sy::fuzz::tailCuts(input));
  beast::flat_buffer buffer;
  for (int request = 0; request < 4 && readOne(stream, buffer); ++request) {
  }
  return 0;
}
