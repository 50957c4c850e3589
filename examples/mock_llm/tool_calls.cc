#include "examples/mock_llm/tool_calls.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace sy::mock {
namespace {

std::string_view view(const boost::json::string& s) { return {s.data(), s.size()}; }

const boost::json::string* stringField(const boost::json::object& obj, std::string_view key) {
  const boost::json::value* v = obj.if_contains(key);
  return v == nullptr ? nullptr : v->if_string();
}

// The schema type of a property: its `type` string, or the first non-"null" entry of a type array.
std::string_view propertyType(const boost::json::value* property) {
  const boost::json::object* obj = property == nullptr ? nullptr : property->if_object();
  const boost::json::value* type = obj == nullptr ? nullptr : obj->if_contains("type");
  if (type == nullptr) {
    return {};
  }
  if (type->is_string()) {
    return view(type->get_string());
  }
  if (type->is_array()) {
    for (const boost::json::value& t : type->get_array()) {
      if (t.is_string() && t.get_string() != "null") {
        return view(t.get_string());
      }
    }
  }
  return {};
}

boost::json::value sampleValue(std::string_view type) {
  if (type == "string") {
    return "mock";
  }
  if (type == "number" || type == "integer") {
    return 1;
  }
  if (type == "boolean") {
    return true;
  }
  return nullptr;
}

}  // namespace

std::string callId(Provider provider, size_t index) {
  return (provider == Provider::OpenAi ? "call_mock_" : "toolu_mock_") + std::to_string(index + 1);
}

std::string argumentsFromSchema(const boost::json::value* schema) {
  const boost::json::object* obj = schema == nullptr ? nullptr : schema->if_object();
  const boost::json::value* required = obj == nullptr ? nullptr : obj->if_contains("required");
  if (required == nullptr || !required->is_array()) {
    return "{}";
  }
  const boost::json::value* props = obj->if_contains("properties");
  const boost::json::object* properties = props == nullptr ? nullptr : props->if_object();
  boost::json::object args;
  for (const boost::json::value& name : required->get_array()) {
    if (!name.is_string()) {
      continue;
    }
    const boost::json::value* property =
        properties == nullptr ? nullptr : properties->if_contains(name.get_string());
    args[name.get_string()] = sampleValue(propertyType(property));
  }
  return boost::json::serialize(args);
}

std::vector<ToolCall> planToolCalls(const boost::json::value* tools, Provider provider,
                                    int64_t count) {
  std::vector<ToolCall> declared;
  const boost::json::array* list = tools == nullptr ? nullptr : tools->if_array();
  for (size_t i = 0; list != nullptr && i < list->size(); ++i) {
    const boost::json::object* tool = (*list)[i].if_object();
    if (tool == nullptr) {
      continue;
    }
    const boost::json::string* type = stringField(*tool, "type");
    const boost::json::object* spec = tool;  // Anthropic: the tool itself
    const char* schema_key = "input_schema";
    if (provider == Provider::OpenAi) {
      const boost::json::value* function = tool->if_contains("function");
      if (type == nullptr || *type != "function" ||
          (function != nullptr && !function->is_object())) {
        continue;
      }
      // Chat completions nest the function; the Responses API has it flat.
      spec = function != nullptr ? &function->get_object() : tool;
      schema_key = "parameters";
    } else if (type != nullptr && *type != "custom") {
      continue;  // a server tool (web_search_…, bash_…): the API runs it, the client does not
    }
    const boost::json::string* name = stringField(*spec, "name");
    if (name == nullptr || name->empty()) {
      continue;
    }
    declared.push_back({std::string(view(*name)), argumentsFromSchema(spec->if_contains(schema_key))});
  }
  std::vector<ToolCall> calls;
  for (int64_t k = 0; !declared.empty() && k < count; ++k) {
    calls.push_back(declared[static_cast<size_t>(k) % declared.size()]);
  }
  return calls;
}

