#include "tests/unit/server/fake_upstream.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "gateway/server/transport/upstream_client.h"

namespace sy::server {
namespace {

namespace json = boost::json;

std::string quoted(std::string_view text) { return json::serialize(json::value(text)); }

std::string chatCompletion(std::string_view text) {
  return R"({"id":"chatcmpl-fake","object":"chat.completion","created":1,"model":"fake",)"
         R"("choices":[{"index":0,"message":{"role":"assistant","content":)" +
         quoted(text) +
         R"(},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,)"
         R"("total_tokens":7}})";
}

std::string chunkEvent(std::string_view delta, bool last) {
  std::string event =
      R"(data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1,"model":"fake",)"
      R"("choices":[{"index":0,"delta":{"content":)" +
      quoted(delta) + R"(},"finish_reason":)" + (last ? R"("stop")" : "null") + "}]}\n\n";
  return event;
}

}  // namespace

FakeReply FakeReply::answer(std::string_view text) {
  FakeReply reply;
  reply.body = chatCompletion(text);
  return reply;
}

FakeReply FakeReply::echoing() {
  FakeReply reply;
  reply.echo = true;
  return reply;
}

FakeReply FakeReply::error(unsigned status) {
  FakeReply reply;
  reply.status = status;
  reply.body = R"({"error":{"message":"scripted failure","type":"server_error","code":null}})";
  return reply;
}

FakeReply FakeReply::stream(const std::vector<std::string>& deltas) {
  FakeReply reply;
  reply.content_type = "text/event-stream";
  for (size_t i = 0; i < deltas.size(); ++i) {
    reply.chunks.push_back(chunkEvent(deltas[i], i + 1 == deltas.size()));
  }
  reply.chunks.push_back("data: [DONE]\n\n");
  return reply;
}

FakeReply FakeReply::refused() {
  FakeReply reply;
  reply.failure = Failure::Refused;
  return reply;
}

FakeReply FakeReply::timeout() {
  FakeReply reply;
  reply.failure = Failure::Timeout;
  return reply;
}

std::string SentRequest::lastMessageText() const {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  const json::object* object = ec ? nullptr : parsed.if_object();
  const json::value* messages = object != nullptr ? object->if_contains("messages") : nullptr;
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return "";
  }
  const json::object* last = messages->get_array().back().if_object();
  const json::value* content = last != nullptr ? last->if_contains("content") : nullptr;
  if (content == nullptr) {
    return "";
  }
  if (content->is_string()) {
    return std::string(content->get_string());
  }
  std::string text;
  if (content->is_array()) {
    for (const json::value& part : content->get_array()) {
      const json::object* p = part.if_object();
      const json::value* piece = p != nullptr ? p->if_contains("text") : nullptr;
      if (piece != nullptr && piece->is_string()) {
        text += piece->get_string();
      }
    }
  }
  return text;
}

// One scripted answer. Destroyed without release(): nothing to close, nothing counted.
class FakeExchange final : public UpstreamExchange {
 public:
  FakeExchange(FakeUpstream& owner, FakeReply reply) : owner_(owner), reply_(std::move(reply)) {
    headers_.set(http::field::content_type, reply_.content_type);
    for (const auto& [name, value] : reply_.headers) {
      headers_.set(name, value);
    }
  }

  // sy::server::UpstreamExchange
  unsigned status() const override { return reply_.status; }
  const http::fields& headers() const override { return headers_; }
  std::chrono::steady_clock::duration firstByte() const override { return {}; }
  net::awaitable<Result<std::string>> readBody() override {
    body_read_ = true;
    co_return std::move(reply_.body);
  }
  net::awaitable<Status> readChunk(std::string& chunk) override {
    if (next_ < reply_.chunks.size()) {
      chunk = reply_.chunks[next_++];
      ++owner_.chunks_read_;
      co_return Status{};
    }
    // Only a broken stream is read past its chunks (done() is true otherwise).
    co_return makeError(ErrorCode::UpstreamError, ErrorSource::Upstream,
                        "fake backend: stream failed: connection reset by peer", "upstream_error",
                        /*retryable=*/true);
  }
  bool done() const override {
    if (reply_.content_type.starts_with("text/event-stream")) {
      return next_ >= reply_.chunks.size() && reply_.failure != FakeReply::Failure::BreakStream;
    }
    return body_read_;
  }
  void release() override { ++owner_.released_; }

 private:
  FakeUpstream& owner_;
  FakeReply reply_;
  http::fields headers_;
  size_t next_ = 0;
  bool body_read_ = false;
};

void FakeUpstream::script(const std::string& backend, std::vector<FakeReply> replies) {
  scripts_[backend] = std::move(replies);
  next_[backend] = 0;
}

std::vector<SentRequest> FakeUpstream::sentTo(std::string_view backend) const {
  std::vector<SentRequest> out;
  for (const SentRequest& request : sent_) {
    if (request.backend == backend) {
      out.push_back(request);
    }
  }
  return out;
}

net::awaitable<Result<std::unique_ptr<UpstreamExchange>>> FakeUpstream::send(
    const config::BackendRuntime& backend, const connectors::UpstreamRequest& request,
    uint64_t /*snapshot_version*/) {
  const BackendSpec& spec = *backend.spec;
  FakeReply reply = FakeReply::answer("ok");
  if (auto script = scripts_.find(spec.name); script != scripts_.end() && !script->second.empty()) {
    size_t& next = next_[spec.name];
    reply = script->second[std::min(next, script->second.size() - 1)];
    ++next;
  }
  SentRequest& sent = sent_.emplace_back();
  sent.backend = spec.name;
  sent.target = request.target;
  sent.headers = request.headers;
  sent.body = request.body;
  sent.delivered =
      reply.failure != FakeReply::Failure::Refused && reply.failure != FakeReply::Failure::Timeout;
  if (reply.failure == FakeReply::Failure::Refused) {
    co_return upstreamIoError(spec, "connect", net::error::connection_refused,
                              "upstream_unreachable");
  }
  if (reply.failure == FakeReply::Failure::Timeout) {
    co_return upstreamIoError(spec, "request", beast::error::timeout, "upstream_error");
  }
  if (reply.echo) {
    reply.body = chatCompletion(sent.lastMessageText());
  }
  co_return std::make_unique<FakeExchange>(*this, std::move(reply));
}

}  // namespace sy::server
