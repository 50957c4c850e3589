// Fuzz target: the SSE parser (connectors/sse.h) that reads every upstream stream, and the
// byte-exact event scanner the gateway's own stream filters use. Input: the stream's bytes;
// its last bytes also choose where the stream is cut into chunks. Invariants: the events do not
// depend on where the stream was cut (fed whole and fed in chunks give the same events and the
// same dropped count), and the scanner walks the text forwards inside its bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "connectors/sse.h"
#include "tests/fuzz/fuzz_util.h"

using sy::connectors::SseEvent;
using sy::connectors::SseParser;
using sy::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxEvent = 256;  // small, so oversized events are reachable

  SseParser whole(kMaxEvent);
  const std::vector<SseEvent> expected = whole.feed(input);
  SseParser chunked(kMaxEvent);
  std::vector<SseEvent> events;
  sy::fuzz::feedInChunks(input, sy::fuzz::tailCuts(input), [&](std::string chunk, bool) {
    for (SseEvent& event : chunked.feed(chunk)) {
      events.push_back(std::move(event));
    }
  });
  check(events.size() == expected.size());
  for (size_t i = 0; i < events.size(); ++i) {
    check(events[i].event == expected[i].event && events[i].data == expected[i].data);
    check(events[i].data.size() <= kMaxEvent);
  }
  check(chunked.droppedEvents() == whole.droppedEvents());

  for (size_t pos = 0; pos < input.size();) {
    const auto span = sy::connectors::scanSseEvent(input, pos);
    if (span.end == std::string_view::npos) {
      break;
    }
    check(span.end > pos && span.end <= input.size());
    check(span.data.empty() || (span.data.data() >= input.data() + pos &&
                                span.data.data() + span.data.size() <= input.data() + span.end));
    pos = span.end;
  }
  return 0;
}
