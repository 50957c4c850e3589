// A scripted Upstream for in-process pipeline tests: each backend (by name) answers from its own
// list of replies, in order, the last one repeating (an unscripted backend answers 200 with a
// small chat completion). Every send() is recorded, with the request as the connector built it,
// so a test can prove what reached which backend, and what never did. No sockets and no timers:
// a timeout or a refused connection is the error the real upstream would return, at once.
// Single-threaded, like the pipeline it serves.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/server/transport/upstream.h"

namespace sy::server {

struct FakeReply {
  enum class Failure {
    None,
    Refused,     // send() fails: connection refused (502 upstream_unreachable, retryable)
    Timeout,     // send() fails: no answer head in time (504 upstream_timeout, retryable)
    BreakStream  // the stream's chunks, then readChunk() fails (a reset mid-stream)
  };
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  std::string body;                                          // a whole answer
  std::vector<std::string> chunks;  // a streamed answer, one readChunk() each
  bool echo = false;                // body: a chat completion echoing the last message's text
  Failure failure = Failure::None;

  // A chat completion whose message says `text`, with usage 5 + 2 tokens.
  static FakeReply answer(std::string_view text);
  // A chat completion repeating the content of the request's last message.
  static FakeReply echoing();
  // `status` with an OpenAI error body.
  static FakeReply error(unsigned status);
  // An SSE stream: one chat.completion.chunk event per piece of `deltas`, then [DONE].
  static FakeReply stream(const std::vector<std::string>& deltas);
  static FakeReply refused();
  static FakeReply timeout();
};

// One request as it left the pipeline.
struct SentRequest {
  std::string backend;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool delivered = false;  // false when the script refused the connection or timed it out
  // The text of the last message of `body` (a chat request), "" when there is none.
  std::string lastMessageText() const;
};

class FakeUpstream final : public Upstream {
 public:
  // The replies of `backend` for its next sends, in order; the last one repeats.
  void script(const std::string& backend, std::vector<FakeReply> replies);

  // Every send(), in order.
  const std::vector<SentRequest>& sent() const { return sent_; }
  // The sends to `backend`.
  std::vector<SentRequest> sentTo(std::string_view backend) const;
  // Exchanges the pipeline released (read to the end; a real connection would be reused).
  size_t released() const { return released_; }
  // Chunks handed out by readChunk(), over all streams.
  size_t chunksRead() const { return chunks_read_; }

  // sy::server::Upstream
  net::awaitable<Result<std::unique_ptr<UpstreamExchange>>> send(
      const config::BackendRuntime& backend, const connectors::UpstreamRequest& request,
      uint64_t snapshot_version) override;

 private:
  friend class FakeExchange;
  std::map<std::string, std::vector<FakeReply>, std::less<>> scripts_;
  std::map<std::string, size_t, std::less<>> next_;
  std::vector<SentRequest> sent_;
  size_t released_ = 0;
  size_t chunks_read_ = 0;
};

}  // namespace sy::server
