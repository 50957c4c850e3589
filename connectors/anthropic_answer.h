// The Anthropic Messages surface, outbound to the client: encodes the gateway's canonical answer
// (an OpenAI chat completion or its `chat.completion.chunk` stream, after response DLP) as an
// Anthropic `message` or its event stream (message_start, ping, content_block_start / _delta /
// _stop for text, thinking and tool_use blocks, message_delta with stop_reason and usage,
// message_stop; an in-band error as an `error` event). Error answers become Anthropic error
// bodies. Per response, NOT thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "connectors/surface.h"

namespace sy::connectors {

// The encoder for one answer: the event stream of a 2xx `event_stream` answer, else the whole
// body (a message, or an error body for a non-2xx status). `model`: the name the client asked for.
std::unique_ptr<AnswerEncoder> newAnthropicEncoder(unsigned status, bool event_stream,
                                                   std::string_view model);

// OpenAI finish_reason -> Anthropic stop_reason: stop -> end_turn, length -> max_tokens,
// tool_calls / function_call -> tool_use, content_filter -> refusal; anything else end_turn.
std::string_view anthropicStopReason(std::string_view finish_reason);

// A whole non-streamed chat.completion JSON text -> an Anthropic message JSON text. `model`: the
// name the client asked for. A text that is not a chat completion gives an api_error body.
std::string chatCompletionToMessage(std::string_view completion, std::string_view model);

// Any error body (OpenAI's shape, or not JSON at all) -> an Anthropic error body for `status`.
std::string errorToAnthropic(std::string_view body, unsigned status);

}  // namespace sy::connectors
