// Server-Sent Events (WHATWG "text/event-stream" rules), two ways: SseParser, an incremental
// parser (feed bytes as they arrive, split anywhere, and get whole events back; per stream, NOT
// thread-safe), for what upstreams send; and scanSseEvent, a byte-exact scanner over text that
// holds whole events, for the gateway's own filters that rewrite or count events in place
// (response DLP, the output bound). Lines end in CRLF, LF or CR; a blank line ends an event.
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

// One event of `text` starting at `pos`: where it ends and where its data lines are.
struct SseEventSpan {
  size_t end = std::string_view::npos;  // after the blank line; npos when the text ends first
  size_t data_lines = 0;
  std::string_view data;  // the first data line's value (without "data:" and one space)
};
SseEventSpan scanSseEvent(std::string_view text, size_t pos);

// The line of `text` starting at `pos`: its text and the offset after its terminator.
struct SseLine {
  std::string_view text;
  size_t next = 0;
  bool terminated = false;
};
SseLine sseLineAt(std::string_view text, size_t pos);

// "data: x" / "data:x" / "data" lines, and their value.
bool isSseDataLine(std::string_view line);
std::string_view sseDataValue(std::string_view line);

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