bool endsWithToolResult(const boost::json::array& messages, Provider provider) {
  if (messages.empty() || !messages.back().is_object()) {
    return false;
  }
  const boost::json::object& last = messages.back().get_object();
  const boost::json::string* role = stringField(last, "role");
  if (role == nullptr) {
    return false;
  }
  if (provider == Provider::OpenAi) {
    return *role == "tool";
  }
  const boost::json::value* content = last.if_contains("content");
  if (*role != "user" || content == nullptr || !content->is_array()) {
    return false;
  }
  for (const boost::json::value& block : content->get_array()) {
    const boost::json::object* b = block.if_object();
    const boost::json::string* type = b == nullptr ? nullptr : stringField(*b, "type");
    if (type != nullptr && *type == "tool_result") {
      return true;
    }
  }
  return false;
}

int64_t toolCallTokens(const std::vector<ToolCall>& calls) {
  uint64_t bytes = 0;
  for (const ToolCall& call : calls) {
    bytes += call.name.size() + call.arguments.size();
  }
  return static_cast<int64_t>((bytes + 3) / 4);
}

void buildOpenAiToolCalls(const ToolReplyMeta& meta, const std::vector<ToolCall>& calls,
                          bool stream, Reply& reply) {
  const int64_t completion = toolCallTokens(calls);
  if (!stream) {
    std::string& b = reply.body;
    b += "{\"id\":\"";
    b += meta.id;
    b += "\",\"object\":\"chat.completion\",\"created\":";
    appendInt(b, meta.created);
    b += ",\"model\":";
    b += meta.model_json;
    b += ",\"system_fingerprint\":\"";
    b += meta.fingerprint;
    b += "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
         "\"tool_calls\":[";
    for (size_t i = 0; i < calls.size(); ++i) {
      b += i == 0 ? "{\"id\":\"" : ",{\"id\":\"";
      b += callId(Provider::OpenAi, i);
      b += "\",\"type\":\"function\",\"function\":{\"name\":";
      appendJsonString(b, calls[i].name);
      b += ",\"arguments\":";
      appendJsonString(b, calls[i].arguments);
      b += "}}";
    }
    b += "],\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],\"usage\":";
    appendOpenAiUsage(b, meta.input_tokens, completion, meta.cached_tokens);
    b += '}';
    return;
  }
  reply.kind = Reply::Kind::Stream;
  reply.content_type = "text/event-stream; charset=utf-8";
  std::string prefix = "data: {\"id\":\"";
  prefix += meta.id;
  prefix += "\",\"object\":\"chat.completion.chunk\",\"created\":";
  appendInt(prefix, meta.created);
  prefix += ",\"model\":";
  prefix += meta.model_json;
  prefix += ",\"system_fingerprint\":\"";
  prefix += meta.fingerprint;
  prefix += "\",\"choices\":[{\"index\":0,\"delta\":";
  const std::string_view suffix = meta.include_usage ? "],\"usage\":null}\n\n" : "]}\n\n";
  uint32_t events = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    std::string* ev = &reply.beginEvent();
    *ev += prefix;
    *ev += i == 0 ? "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":"
                  : "{\"tool_calls\":[{\"index\":";
    appendInt(*ev, static_cast<int64_t>(i));
    *ev += ",\"id\":\"";
    *ev += callId(Provider::OpenAi, i);
    *ev += "\",\"type\":\"function\",\"function\":{\"name\":";
    appendJsonString(*ev, calls[i].name);
    *ev += ",\"arguments\":\"\"}}]},\"logprobs\":null,\"finish_reason\":null}";
    *ev += suffix;
    reply.commitEvent();
    ++events;
    for (std::string_view piece : splitUtf8(calls[i].arguments, kArgumentPieceBytes)) {
      ev = &reply.beginEvent();
      *ev += prefix;
      *ev += "{\"tool_calls\":[{\"index\":";
      appendInt(*ev, static_cast<int64_t>(i));
      *ev += ",\"function\":{\"arguments\":";
      appendJsonString(*ev, piece);
      *ev += "}}]},\"logprobs\":null,\"finish_reason\":null}";
      *ev += suffix;
      reply.commitEvent();
      ++events;
    }
  }
  reply.preamble_events = 1;
  reply.content_events = events - 1;
  std::string* ev = &reply.beginEvent();
  *ev += prefix;
  *ev += "{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}";
  *ev += suffix;
  reply.commitEvent();
  if (meta.include_usage) {
    ev = &reply.beginEvent();
    *ev += prefix.substr(0, prefix.size() - std::string_view("{\"index\":0,\"delta\":").size());
    *ev += "],\"usage\":";
    appendOpenAiUsage(*ev, meta.input_tokens, completion, meta.cached_tokens);
    *ev += "}\n\n";
    reply.commitEvent();
  }
  reply.beginEvent() += "data: [DONE]\n\n";
  reply.commitEvent();
  reply.finishStream();
}

