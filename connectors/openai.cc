#include "connectors/openai.h"

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/anthropic.h"
#include "connectors/azure_openai.h"
#include "connectors/responses_backend.h"
#include "connectors/sse.h"

namespace sy::connectors {
namespace {

uint64_t readCount(const boost::json::object& usage, std::string_view key) {
  const boost::json::value* value = usage.if_contains(key);
  if (value == nullptr) {
    return 0;
  }
  if (value->is_uint64()) {
    return value->get_uint64();
  }
  return value->is_int64() && value->get_int64() > 0 ? static_cast<uint64_t>(value->get_int64())
                                                     : 0;
}

// A stream event whose delta carries text (content, reasoning) or tool-call arguments: about one
// output token. The role chunk's `"content":""` is not output.
bool carriesOutput(std::string_view data) {
  for (std::string_view key :
       {std::string_view("content\":\""), std::string_view("\"arguments\":\"")}) {
    for (size_t at = data.find(key); at != std::string_view::npos; at = data.find(key, at + 1)) {
      if (at + key.size() < data.size() && data[at + key.size()] != '"') {
        return true;
      }
    }
  }
  return false;
}

// Non-streaming bodies: usage is read once the whole body has gone through.
class OpenAiBodyTranslator final : public ResponseTranslator {
 public:
  Status onChunk(std::string& chunk, bool end) override {
    tail_.append(chunk);
    // Only the end of the body matters (usage is last in OpenAI responses);
    // bound the memory.
    if (tail_.size() > kTailBytes * 2) {
      tail_.erase(0, tail_.size() - kTailBytes);
    }
    if (end) {
      usage_ = extractOpenAiUsage(tail_);
    }
    return {};
  }
  TokenUsage usage() const override { return usage_; }

 private:
  static constexpr size_t kTailBytes = 4096;
  std::string tail_;
  TokenUsage usage_;
};

// Streams: relays whole events only — bytes after the last event boundary wait
// for the rest of their event, so a stream the upstream breaks off never leaves
// the client half an event — and looks at every event for a usage object (sent
// in the final chunk when the request asked for stream_options.include_usage;
// vLLM may send it on every chunk).
class OpenAiStreamTranslator final : public ResponseTranslator {
 public:
  explicit OpenAiStreamTranslator(bool relay_usage_event) : relay_usage_event_(relay_usage_event) {}

  Status onChunk(std::string& chunk, bool end) override {
    if (!pending_.empty()) {
      pending_.append(chunk);
      chunk.swap(pending_);
      pending_.clear();
    }
    if (!end) {
      const size_t boundary = completeEventsEnd(chunk);
      pending_.assign(chunk, boundary);
      chunk.resize(boundary);
    }
    bool drop_usage_event = false;
    for (const SseEvent& event : parser_.feed(chunk)) {
      if (carriesOutput(event.data)) {
        ++streamed_events_;
      }
      if (event.data.find("\"usage\"") != std::string::npos) {
        if (TokenUsage usage = extractOpenAiUsage(event.data); usage.reported) {
          usage_ = usage;
          drop_usage_event = drop_usage_event || (!relay_usage_event_ && isUsageOnly(event.data));
        }
      }
    }
    if (drop_usage_event) {
      dropUsageOnlyEvents(chunk);
    }
    return {};
  }
  TokenUsage usage() const override {
    TokenUsage usage = usage_;
    usage.streamed_events = streamed_events_;
    return usage;
  }

 private:
  // The end of the last complete event in `text` (after its blank line), 0 if
  // there is none.
  static size_t completeEventsEnd(std::string_view text) {
    for (size_t i = text.size(); i >= 2; --i) {
      const char last = text[i - 1];
      const char before = text[i - 2];
      if ((last == '\n' && (before == '\n' || (before == '\r' && i >= 3 && text[i - 3] == '\n'))) ||
          (last == '\r' && before == '\r')) {
        return i;
      }
    }
    return 0;
  }

