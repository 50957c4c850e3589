// Fuzz target: the Anthropic surface's answer encoder (connectors/anthropic_answer.cc), which
// turns the canonical (OpenAI) answer, a stream or a body, into Anthropic Messages for an
// Anthropic client. Input: an option byte (1: event stream, 2: an error status 429), then the
// canonical answer; its last bytes choose where it is cut into chunks. Invariants: encoding never
// fails; every event of a stream is a named event whose data is a JSON object with that `type`;
// a body (or an error) is one JSON object.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/anthropic_answer.h"
#include "connectors/sse.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using sy::fuzz::check;

bool isObject(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  return !ec && value.is_object();
}

void checkAnthropicEvents(std::string_view text) {
  sy::connectors::SseParser parser;
  for (const auto& event : parser.feed(text)) {
    check(!event.event.empty());
    boost::system::error_code ec;
    const boost::json::value data = boost::json::parse(event.data, ec);
    check(!ec && data.is_object());
    const boost::json::value* type = data.get_object().if_contains("type");
    check(type != nullptr && type->is_string() && type->get_string() == event.event);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = sy::fuzz::splitOption(data, size);
  if (!input.ok) {
    return 0;
  }
  const bool stream = input.option & 1;
  const unsigned status = (input.option & 2) ? 429 : 200;
  auto encoder = sy::connectors::newAnthropicEncoder(status, stream, "fuzz");
  std::string out;
  sy::fuzz::feedInChunks(input.rest, sy::fuzz::tailCuts(input.rest),
                         [&](std::string chunk, bool end) {
                           check(encoder->encode(chunk, end).has_value());
                           out += chunk;
                         });
  if (stream && status == 200) {
    checkAnthropicEvents(out);
  } else {
    check(isObject(out));
  }
  return 0;
}
