// The OpenAI Responses surface, inbound (POST /v1/responses): decodes a client's Responses request
// into the gateway's canonical request, an OpenAI chat-completions object, so DLP,
// classification, routing, scopes, limits and audit run on it exactly as on a chat-completions
// request. Fail closed: the canonical request is built only from the fields and item types this
// decoder knows; anything else is refused with a 400 naming it, never passed on unseen, and every
// field that carries client text lands in the canonical request (which DLP scans) or is refused.
// Pure functions: thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include "core/error.h"

namespace sy::connectors {

// What the decoder does with each Responses field (the README's "OpenAI Responses" section lists
// the same):
// - `instructions` -> the first message, `role: "system"`.
// - `input`: a string (one user message), or items: messages (`type: "message"` optional; roles
//   user, assistant, system and developer, the last -> system) whose content is a string or
//   parts (`input_text`, `output_text`, `refusal`, `input_image` with an `image_url`,
//   `input_file` with `file_data`); `function_call` -> assistant `tool_calls` (consecutive calls,
//   and calls right after an assistant message, join that message); `function_call_output` ->
//   a `tool` message; `reasoning` items of earlier turns are dropped (only meaningful to the
//   model that wrote them). Item and part `id`/`status` are accepted and dropped.
// - `tools` (function tools, and `namespace` tools grouping function tools) -> chat function
//   tools, a namespace's functions named "<namespace>__<name>" (responses_params.h; a
//   `function_call` item naming a `namespace` likewise); `tool_choice` (auto / none / required /
//   a named function); `parallel_tool_calls`.
// - `text.format` (text / json_object / json_schema) -> `response_format`; `text.verbosity` ->
//   `verbosity`; `reasoning.effort` -> `reasoning_effort` (`reasoning.summary` is dropped).
// - `max_output_tokens` -> `max_tokens` (what self-hosted servers read; the output cap rewrites
//   it per backend), `temperature`, `top_p`, `metadata`, `user`, `service_tier`,
//   `prompt_cache_key`, `safety_identifier`, `stream` (with `stream_options.include_usage`, so
//   the answer's usage is known).
// - Accepted, not forwarded (no chat equivalent, no client text): `store` (whether the answer
//   is kept is the gateway's: gateway/server/pipeline/stored_responses.h), `truncation`, `include` (known
//   values; nothing extra is included), `background: false`, `max_tool_calls` (built-in tools
//   only), `top_logprobs: 0`, `stream_options.include_obfuscation`.
// - Refused: built-in OpenAI tools (web_search, file_search, code_interpreter, computer_use, mcp,
//   image_generation, local_shell, custom tools) and their tool_choice, input items of other
//   types (their calls and outputs, `item_reference`), `background: true`, `prompt`,
//   `conversation`, and any unknown field.
//
// Conversation state (the seam for the response store): `prior` holds the earlier turns of a
// `previous_response_id`, as Responses input items (the previous request's input items followed
// by its output items), resolved by the caller; they are decoded before `input`, exactly as if
// the client had sent them in it (the previous `instructions` are not carried over, as in
// OpenAI's API). With `prior` null, a request naming `previous_response_id` is refused with a 400
// (param `previous_response_id`): the caller resolved no conversation (the pipeline always
// resolves one or answers the store's own error first; `explain` reads no store).
// Errors: InvalidArgument (400) naming the field, e.g. "input[2]: unsupported input item type
// 'web_search_call'", with OpenAI's `param` set to that field.
struct ResponsesDecodeOptions {
  // Built-in OpenAI tools (and a tool_choice naming one) are accepted and left out of the
  // canonical request: the policy lets them pass through (`responses.builtin_tools: allow`),
  // and routing keeps such a request on backends that serve them (usesBuiltInTools).
  bool builtin_tools = false;
};
Result<boost::json::object> responsesToChat(const boost::json::object& request,
                                            boost::json::storage_ptr storage,
                                            const boost::json::array* prior = nullptr,
                                            ResponsesDecodeOptions options = {});

// True when the request's `tools` hold a built-in OpenAI tool or its `tool_choice` names one.
bool usesBuiltInTools(const boost::json::object& request);

// The body that passes through to a Responses backend for a request continuing a stored
// conversation: `input` becomes the `prior` items (as responsesToChat takes them) followed by
// the request's own input (a string input as one user message), and `previous_response_id` is
// removed (the backend never saw the gateway's ids). Nothing changes when `prior` is null. Call
// it before DLP inspects the body, so the whole conversation is scanned and what leaves is the
// inspected body.
void inlinePriorItems(boost::json::object& request, const boost::json::array* prior);

// The request settings a Responses answer repeats (instructions, tools, tool_choice,
// temperature, top_p, max_output_tokens, parallel_tool_calls, text, reasoning, metadata, user,
// truncation, service_tier, previous_response_id), with the API's defaults for those the client
// left out: what responsesToChat accepted, copied from the client's request as it sent them;
// and `store: false`, which the caller sets to true when it will store the answer.
boost::json::object responsesEcho(const boost::json::object& request,
                                  boost::json::storage_ptr storage);

}  // namespace sy::connectors