  // The final chunk of an include_usage stream: no choices, only usage.
  static bool isUsageOnly(std::string_view data) {
    return data.find("\"choices\":[]") != std::string_view::npos;
  }

  // Removes the usage-only events from `chunk` (whole events, as relayed), keeping the rest.
  static void dropUsageOnlyEvents(std::string& chunk) {
    std::string kept;
    size_t start = 0;
    while (start < chunk.size()) {
      size_t end = chunk.find("\n\n", start);
      end = end == std::string::npos ? chunk.size() : end + 2;
      const std::string_view event(chunk.data() + start, end - start);
      // A usage:null event without choices (Azure's prompt_filter_results chunk may be one) is
      // relayed: only a reported usage makes an event the gateway's own.
      if (!(isUsageOnly(event) && extractOpenAiUsage(event).reported)) {
        kept.append(event);
      }
      start = end;
    }
    chunk.swap(kept);
  }

  const bool relay_usage_event_;
  SseParser parser_{1 << 20};
  std::string pending_;  // an event not complete yet
  TokenUsage usage_;
  uint64_t streamed_events_ = 0;
};

// POST /v1/responses with `body` (a Responses request); a Responses stream always ends with its
// usage, so there are no stream_options to add. The caller adds its credentials.
UpstreamRequest responsesRequest(const boost::json::object& body, const BackendSpec& backend,
                                 std::string_view request_id) {
  const boost::json::value* stream = body.if_contains("stream");
  const bool streaming = stream != nullptr && stream->is_bool() && stream->get_bool();
  UpstreamRequest request;
  request.body = boost::json::serialize(body);
  request.headers = {{"content-type", "application/json"},
                     {"accept", streaming ? "text/event-stream" : "application/json"},
                     {"x-request-id", std::string(request_id)}};
  request.target = responsesTarget(backend.address.base_path);
  request.api = UpstreamApi::Responses;
  return request;
}

}  // namespace

TokenUsage extractOpenAiUsage(std::string_view json_text) {
  const size_t key = json_text.rfind("\"usage\"");
  if (key == std::string_view::npos) {
    return {};
  }
  const size_t open = json_text.find_first_not_of(" \t\r\n:", key + 7);
  if (open == std::string_view::npos || json_text[open] != '{') {
    return {};  // null, or not an object
  }
  boost::json::parser parser;
  boost::system::error_code ec;
  parser.write_some(json_text.data() + open, json_text.size() - open, ec);
  if (ec) {  // parser (unlike stream_parser) fails on an incomplete text
    return {};
  }
  const boost::json::value value = parser.release();
  const boost::json::object& usage = value.get_object();
  TokenUsage out{readCount(usage, "prompt_tokens"), readCount(usage, "completion_tokens"), true};
  if (const boost::json::value* details = usage.if_contains("prompt_tokens_details");
      details != nullptr && details->is_object()) {
    out.cached_prompt_tokens = readCount(details->get_object(), "cached_tokens");
  }
  return out;
}

std::string openAiTarget(std::string_view base_path, Endpoint endpoint) {
  std::string target(base_path);
  if (!target.ends_with("/v1")) {
    target += "/v1";
  }
  target += endpoint == Endpoint::ChatCompletions ? "/chat/completions" : "/embeddings";
  return target;
}

UpstreamRequest openAiRequest(Endpoint endpoint, boost::json::object& body,
                              std::string_view request_id) {
  UpstreamRequest request;
  const boost::json::value* stream = body.if_contains("stream");
  const bool streaming = stream != nullptr && stream->is_bool() && stream->get_bool();
  if (streaming && endpoint == Endpoint::ChatCompletions) {
    // Ask for the final usage chunk, so a stream's spend is known (the translator does not relay
    // it unless the client asked too). Other stream_options are kept.
    boost::json::value& options = body["stream_options"];
    if (!options.is_object()) {
      options.emplace_object();
    }
    options.get_object()["include_usage"] = true;
  }
  request.body = boost::json::serialize(body);
  request.headers.emplace_back("content-type", "application/json");
  request.headers.emplace_back("accept", streaming ? "text/event-stream" : "application/json");
  request.headers.emplace_back("x-request-id", std::string(request_id));
  return request;
}

Result<UpstreamRequest> OpenAiConnector::buildRequest(Endpoint endpoint, boost::json::object& body,
                                                      const BackendSpec& backend,
                                                      std::string_view api_key,
                                                      std::string_view request_id) const {
  UpstreamRequest request;
  if (endpoint == Endpoint::ChatCompletions && !apis_.chat_completions) {
    auto responses = toResponsesRequest(body, backend.model);
    if (!responses) {
      return std::unexpected(std::move(responses.error()));
    }
    request = responsesRequest(*responses, backend, request_id);
  } else {
    body["model"] = backend.model;
    request = openAiRequest(endpoint, body, request_id);
    request.target = openAiTarget(backend.address.base_path, endpoint);
  }
  if (!api_key.empty()) {
    request.headers.emplace_back("authorization", "Bearer " + std::string(api_key));
  }
  return request;
}

Result<UpstreamRequest> OpenAiConnector::buildNative(Surface surface, boost::json::object& body,
                                                     const BackendSpec& backend,
                                                     std::string_view api_key,
                                                     const NativeRequest& native) const {
  if (!speaks(surface)) {
    return Connector::buildNative(surface, body, backend, api_key, native);
  }
  body["model"] = backend.model;
  if (native.output_cap != 0) {
    const boost::json::value* limit = body.if_contains("max_output_tokens");
    const bool within = limit != nullptr && limit->is_number() &&
                        limit->to_number<double>() <= native.output_cap;
    if (!within) {
      body["max_output_tokens"] = native.output_cap;
    }
  }
  body["store"] = false;
  body.erase("client_metadata");  // the client's own labels (Codex's), accepted and not forwarded
  UpstreamRequest request = responsesRequest(body, backend, native.request_id);
  if (!api_key.empty()) {
    request.headers.emplace_back("authorization", "Bearer " + std::string(api_key));
  }
  return request;
}

std::unique_ptr<ResponseTranslator> OpenAiConnector::newTranslator(
    Endpoint /*endpoint*/, unsigned status, bool event_stream,
    const TranslatorOptions& options) const {
  if (options.upstream_api == UpstreamApi::Responses) {
    return newResponsesTranslator(status, event_stream, options.client_wants_usage);
  }
  if (event_stream) {
    return std::make_unique<OpenAiStreamTranslator>(options.client_wants_usage);
  }
  return std::make_unique<OpenAiBodyTranslator>();
}

Result<UpstreamRequest> Connector::buildNative(Surface surface, boost::json::object& /*body*/,
                                               const BackendSpec& backend,
                                               std::string_view /*api_key*/,
                                               const NativeRequest& /*native*/) const {
  return makeError(ErrorCode::Internal, ErrorSource::Internal,
                   "backend '" + backend.name + "' does not speak the " +
                       std::string(toString(surface)) + " API",
                   "internal_error");
}

bool hasConnector(BackendKind kind) {
  return kind == BackendKind::OpenAi || kind == BackendKind::Ollama ||
         kind == BackendKind::Anthropic || kind == BackendKind::AzureOpenAi;
}

Result<std::shared_ptr<const Connector>> makeConnector(const BackendSpec& backend) {
  const BackendKind kind = backend.kind;
  switch (kind) {
    case BackendKind::OpenAi:
    case BackendKind::Ollama:  // its OpenAI-compatible API under /v1
      return std::make_shared<const OpenAiConnector>(backend.apis);
    case BackendKind::Anthropic:
      return std::make_shared<const AnthropicConnector>();
    case BackendKind::AzureOpenAi:
      return std::make_shared<const AzureOpenAiConnector>();
  }
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                   "backend kind '" + std::string(toString(kind)) + "' has no connector");
}

}  // namespace sy::connectors
