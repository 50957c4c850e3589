// OpenAI-compatible upstreams (OpenAI, vLLM, llama.cpp server, Ollama, TGI): the client already
// speaks this protocol, so requests only get the backend's model id and credentials (and streams
// `stream_options.include_usage`, so spend is known), and responses pass through byte for byte
// while usage is read off them (a usage-only event only the gateway asked for is not relayed).
// A backend that serves the Responses API and not chat completions gets the request translated
// to /v1/responses and its answer translated back (responses_backend.h). A backend that serves
// the Responses API gets a Responses client's request as the client sent it (buildNative; its
// answer still goes through the Responses translator, response DLP and the Responses encoder).
// Immutable, thread-safe.
#pragma once

#include "connectors/connector.h"

namespace sy::connectors {

class OpenAiConnector final : public Connector {
 public:
  explicit OpenAiConnector(ServedApis apis = {}) : apis_(apis) {}

  // sy::connectors::Connector
  std::string_view provider() const override { return "openai"; }
  Result<UpstreamRequest> buildRequest(Endpoint endpoint, boost::json::object& body,
                                       const BackendSpec& backend, std::string_view api_key,
                                       std::string_view request_id) const override;
  std::unique_ptr<ResponseTranslator> newTranslator(
      Endpoint endpoint, unsigned status, bool event_stream,
      const TranslatorOptions& options) const override;
  // A Responses client's body passes through to a backend that serves /v1/responses: with the
  // backend's model, `max_output_tokens` lowered to the output cap (set when the client named
  // none), and `store: false` (the gateway answers with its own response ids, so a response
  // stored upstream could never be referenced). The request's `api` is UpstreamApi::Responses.
  bool speaks(Surface surface) const override {
    return surface == Surface::Responses && apis_.responses;
  }
  Result<UpstreamRequest> buildNative(Surface surface, boost::json::object& body,
                                      const BackendSpec& backend, std::string_view api_key,
                                      const NativeRequest& native) const override;

 private:
  const ServedApis apis_;
};

// Reads the `usage` object of an OpenAI response or stream chunk, without parsing the rest of the
// JSON text. Returns a non-reported usage when there is none (or it is null).
TokenUsage extractOpenAiUsage(std::string_view json_text);

// The parts of an upstream request every OpenAI-wire connector shares (OpenAI, Azure OpenAI):
// for a chat stream, asks for the final usage chunk (keeping other stream_options), then
// serializes `body` and sets content-type, accept and x-request-id. The caller sets the target,
// its own credentials header and, before this, its own rewrite of `model`. Idempotent.
UpstreamRequest openAiRequest(Endpoint endpoint, boost::json::object& body,
                              std::string_view request_id);

// The upstream path for an endpoint under a backend base path: "/v1/chat/completions", or
// base + "/chat/completions" when the base already ends in "/v1".
std::string openAiTarget(std::string_view base_path, Endpoint endpoint);

}  // namespace sy::connectors
