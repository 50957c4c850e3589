// Incremental Server-Sent Events parser (WHATWG "text/event-stream" rules): feed bytes as they
// arrive, split anywhere, and get whole events back. Per stream, NOT thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sy::connectors {

struct SseEvent {
  std::string event;  // "" when the stream named none ("message" per the spec)
  std::string data;   // data lines joined with '\n'
};

class SseParser {
 public:
  // `max_event_bytes` bounds memory: an event larger than that is dropped and counted.
  explicit SseParser(size_t max_event_bytes = 4 << 20) : max_event_bytes_(max_event_bytes) {}

  // Appends `bytes` and returns every event completed by them (a blank line ends an event).
  std::vector<SseEvent> feed(std::string_view bytes);

  size_t droppedEvents() const { return dropped_; }

 private:
  void processLine(std::string_view line, std::vector<SseEvent>& out);

  size_t max_event_bytes_;
  std::string line_;  // the unfinished line carried over between feeds
  SseEvent current_;
  bool has_data_ = false;
  bool pending_cr_ = false;  // a '\r' ended the previous feed: a following '\n' belongs to it
  bool oversized_ = false;
  size_t dropped_ = 0;
};

}  // namespace sy::connectors
