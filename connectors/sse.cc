#include "connectors/sse.h"

namespace sy::connectors {

bool isSseDataLine(std::string_view line) {
  return line.starts_with("data") && (line.size() == 4 || line[4] == ':');
}

std::string_view sseDataValue(std::string_view line) {
  std::string_view value = line.size() > 4 ? line.substr(5) : std::string_view();
  if (value.starts_with(' ')) {
    value.remove_prefix(1);
  }
  return value;
}

SseLine sseLineAt(std::string_view text, size_t pos) {
  size_t eol = pos;
  while (eol < text.size() && text[eol] != '\n' && text[eol] != '\r') {
    ++eol;
  }
  if (eol == text.size()) {
    return {text.substr(pos), text.size(), false};
  }
  size_t next = eol + 1;
  if (text[eol] == '\r' && next < text.size() && text[next] == '\n') {
    ++next;
  }
  return {text.substr(pos, eol - pos), next, true};
}

SseEventSpan scanSseEvent(std::string_view text, size_t pos) {
  SseEventSpan scan;
  while (pos < text.size()) {
    const SseLine line = sseLineAt(text, pos);
    if (line.text.empty() && line.terminated) {
      scan.end = line.next;
      return scan;
    }
    if (isSseDataLine(line.text) && scan.data_lines++ == 0) {
      scan.data = sseDataValue(line.text);
    }
    pos = line.next;
  }
  return scan;
}

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\n' && c != '\r') {
      continue;
    }
    if (c == '\n' && i == 0 && pending_cr_) {  // the '\n' of a "\r\n" split across feeds
      start = 1;
      pending_cr_ = false;
      continue;
    }
    line_.append(bytes.substr(start, i - start));
    processLine(line_, out);
    line_.clear();
    const bool crlf = c == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n';
    if (crlf) {
      ++i;
    }
    // Only a lone '\r' ending this feed may be the first half of a "\r\n" split across feeds.
    pending_cr_ = c == '\r' && !crlf && i + 1 == bytes.size();
    start = i + 1;
  }
  if (start < bytes.size()) {
    pending_cr_ = false;
    if (line_.size() + (bytes.size() - start) > max_event_bytes_) {
      oversized_ = true;  // keep scanning for the line end, but stop buffering
    } else {
      line_.append(bytes.substr(start));
    }
  }
  return out;
}

void SseParser::processLine(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {  // dispatch
    if (oversized_) {
      ++dropped_;
    } else if (has_data_) {
      out.push_back(std::move(current_));
    }
    current_ = SseEvent{};
    has_data_ = false;
    oversized_ = false;
    return;
  }
  if (line.size() > max_event_bytes_) {
    // Its event is over the bound whatever the line is (a comment too): the same answer as
    // when the line arrives in pieces and feed() stops buffering it.
    oversized_ = true;
    return;
  }
  if (line.front() == ':') {  // comment
    return;
  }
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) {
      current_.data.push_back('\n');
    }
    current_.data.append(value);
    has_data_ = true;
    if (current_.data.size() > max_event_bytes_) {
      oversized_ = true;
      current_.data.clear();
    }
  } else if (field == "event") {
    current_.event.assign(value);
  }
  // "id" and "retry" carry nothing a gateway needs; unknown fields are ignored per the spec.
}

}  // namespace sy::connectors
