// The client-facing API surfaces. Each surface decodes its requests into the gateway's canonical
// request (an OpenAI chat-completions or embeddings object, which every policy phase reads) and
// encodes the canonical answer (an OpenAI chat completion, JSON or `chat.completion.chunk` SSE,
// after response DLP) back into its own wire format. Encoders are per response and NOT
// thread-safe; the free functions are pure.
#pragma once

#include <boost/json/object.hpp>
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
