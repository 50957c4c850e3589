// Internal to the Anthropic connector: the top-level fields of a Messages request (everything but
// `messages`), built from an OpenAI chat-completions body. Pure functions; thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>

#include "core/error.h"

namespace sy::connectors::anthropic {

// Fails with InvalidArgument (400) on a field whose meaning Anthropic cannot honour: n > 1,
// response_format json_object/json_schema, audio output, web_search_options, legacy functions.
Status refuseUntranslatable(const boost::json::object& body);

// The `system` value from the system/developer text blocks: one string joined with "\n\n", or the
// blocks themselves when any carries `cache_control` (the markers must reach Anthropic in order).
boost::json::value systemValue(boost::json::array&& blocks);

// Adds max_tokens (the client's max_completion_tokens or max_tokens, else `default_max_tokens`),
// stop_sequences, temperature, top_p, top_k, stream, metadata.user_id, tools and tool_choice to
// `out`. Fails with InvalidArgument naming the field on a malformed value.
Status addParameters(const boost::json::object& body, uint32_t default_max_tokens,
                     boost::json::object& out);

}  // namespace sy::connectors::anthropic
