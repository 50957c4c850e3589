// Internal to the Responses surface's decoder: the top-level settings of a Responses request
// (everything but `input` and `instructions`) into the canonical chat-completions request, and
// the settings its answers echo. Pure functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <string>
#include <string_view>

#include "core/error.h"

namespace sy::connectors::responses {

// Adds tools, tool_choice, parallel_tool_calls, response_format and verbosity (from `text`),
// reasoning_effort, max_tokens, sampling, metadata, user and the other carried fields to `out`,
// and checks the fields that are accepted without being forwarded. Fails with InvalidArgument
// naming the field (OpenAI's `param` set) on a malformed value, a built-in tool (unless
// `builtin_tools`: then built-in tools and a tool_choice naming one are left out of `out`) or a
// feature the gateway does not serve.
Status addSettings(const boost::json::object& request, boost::json::object& out,
                   bool builtin_tools);

// True when `tools` holds a built-in OpenAI tool or `tool_choice` names one.
bool usesBuiltInTools(const boost::json::object& request);

// Namespaced function tools (a `namespace` tool groups function tools: Codex sends its sub-agent
// tools so, and a `function_call` then names its `namespace`). Chat completions has no
// namespaces: a namespaced function is declared and called there as "<namespace>__<name>".
std::string chatFunctionName(std::string_view ns, std::string_view name);

// A chat function name back to the Responses names: {namespace, name} when `echo`'s tools (the
// client's own request, responsesEcho) declare a namespace `ns` holding a function `name` with
// chat_name == "<ns>__<name>"; otherwise {"", chat_name}, whatever its underscores.
struct FunctionName {
  std::string ns;
  std::string name;
};
FunctionName responsesFunctionName(std::string_view chat_name, const boost::json::object* echo);

// See responsesEcho (responses_inbound.h).
boost::json::object echo(const boost::json::object& request, boost::json::storage_ptr storage);

}  // namespace sy::connectors::responses
