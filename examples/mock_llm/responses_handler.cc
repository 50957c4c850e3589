// POST /v1/responses in the OpenAI Responses API wire format: a `response` object, or its event
// stream (response.created, response.in_progress, response.output_item.added,
// response.content_part.added, response.output_text.delta..., the matching *.done events, then
// response.completed, or response.incomplete when max_output_tokens cut the text), each event
// with its `sequence_number`. Function calls (the tool_calls control) are `function_call` output
// items whose arguments stream as response.function_call_arguments.delta. Built as a DOM: the
// mock's hot path is chat completions.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>

#include "examples/mock_llm/handlers.h"
#include "examples/mock_llm/synth.h"
#include "examples/mock_llm/tool_calls.h"

namespace sy::mock {
namespace {

namespace json = boost::json;

void badRequest(Reply& reply, std::string_view message, std::string_view param = {},
                std::string_view code = {}) {
  setOpenAiError(reply, 400, message, "invalid_request_error", param, code);
}

struct ResponsesRequest {
  const json::object* body = nullptr;
  std::string_view model;
  const json::value* input = nullptr;  // a string or an array of items
  bool stream = false;
  int64_t max_output_tokens = 0;  // 0 = no limit
};

// Validates a Responses body as the API does for the fields the mock reads; false (and a 400 in
// `reply`, with the API's wording) if it would reject it.
bool parseRequest(const json::value& value, ResponsesRequest& out, Reply& reply) {
  out.body = value.if_object();
  if (out.body == nullptr) {
    badRequest(reply, "Invalid request body: expected a JSON object.");
    return false;
  }
  const json::value* model = out.body->if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    badRequest(reply, "Missing required parameter: 'model'.", "model",
               "missing_required_parameter");
    return false;
  }
  out.model = model->get_string();
  out.input = out.body->if_contains("input");
  if (out.input == nullptr || !(out.input->is_string() || out.input->is_array())) {
    badRequest(reply, "Invalid type for 'input': expected a string or an array of input items.",
               "input", "invalid_type");
    return false;
  }
  if (const json::value* stream = out.body->if_contains("stream");
      stream != nullptr && !stream->is_null()) {
    if (!stream->is_bool()) {
      badRequest(reply, "Invalid type for 'stream': expected a boolean.", "stream",
                 "invalid_type");
      return false;
    }
    out.stream = stream->get_bool();
  }
  if (!optionalPositiveInt(*out.body, "max_output_tokens", out.max_output_tokens)) {
    badRequest(reply, "Invalid 'max_output_tokens': expected an integer >= 1.",
               "max_output_tokens", "integer_below_min_value");
    return false;
  }
  return true;
}

// The prompt's text bytes and item count: the input (string or items) and the instructions.
int64_t inputTokens(const ResponsesRequest& request) {
  uint64_t bytes = 0;
  uint64_t items = 1;
  if (request.input->is_string()) {
    bytes = request.input->get_string().size();
  } else {
    items = request.input->get_array().size();
    for (const json::value& item : request.input->get_array()) {
      const json::object* object = item.if_object();
      const json::value* content = object == nullptr ? nullptr : object->if_contains("content");
      const json::value* output = object == nullptr ? nullptr : object->if_contains("output");
      bytes += content != nullptr ? contentTextBytes(*content) : 0;
      bytes += output != nullptr && output->is_string() ? output->get_string().size() : 0;
    }
  }
  if (const json::value* instructions = request.body->if_contains("instructions");
      instructions != nullptr && instructions->is_string()) {
    bytes += instructions->get_string().size();
    ++items;
  }
  return estimatePromptTokens(bytes, items);
}

bool endsWithFunctionOutput(const json::value& input) {
  const json::array* items = input.if_array();
  const json::object* last = items == nullptr || items->empty() ? nullptr
                                                                : items->back().if_object();
  const json::value* type = last == nullptr ? nullptr : last->if_contains("type");
  return type != nullptr && type->is_string() && type->get_string() == "function_call_output";
}

struct Plan {
  std::string id;
  int64_t created_at = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cached_tokens = 0;
  bool incomplete = false;          // max_output_tokens cut the text
  std::vector<std::string> pieces;  // the text, one piece per delta
  std::vector<ToolCall> calls;      // or these function calls
};

json::object usage(const Plan& plan) {
  const int64_t cached = std::min(plan.cached_tokens, plan.input_tokens);
  return {{"input_tokens", plan.input_tokens},
          {"input_tokens_details", json::object{{"cached_tokens", cached}}},
          {"output_tokens", plan.output_tokens},
          {"output_tokens_details", json::object{{"reasoning_tokens", 0}}},
          {"total_tokens", plan.input_tokens + plan.output_tokens}};
}

std::string text(const Plan& plan) {
  std::string out;
  for (const std::string& piece : plan.pieces) {
    out += piece;
  }
  return out;
}

json::object messageItem(const Plan& plan, bool done) {
  json::array content;
  if (done) {
    content.push_back(
        json::object{{"type", "output_text"}, {"text", text(plan)}, {"annotations", json::array{}}});
  }
  return {{"id", "msg_" + plan.id},
          {"type", "message"},
          {"status", !done ? "in_progress" : plan.incomplete ? "incomplete" : "completed"},
          {"role", "assistant"},
          {"content", std::move(content)}};
}

json::object callItem(const Plan& plan, size_t i, bool done) {
  return {{"id", "fc_" + plan.id + "_" + std::to_string(i + 1)},
          {"type", "function_call"},
          {"status", done ? "completed" : "in_progress"},
          {"call_id", callId(Provider::OpenAi, i)},
          {"name", plan.calls[i].name},
          {"arguments", done ? plan.calls[i].arguments : ""}};
}

// The response object: `final` has its output and usage, else it is the in-progress head.
json::object response(const Plan& plan, const ResponsesRequest& request, bool final) {
  json::array output;
  if (final && plan.calls.empty()) {
    output.push_back(messageItem(plan, true));
  }
  for (size_t i = 0; final && i < plan.calls.size(); ++i) {
    output.push_back(callItem(plan, i, true));
  }
  const json::value* instructions = request.body->if_contains("instructions");
  const json::value* store = request.body->if_contains("store");
  json::object out{
      {"id", "resp_" + plan.id},
      {"object", "response"},
      {"created_at", plan.created_at},
      {"status", !final ? "in_progress" : plan.incomplete ? "incomplete" : "completed"},
      {"error", nullptr},
      {"incomplete_details", plan.incomplete && final
                                 ? json::value(json::object{{"reason", "max_output_tokens"}})
                                 : json::value(nullptr)},
      {"instructions", instructions != nullptr ? *instructions : json::value(nullptr)},
      {"max_output_tokens", request.max_output_tokens > 0 ? json::value(request.max_output_tokens)
                                                           : json::value(nullptr)},
      {"model", request.model},
      {"output", std::move(output)},
      {"parallel_tool_calls", true},
      {"previous_response_id", nullptr},
      {"store", store != nullptr && store->is_bool() ? store->get_bool() : true},
      {"text", json::object{{"format", json::object{{"type", "text"}}}}},
      {"tool_choice", "auto"},
      {"usage", final ? json::value(usage(plan)) : json::value(nullptr)}};
  return out;
}

class EventWriter {
 public:
  explicit EventWriter(Reply& reply) : reply_(reply) {}
  // One event: `type` and `sequence_number` first, as the API writes them, then `fields`.
  void operator()(std::string_view type, const json::object& fields) {
    json::object data{{"type", type}, {"sequence_number", sequence_++}};
    for (const json::key_value_pair& field : fields) {
      data.emplace(field.key(), field.value());
    }
    std::string& event = reply_.beginEvent();
    event += "event: ";
    event += type;
    event += "\ndata: ";
    event += json::serialize(data);
    event += "\n\n";
    reply_.commitEvent();
    ++count_;
  }
  uint32_t count() const { return count_; }