namespace {

void appendToolUseStart(std::string& ev, const ToolCall& call, size_t index) {
  ev += "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":";
  appendInt(ev, static_cast<int64_t>(index));
  ev += ",\"content_block\":{\"type\":\"tool_use\",\"id\":\"";
  ev += callId(Provider::Anthropic, index);
  ev += "\",\"name\":";
  appendJsonString(ev, call.name);
  ev += ",\"input\":{}}}\n\n";
}

}  // namespace

void buildAnthropicToolUse(const ToolReplyMeta& meta, const std::vector<ToolCall>& calls,
                           bool stream, Reply& reply) {
  const int64_t output = toolCallTokens(calls);
  if (!stream) {
    std::string& b = reply.body;
    b += "{\"id\":\"";
    b += meta.id;
    b += "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
    b += meta.model_json;
    b += ",\"content\":[";
    for (size_t i = 0; i < calls.size(); ++i) {
      b += i == 0 ? "{\"type\":\"tool_use\",\"id\":\"" : ",{\"type\":\"tool_use\",\"id\":\"";
      b += callId(Provider::Anthropic, i);
      b += "\",\"name\":";
      appendJsonString(b, calls[i].name);
      b += ",\"input\":";
      b += calls[i].arguments;
      b += '}';
    }
    b += "],\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":";
    appendAnthropicUsage(b, meta.input_tokens, output, meta.cached_tokens);
    b += '}';
    return;
  }
  reply.kind = Reply::Kind::Stream;
  reply.content_type = "text/event-stream; charset=utf-8";
  std::string* ev = &reply.beginEvent();
  *ev += "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"";
  *ev += meta.id;
  *ev += "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  *ev += meta.model_json;
  *ev += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":";
  appendAnthropicUsage(*ev, meta.input_tokens, 1, meta.cached_tokens);
  *ev += "}}\n\n";
  reply.commitEvent();
  uint32_t events = 1;
  for (size_t i = 0; i < calls.size(); ++i) {
    appendToolUseStart(reply.beginEvent(), calls[i], i);
    reply.commitEvent();
    ++events;
    if (i == 0) {
      reply.beginEvent() += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
      reply.commitEvent();
      reply.preamble_events = 3;
      events = 0;
    }
    for (std::string_view piece : splitUtf8(calls[i].arguments, kArgumentPieceBytes)) {
      ev = &reply.beginEvent();
      *ev += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":";
      appendInt(*ev, static_cast<int64_t>(i));
      *ev += ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":";
      appendJsonString(*ev, piece);
      *ev += "}}\n\n";
      reply.commitEvent();
      ++events;
    }
    ev = &reply.beginEvent();
    *ev += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":";
    appendInt(*ev, static_cast<int64_t>(i));
    *ev += "}\n\n";
    reply.commitEvent();
    ++events;
  }
  reply.content_events = events;
  ev = &reply.beginEvent();
  *ev += "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
         "\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":";
  appendInt(*ev, output);
  *ev += "}}\n\n";
  reply.commitEvent();
  reply.beginEvent() += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  reply.commitEvent();
  reply.finishStream();
}

}  // namespace sy::mock
