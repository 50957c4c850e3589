// The Anthropic Messages surface, inbound (POST /v1/messages and /v1/messages/count_tokens):
// decodes a client's Messages request into the gateway's canonical request, an OpenAI
// chat-completions object, so DLP, classification, routing, scopes, limits and audit run on it
// exactly as on a chat-completions request. Fail closed: the canonical request is built only
// from fields and block types this decoder knows; anything else is refused with a 400 naming it,
// never passed on unseen. Pure functions: thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include "core/error.h"

namespace sy::connectors {

// What the decoder does with each Anthropic field (the README's "Anthropic Messages" section
// lists the same):
// - `system` (string or text blocks), and `role: "system"` entries in `messages` -> system
//   messages; text blocks with `cache_control` keep it (as a content part field).
// - text / image (base64 -> data URL, url) / document (text source) blocks -> content parts;
//   `tool_use` -> assistant `tool_calls` (input serialized as arguments); `tool_result` -> `tool`
//   messages (text content; `is_error` prefixes "Error: "); `thinking` and `redacted_thinking`
//   blocks of earlier turns are dropped (they are only meaningful to the model that wrote them).
// - `tools` (custom tools only; server tools are refused) -> function tools; `tool_choice` ->
//   auto / required / none / a named function; `disable_parallel_tool_use` ->
//   `parallel_tool_calls: false`.
// - `max_tokens`, `stop_sequences` (-> `stop`), `temperature`, `top_p`, `stream` (with
//   `stream_options.include_usage`, so the answer's usage is known), `metadata.user_id`
//   (-> `user`).
// - Dropped knowingly (settings for the model, no content; no OpenAI equivalent): `top_k`,
//   `thinking` (budget or adaptive), `service_tier`, `context_management`, `output_config`
//   (effort). Claude Code sends the last four on every request.
// `count_tokens`: the request of POST /v1/messages/count_tokens, where `max_tokens` is absent.
// Errors: InvalidArgument (400) naming the field, e.g. "messages[2].content[0]: unsupported
// content block type 'server_tool_use'".
Result<boost::json::object> anthropicToChat(const boost::json::object& request,
                                            boost::json::storage_ptr storage,
                                            bool count_tokens = false);

}  // namespace sy::connectors
