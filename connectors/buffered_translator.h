// What the answer translators of non-OpenAI backends (Anthropic Messages, the Responses API)
// share: lenient readers of an upstream's JSON (a missing or mistyped field reads as absent,
// never an error: the translator decides what an unreadable answer is), and the translator of a
// non-streamed body, which is buffered whole and translated once at its end.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <string>
#include <string_view>

#include "connectors/connector.h"

namespace sy::connectors::answer {

inline const boost::json::object* objectAt(const boost::json::object* object,
                                           std::string_view key) {
  const boost::json::value* value = object == nullptr ? nullptr : object->if_contains(key);
  return value == nullptr ? nullptr : value->if_object();
}

inline std::string_view stringAt(const boost::json::object* object, std::string_view key) {
  const boost::json::value* value = object == nullptr ? nullptr : object->if_contains(key);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string()) : "";
}

// A non-streamed answer or error body, at most `max_bytes` (beyond: an UpstreamError naming
// `backend`, e.g. "the anthropic backend"), parsed at `end` and handed to translate() as an
// object (nullptr when it is not JSON or not an object). `Counts` reads the upstream's usage
// (anything with `usage()`); translate() fills counts_.
template <class Counts>
class BufferedTranslator : public ResponseTranslator {
 public:
  BufferedTranslator(size_t max_bytes, std::string_view backend)
      : max_bytes_(max_bytes), backend_(backend) {}

  Status onChunk(std::string& chunk, bool end) final {
    if (body_.size() + chunk.size() > max_bytes_) {
      return makeError(ErrorCode::UpstreamError, ErrorSource::Upstream,
                       std::string(backend_) + "'s answer is larger than " +
                           std::to_string(max_bytes_ >> 20) + " MiB",
                       "upstream_error");
    }
    body_.append(chunk);
    chunk.clear();
    if (!end) {
      return {};
    }
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(body_, ec);
    const Status translated = translate(ec ? nullptr : parsed.if_object(), chunk);
    body_.clear();
    return translated;
  }
  TokenUsage usage() const final { return counts_.usage(); }

 protected:
  virtual Status translate(const boost::json::object* body, std::string& out) = 0;
  Counts counts_;

 private:
  const size_t max_bytes_;
  const std::string_view backend_;  // a literal
  std::string body_;
};

}  // namespace sy::connectors::answer
