// The client-facing API surfaces. Each surface decodes its requests into the gateway's canonical
// request (an OpenAI chat-completions or embeddings object, which every policy phase reads) and
// encodes the canonical answer (an OpenAI chat completion, JSON or `chat.completion.chunk` SSE,
// after response DLP) back into its own wire format. Encoders are per response and NOT
// thread-safe; the free functions are pure.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace sy::connectors {

// OpenAI chat completions (and embeddings, models), Anthropic Messages, OpenAI Responses.
enum class Surface { OpenAi, Anthropic, Responses };

// "openai" | "anthropic" | "responses" (metric and log label)
std::string_view toString(Surface surface);

// Rewrites the canonical answer, chunk by chunk, into a surface's format. `chunk` holds whole SSE
// events for streams (or any part of a JSON body) and is rewritten in place; it may become empty
// while the encoder waits for more. `end` is true once, with the last bytes.
class AnswerEncoder {
 public:
  virtual ~AnswerEncoder() = default;
  virtual Status encode(std::string& chunk, bool end) = 0;

  // Surfaces whose answer ends with one response object (Responses: the `response` of a body,
  // or of a stream's response.completed, .incomplete or .failed event) hand it to `hook` once,
  // right before serializing it for the client, so the caller sees the final response exactly
  // as the client will and may amend it (the response store sets `store`). Others never call it.
  using FinalResponseHook = std::function<void(boost::json::object& response)>;
  void setFinalResponseHook(FinalResponseHook hook) { final_response_hook_ = std::move(hook); }

 protected:
  void finalResponse(boost::json::object& response) const {
    if (final_response_hook_) {
      final_response_hook_(response);
    }
  }

 private:
  FinalResponseHook final_response_hook_;
};

// The encoder for one answer with the given status, or null when the surface speaks the
// canonical format (OpenAI). `model`: the model name the client asked for (answers echo it).
// `echo`: the request settings a surface's answers repeat (Responses: responsesEcho), copied;
// null for none.
std::unique_ptr<AnswerEncoder> newAnswerEncoder(Surface surface, unsigned status,
                                                bool event_stream, std::string_view model,
                                                const boost::json::object* echo = nullptr);

// An error answered by the gateway itself, in the surface's error shape.
std::string errorBody(Surface surface, const Error& error);

// One in-band error event that ends a stream whose head is already out, in the surface's shape.
std::string streamErrorEvent(Surface surface, const Error& error);

}  // namespace sy::connectors
