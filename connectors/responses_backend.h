// OpenAI Responses API upstreams (`POST /v1/responses`): for a backend that serves Responses and
// not chat completions, the canonical chat-completions request is rebuilt as a Responses request
// (messages -> input items, system -> instructions, tools, text.format, max_output_tokens,
// reasoning.effort) and the answer, JSON or event stream, is rebuilt as the canonical chat
// completion or `chat.completion.chunk` events. The mapping rules are in README.md ("Responses
// backends"). Pure functions; the translators are per response and NOT thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/connector.h"

namespace sy::connectors {

// Translates an OpenAI chat-completions body into a Responses body for `model`. Built from a
// whitelist: fields with no Responses equivalent that do not change what the answer means are
// dropped (seed, stream_options, n = 1, ...); those that do (n > 1, stop, audio, logprobs,
// logit_bias, penalties, legacy functions) fail with InvalidArgument (400, Downstream) naming the
// field, as do malformed messages ("messages[2].tool_calls[0]: ..."). `store` is false unless the
// client asked for it (the Responses API stores by default; chat completions does not).
Result<boost::json::object> toResponsesRequest(const boost::json::object& body,
                                               std::string_view model);

// The Responses path under a backend base path: "/v1/responses", or base + "/responses" when the
// base already ends in "/v1".
std::string responsesTarget(std::string_view base_path);

// Translators (responses_backend_translator.cc). A 2xx `response` body -> `chat.completion` (buffered, at
// most kMaxResponsesBody bytes; a `failed` response is an UpstreamError, retryable when the
// upstream's error code says it is transient); a 2xx event stream -> `chat.completion.chunk`
// events, whole events only, ending with the finish chunk (and the usage chunk when
// `client_wants_usage`) and `[DONE]`, or an in-band OpenAI error event for `error`,
// `response.failed` and a stream cut short; anything else -> an OpenAI error body with the same
// status (the upstream's own when it is one).
std::unique_ptr<ResponseTranslator> newResponsesTranslator(unsigned status, bool event_stream,
                                                           bool client_wants_usage);
inline constexpr size_t kMaxResponsesBody = 64 << 20;  // forward.cc's own bound on a body

}  // namespace sy::connectors