 private:
  Reply& reply_;
  int64_t sequence_ = 0;
  uint32_t count_ = 0;
};

void buildStream(const Plan& plan, const ResponsesRequest& request, Reply& reply) {
  reply.kind = Reply::Kind::Stream;
  reply.content_type = "text/event-stream; charset=utf-8";
  EventWriter write(reply);
  write("response.created", {{"response", response(plan, request, false)}});
  write("response.in_progress", {{"response", response(plan, request, false)}});
  const std::string message_id = "msg_" + plan.id;
  if (plan.calls.empty()) {
    write("response.output_item.added", {{"output_index", 0}, {"item", messageItem(plan, false)}});
    const json::object empty_part{
        {"type", "output_text"}, {"text", ""}, {"annotations", json::array{}}};
    write("response.content_part.added", {{"item_id", message_id},
                                          {"output_index", 0},
                                          {"content_index", 0},
                                          {"part", empty_part}});
    reply.preamble_events = write.count();
    for (const std::string& piece : plan.pieces) {
      write("response.output_text.delta", {{"item_id", message_id},
                                           {"output_index", 0},
                                           {"content_index", 0},
                                           {"delta", piece},
                                           {"logprobs", json::array{}}});
    }
    reply.content_events = static_cast<uint32_t>(plan.pieces.size());
    write("response.output_text.done", {{"item_id", message_id},
                                        {"output_index", 0},
                                        {"content_index", 0},
                                        {"text", text(plan)},
                                        {"logprobs", json::array{}}});
    json::object part{{"type", "output_text"}, {"text", text(plan)}, {"annotations", json::array{}}};
    write("response.content_part.done", {{"item_id", message_id},
                                         {"output_index", 0},
                                         {"content_index", 0},
                                         {"part", std::move(part)}});
    write("response.output_item.done", {{"output_index", 0}, {"item", messageItem(plan, true)}});
  } else {
    reply.preamble_events = write.count();
    for (size_t i = 0; i < plan.calls.size(); ++i) {
      const json::object added = callItem(plan, i, false);
      const json::value item_id = added.at("id");
      write("response.output_item.added", {{"output_index", i}, {"item", added}});
      for (std::string_view piece : splitUtf8(plan.calls[i].arguments, kArgumentPieceBytes)) {
        write("response.function_call_arguments.delta",
              {{"item_id", item_id}, {"output_index", i}, {"delta", piece}});
      }
      write("response.function_call_arguments.done",
            {{"item_id", item_id}, {"output_index", i}, {"arguments", plan.calls[i].arguments}});
      write("response.output_item.done", {{"output_index", i}, {"item", callItem(plan, i, true)}});
    }
    reply.content_events = write.count() - reply.preamble_events;
  }
  write(plan.incomplete ? "response.incomplete" : "response.completed",
        {{"response", response(plan, request, true)}});
  reply.finishStream();
}

// The last user text of the input (a string input is that text).
std::string_view userText(const json::value& input, std::string& joined) {
  if (input.is_string()) {
    return input.get_string();
  }
  return lastUserText(input.get_array(), joined);
}

}  // namespace

