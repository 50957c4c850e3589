// The size of the conversation a client's request carries (messages, content parts, tools),
// checked against the policy's bounds on the parsed body, before it is decoded into the canonical
// request, scanned or forwarded: a body of many tiny messages costs far more to decode, scan and
// forward than its bytes suggest. Pure functions; thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/surface.h"
#include "core/error.h"

namespace sy::connectors {

// What one request carries, counted the same way on every surface:
// - messages: chat and Anthropic `messages`, Responses `input` items (a string input is one);
// - content_parts: the elements of every array a message (item) holds (content parts or blocks,
//   chat tool calls, a Responses item's output or summary), the blocks of those elements'
//   `content` arrays (an Anthropic tool_result's blocks) and the blocks of an Anthropic `system`;
// - tools: `tools` (and chat's legacy `functions`), with the tools a Responses namespace groups.
// Values of an unexpected kind count nothing here: the surface's decoder refuses them.
struct ConversationSize {
  size_t messages = 0;
  size_t content_parts = 0;
  size_t tools = 0;
};

// The size of `body` (a request of `surface`) plus, for Responses, the stored conversation
// `prior` (the items of a previous_response_id; null: none).
ConversationSize measureConversation(Surface surface, const boost::json::object& body,
                                     const boost::json::array* prior);

struct ConversationBounds {
  uint32_t max_messages = 0;
  uint32_t max_content_parts = 0;
  uint32_t max_tools = 0;
};

// Before the body is parsed into a DOM: a body of at least kPrecheckMinBytes with more '{' than
// bounds.max_messages may hold more messages than allowed, and parsing thousands of tiny objects
// is what such a body costs most (0.9 MB of one-letter messages: 2-4 ms). It is read once by an
// event parser that builds nothing and stops at the first element past the limit of the
// conversation's list (chat and Anthropic `messages`, Responses `input`). InvalidArgument
// (too_many_messages) when that list is longer; OK otherwise, including for a body that is not
// valid JSON (the parse that follows reports it). checkConversation() still checks everything
// on the parsed body.
inline constexpr size_t kPrecheckMinBytes = 64 * 1024;
Status precheckConversation(Surface surface, std::string_view body,
                            const ConversationBounds& bounds);

// OK when `size` is within `bounds`; else InvalidArgument (400) with code too_many_messages,
// too_many_content_parts or too_many_tools, `param` the surface's field (messages, input, tools)
// and a message naming the limit and the count, never the content.
Status checkConversation(Surface surface, const ConversationSize& size,
                         const ConversationBounds& bounds);

}  // namespace sy::connectors
