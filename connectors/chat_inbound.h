// The OpenAI chat-completions surface's own checks. A chat-completions body is the canonical
// request already (nothing to translate), so it is forwarded as the client sent it, after DLP:
// these checks give a mistyped or out-of-range known field the 400 OpenAI itself would answer
// (with `param`), instead of passing it on to a self-hosted backend. Unknown fields are not
// checked here (dlp.unknown_fields decides). Pure functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include "core/error.h"

namespace sy::connectors {

// OK when the sampling and control fields (temperature 0..2, top_p 0..1, n >= 1, penalties
// -2..2, seed, logprobs, top_logprobs 0..20, stop, stream, stream_options, parallel_tool_calls,
// store, user, metadata, logit_bias, tools, tool_choice, response_format, ...) have the kind and
// range OpenAI documents (null is accepted wherever OpenAI accepts it: every optional field), and
// every message is an object with a known role (system, developer, user, assistant, tool,
// function). Else InvalidArgument (400) with `param` the field's path ("temperature",
// "messages[2].role"), code invalid_type or invalid_value, never echoing the value.
Status checkChatRequest(const boost::json::object& body);

}  // namespace sy::connectors