void handleResponses(const Request& request, ServerState& state, Reply& reply) {
  JsonBody json(request.body());
  if (!json.ok()) {
    return badRequest(
        reply, "We could not parse the JSON body of your request. (" + json.errorMessage() + ")");
  }
  ResponsesRequest req;
  if (!parseRequest(json.value(), req, reply)) {
    return;
  }
  std::string joined;
  const std::string_view user_text = userText(*req.input, joined);
  auto controls = effectiveControls(state.controls.forRequest(), request, user_text);
  if (!controls) {
    return badRequest(reply, controls.error().message, {}, controls.error().code_id);
  }
  if (applyFailureControls(*controls, Provider::OpenAi, req.stream, reply)) {
    return;
  }
  addRequestId("x-request-id", state, reply);
  Plan plan;
  plan.id = state.nextId();
  plan.created_at = static_cast<int64_t>(std::time(nullptr));
  plan.input_tokens = inputTokens(req);
  plan.cached_tokens = controls->cached_tokens;
  if (controls->tool_calls > 0 && !endsWithFunctionOutput(*req.input)) {
    plan.calls = planToolCalls(req.body->if_contains("tools"), Provider::OpenAi,
                               controls->tool_calls);
    plan.output_tokens = toolCallTokens(plan.calls);
  }
  if (plan.calls.empty()) {
    if (controls->echo_chunk_bytes > 0) {
      for (std::string_view piece :
           splitUtf8(user_text, static_cast<size_t>(controls->echo_chunk_bytes))) {
        plan.pieces.emplace_back(piece);
      }
    } else {
      int64_t tokens = controls->reply_tokens;
      if (controls->ignore_max_tokens == 0 && req.max_output_tokens > 0 &&
          req.max_output_tokens < tokens) {
        tokens = req.max_output_tokens;
        plan.incomplete = true;
      }
      for (int64_t i = 0; i < tokens; ++i) {
        appendToken(plan.pieces.emplace_back(), i, state.options.name);
      }
    }
    plan.output_tokens = static_cast<int64_t>(plan.pieces.size());
  }
  if (req.stream) {
    buildStream(plan, req, reply);
  } else {
    reply.body = json::serialize(response(plan, req, true));
  }
}

}  // namespace sy::mock
