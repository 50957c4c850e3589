// Tool-call replies (the tool_calls control): which of the request's declared tools to call, the
// deterministic arguments built from each tool's JSON schema, and the OpenAI and Anthropic bodies
// and streams that carry the calls. Pure functions over the request DOM; thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "examples/mock_llm/handlers.h"

namespace sy::mock {

// A stream sends a call's arguments in pieces of at most this many bytes.
inline constexpr size_t kArgumentPieceBytes = 8;

struct ToolCall {
  std::string name;
  std::string arguments;  // a compact JSON object, e.g. {"file_path":"mock"}
};

// The tool calls for a request whose `tools` value is `tools` (null if absent): `count` calls to
// the declared tools in order, cycling. Declared tools are OpenAI {"type":"function","function":
// {"name","parameters"}} (chat completions) or {"type":"function","name","parameters"}
// (Responses), and Anthropic {"name","input_schema"} with no `type` or "custom"; other kinds
// (server tools, OpenAI custom tools) are skipped. Empty if none is declared.
std::vector<ToolCall> planToolCalls(const boost::json::value* tools, Provider provider,
                                    int64_t count);

// The arguments for a JSON schema: an object with the `required` properties in their order, a
// string "mock", a number or integer 1, a boolean true, anything else null (a `type` array uses
// its first non-"null" entry). No schema, or no `required`: {}.
std::string argumentsFromSchema(const boost::json::value* schema);

// True if the conversation ends in a tool result: OpenAI's last message has role "tool";
// Anthropic's is a user message with a `tool_result` content block.
bool endsWithToolResult(const boost::json::array& messages, Provider provider);

// The id of call `index` (0-based): "call_mock_K" (OpenAI) or "toolu_mock_K" (Anthropic).
std::string callId(Provider provider, size_t index);

// What a reply with `calls` counts as output tokens: ceil(bytes of names and arguments / 4).
int64_t toolCallTokens(const std::vector<ToolCall>& calls);

// The parts of the reply that are not the calls.
struct ToolReplyMeta {
  std::string_view id;          // chatcmpl-… / msg_…
  int64_t created = 0;          // OpenAI
  std::string_view model_json;  // the requested model as a JSON string literal
  std::string_view fingerprint;  // OpenAI
  int64_t input_tokens = 0;
  int64_t cached_tokens = 0;
  bool include_usage = false;  // OpenAI streams: stream_options.include_usage
};

// OpenAI: message.tool_calls [{id "call_mock_K", type function, function {name, arguments}}],
// content null, finish_reason "tool_calls". A stream sends, per call, a delta with index, id,
// type, name and arguments "" (the first also has the role), then the arguments in pieces of at
// most 8 bytes, then the finish chunk (and the usage chunk), then [DONE].
void buildOpenAiToolCalls(const ToolReplyMeta& meta, const std::vector<ToolCall>& calls,
                          bool stream, Reply& reply);

// Anthropic: content [{type tool_use, id "toolu_mock_K", name, input}], stop_reason "tool_use".
// A stream sends message_start, then per call content_block_start (input {}), ping after the
// first, input_json_delta pieces of at most 8 bytes, content_block_stop; then message_delta and
// message_stop.
void buildAnthropicToolUse(const ToolReplyMeta& meta, const std::vector<ToolCall>& calls,
                           bool stream, Reply& reply);

}  // namespace sy::mock
