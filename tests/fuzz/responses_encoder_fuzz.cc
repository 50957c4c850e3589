// Fuzz target: the Responses surface's answer encoder (connectors/responses_answer.cc and
// responses_stream.cc), which turns the canonical (OpenAI chat) answer, a stream or a body, into
// a Responses `response` object or its event stream. Input: an option byte (1: event stream, 2:
// an error status 429, 4: no request echo), then the canonical answer; its last bytes choose where
// it is cut into chunks. Invariants: encoding never fails; a stream's events are named events
// whose data is a JSON object with that `type` and `sequence_number` 0, 1, 2, ... in order; it
// starts with response.created; every event carrying the response names the same response id;
// every item id an event names was announced by response.output_item.added first; nothing follows
// a terminal event (completed, incomplete, failed). A body (or an error) is one JSON object, and a
// 2xx body is a `response` object.
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "connectors/responses_answer.h"
#include "connectors/sse.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using sy::fuzz::check;

boost::json::object parseObject(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  check(!ec && value.is_object());
  return std::move(value.get_object());
}

std::string_view stringAt(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string())
                                                : std::string_view();
}

bool isTerminal(std::string_view type) {
  return type == "response.completed" || type == "response.incomplete" ||
         type == "response.failed";
}

void checkResponsesEvents(std::string_view text) {
  sy::connectors::SseParser parser;
  uint64_t sequence = 0;
  bool ended = false;
  std::string response_id;
  std::set<std::string, std::less<>> items;
  for (const auto& event : parser.feed(text)) {
    check(!ended);
    check(!event.event.empty());
    const boost::json::object data = parseObject(event.data);
    check(stringAt(data, "type") == event.event);
    const boost::json::value* number = data.if_contains("sequence_number");
    check(number != nullptr && number->is_int64() &&
          static_cast<uint64_t>(number->get_int64()) == sequence);
    if (sequence == 0) {
      check(event.event == "response.created");
    }
    ++sequence;
    if (const boost::json::value* response = data.if_contains("response")) {
      check(response->is_object());
      const std::string_view id = stringAt(response->get_object(), "id");
      check(!id.empty());
      if (response_id.empty()) {
        response_id = id;
      }
      check(id == response_id);
    }
    if (event.event == "response.output_item.added") {
      const boost::json::value* item = data.if_contains("item");
      check(item != nullptr && item->is_object());
      const std::string_view id = stringAt(item->get_object(), "id");
      check(!id.empty());
      items.emplace(id);
    } else if (const std::string_view item_id = stringAt(data, "item_id"); !item_id.empty()) {
      check(items.contains(item_id));
    }
    ended = isTerminal(event.event);
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
  boost::json::object echo;
  echo["instructions"] = "fuzz";
  echo["temperature"] = 0.5;
  const boost::json::object* echo_ptr = (input.option & 4) ? nullptr : &echo;
  auto encoder = sy::connectors::newResponsesEncoder(status, stream, "fuzz-model", echo_ptr);
  if (encoder == nullptr) {
    // Statuses other than 2xx keep OpenAI's error body; nothing to encode.
    check(status != 200);
    return 0;
  }
  std::string out;
  sy::fuzz::feedInChunks(input.rest, sy::fuzz::tailCuts(input.rest),
                         [&](std::string chunk, bool end) {
                           check(encoder->encode(chunk, end).has_value());
                           out += chunk;
                         });
  if (stream) {
    checkResponsesEvents(out);
  } else {
    const boost::json::object body = parseObject(out);
    check(stringAt(body, "object") == "response" || body.contains("error"));
  }
  return 0;
}
