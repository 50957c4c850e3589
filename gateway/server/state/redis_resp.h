// RESP2, the Redis wire format, as the Redis client speaks it: commands encoded as arrays of bulk
// strings, replies parsed incrementally from a byte stream. Pure functions and one parser class;
// no I/O. The parser is not thread-safe (one per connection).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy::server::redis {

// One RESP2 reply.
struct Reply {
  enum class Type { Status, Error, Integer, Bulk, Nil, Array };
  Type type = Type::Nil;
  std::string str;              // Status, Error and Bulk
  int64_t integer = 0;          // Integer
  std::vector<Reply> elements;  // Array
};

// Appends `args` as one command: a RESP2 array of bulk strings.
void encodeCommand(std::string& out, const std::vector<std::string>& args);

// The pieces of encodeCommand, for callers that encode a command from several sources without
// copying them into one vector first: an array's or a bulk string's header ("<type><n>\r\n"),
// one bulk string, and a size that `args` encoded surely fits in (headers included).
void appendHeader(std::string& out, char type, size_t n);
void appendBulk(std::string& out, std::string_view arg);
size_t encodedSize(const std::vector<std::string>& args);

// True when all of `text` is a decimal number that fits T (no sign for unsigned T, no spaces).
template <class T>
bool parseDecimal(std::string_view text, T& out) {
  if (text.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Incremental RESP2 reply parser. feed() bytes as they arrive; next() yields complete replies in
// order. Replies are bounded (kMaxBulk bytes per string, kMaxElements per array, kMaxDepth
// nesting): this client only reads replies to its own commands, whose largest strings are the
// response store's records (responses.max_bytes_per_response, at most 16 MiB), so anything
// bigger means a confused stream. Not thread-safe.
class ReplyParser {
 public:
  static constexpr int64_t kMaxBulk = 16 << 20;
  static constexpr int64_t kMaxElements = 1 << 16;
  static constexpr int kMaxDepth = 8;

  enum class Outcome { Complete, Incomplete, Malformed };

  void feed(std::string_view bytes);
  // Complete: `reply` holds the next reply. Incomplete: more bytes are needed. Malformed: the
  // stream is broken (error() says why) and the parser must be reset() before reuse.
  Outcome next(Reply& reply);
  const std::string& error() const { return error_; }
  void reset();

 private:
  Outcome parse(size_t& pos, Reply& reply, int depth);
  Outcome line(size_t& pos, std::string_view& out);
  Outcome number(size_t& pos, int64_t& out);

  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already returned as replies
  std::string error_;
};

}  // namespace sy::server::redis
