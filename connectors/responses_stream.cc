#include "connectors/responses_stream.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "connectors/responses_answer.h"
#include "connectors/responses_inbound.h"
#include "connectors/sse.h"
#include "core/json_text.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

std::string_view stringOr(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

class ResponsesStreamEncoder final : public AnswerEncoder {
 public:
  ResponsesStreamEncoder(std::string_view model, const json::object* echo)
      : model_(model),
        echo_(echo != nullptr ? *echo : responsesEcho({}, {})),
        id_(newResponsesId("resp_")),
        created_at_(std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count()) {}

  Status encode(std::string& chunk, bool end) override {
    std::string out;
    for (const SseEvent& event : parser_.feed(chunk)) {
      if (!finished_) {
        onEvent(event.data, out);
      }
    }
    if (end && !finished_) {
      finish(out);
    }
    chunk.swap(out);
    return {};
  }

 private:
  enum class Kind { Reasoning, Message, Call };
  struct Part {
    bool refusal = false;
    std::string text;
  };
  struct Item {
    Kind kind = Kind::Message;
    std::string id = {};
    size_t output_index = 0;
    bool open = true;
    std::string text = {};         // reasoning: the summary text; call: the arguments
    std::vector<Part> parts = {};  // message
    std::string call_id = {};
    std::string name = {};
    int64_t call_index = -1;  // the canonical tool_calls index
  };

  void onEvent(std::string_view data, std::string& out) {
    if (data == "[DONE]") {
      finish(out);
      return;
    }
    unsigned char arena[4096];  // one arena per event: a typical chunk parses without allocating
    json::monotonic_resource memory(arena, sizeof arena);
    boost::system::error_code ec;
    const json::value parsed = json::parse(data, ec, &memory);
    if (ec || !parsed.is_object()) {
      return;  // not a chunk (the canonical stream has none such)
    }
    const json::object& event = parsed.get_object();
    if (const json::value* error = event.if_contains("error"); error != nullptr) {
      std::string_view message =
          error->is_object() ? stringOr(error->get_object(), "message") : std::string_view();
      fail(message.empty() ? "The upstream stream failed." : message, out);
      return;
    }
    start(out);
    if (const json::value* usage = event.if_contains("usage"); usage && usage->is_object()) {
      usage_ = responsesUsage(usage->get_object());
    }
    const json::value* choices = event.if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->get_array().empty() ||
        !choices->get_array()[0].is_object()) {
      return;
    }
    const json::object& choice = choices->get_array()[0].get_object();
    if (const json::value* delta = choice.if_contains("delta"); delta && delta->is_object()) {
      onDelta(delta->get_object(), out);
    }
    if (std::string_view reason = stringOr(choice, "finish_reason"); !reason.empty()) {
      finish_reason_ = reason;
    }
  }

  void onDelta(const json::object& delta, std::string& out) {
    if (std::string_view reasoning = stringOr(delta, "reasoning_content"); !reasoning.empty()) {
      Item& item = textItem(Kind::Reasoning, out);
      item.text += reasoning;
      deltaEvent("response.reasoning_summary_text.delta", item, "summary_index", 0, reasoning, out);
    }
    for (const bool refusal : {false, true}) {
      std::string_view text = stringOr(delta, refusal ? "refusal" : "content");
      if (text.empty()) {
        continue;
      }
      Item& item = textItem(Kind::Message, out);
      if (item.parts.empty() || item.parts.back().refusal != refusal) {
        if (!item.parts.empty()) {
          closePart(item, out);
        }
        item.parts.push_back(Part{refusal, ""});
        emit("response.content_part.added",
             {{"item_id", item.id},
              {"output_index", item.output_index},
              {"content_index", item.parts.size() - 1},
              {"part", partJson(item.parts.back(), "")}},
             out);
      }
      item.parts.back().text += text;
      deltaEvent(refusal ? "response.refusal.delta" : "response.output_text.delta", item,
                 "content_index", item.parts.size() - 1, text, out);
    }
    const json::value* calls = delta.if_contains("tool_calls");
    if (calls == nullptr || !calls->is_array()) {
      return;
    }
    for (const json::value& entry : calls->get_array()) {
      if (const json::object* call = entry.if_object()) {
        onToolCall(*call, out);
      }
    }
  }

  void onToolCall(const json::object& call, std::string& out) {
    const json::value* index_value = call.if_contains("index");
    const int64_t index =
        index_value != nullptr && index_value->is_int64() ? index_value->get_int64() : 0;
    const json::value* function_value = call.if_contains("function");
    const json::object* function = function_value ? function_value->if_object() : nullptr;
    Item* item = nullptr;
    for (Item& candidate : items_) {
      if (candidate.kind == Kind::Call && candidate.open && candidate.call_index == index) {
        item = &candidate;
      }
    }
    if (item == nullptr) {
      closeText(out);
      std::string call_id(stringOr(call, "id"));
      item = &addItem(Kind::Call, "fc_");
      item->call_index = index;
      item->call_id = call_id.empty() ? newResponsesId("call_") : call_id;
      item->name = function != nullptr ? stringOr(*function, "name") : "";
      emit("response.output_item.added",
           {{"output_index", item->output_index}, {"item", itemJson(*item, "in_progress")}}, out);
    }
    std::string_view arguments = function != nullptr ? stringOr(*function, "arguments") : "";
    if (!arguments.empty()) {
      item->text += arguments;
      deltaEvent("response.function_call_arguments.delta", *item, "", 0, arguments, out);
    }
  }

  Item& addItem(Kind kind, std::string_view prefix) {
    items_.push_back(Item{.kind = kind, .id = newResponsesId(prefix)});
    items_.back().output_index = items_.size() - 1;
    return items_.back();
  }

  // The open reasoning or message item of `kind`, opening it (and closing the other) if needed.
  Item& textItem(Kind kind, std::string& out) {
    if (text_item_ >= 0 && items_[text_item_].kind == kind) {
      return items_[text_item_];
    }
    closeText(out);
    Item& item = addItem(kind, kind == Kind::Reasoning ? "rs_" : "msg_");
    text_item_ = static_cast<int64_t>(item.output_index);
    emit("response.output_item.added",
         {{"output_index", item.output_index}, {"item", itemJson(item, "in_progress")}}, out);
    if (kind == Kind::Reasoning) {
      emit("response.reasoning_summary_part.added",
           {{"item_id", item.id},
            {"output_index", item.output_index},
            {"summary_index", 0},
            {"part", {{"type", "summary_text"}, {"text", ""}}}},
           out);
    }
    return item;
  }

  void closePart(const Item& item, std::string& out) {
    const Part& part = item.parts.back();
    const size_t index = item.parts.size() - 1;
    emit(part.refusal ? "response.refusal.done" : "response.output_text.done",
         {{"item_id", item.id},
          {"output_index", item.output_index},
          {"content_index", index},
          {part.refusal ? "refusal" : "text", part.text}},
         out);
    emit("response.content_part.done",
         {{"item_id", item.id},
          {"output_index", item.output_index},
          {"content_index", index},
          {"part", partJson(part, part.text)}},
         out);
  }

  void closeText(std::string& out) {
    if (text_item_ < 0) {
      return;
    }
    Item& item = items_[text_item_];
    text_item_ = -1;
    if (item.kind == Kind::Reasoning) {
      emit("response.reasoning_summary_text.done",
           {{"item_id", item.id},
            {"output_index", item.output_index},
            {"summary_index", 0},
            {"text", item.text}},
           out);
      emit("response.reasoning_summary_part.done",
           {{"item_id", item.id},
            {"output_index", item.output_index},
            {"summary_index", 0},
            {"part", {{"type", "summary_text"}, {"text", item.text}}}},
           out);
    } else if (!item.parts.empty()) {
      closePart(item, out);
    }
    closeItem(item, out);
  }

  void closeItem(Item& item, std::string& out) {
    item.open = false;
    if (item.kind == Kind::Call) {
      emit("response.function_call_arguments.done",
           {{"item_id", item.id}, {"output_index", item.output_index}, {"arguments", item.text}},
           out);
    }
    emit("response.output_item.done",
         {{"output_index", item.output_index}, {"item", itemJson(item, itemStatus())}}, out);
  }

  // A message closed before the answer's end (tool calls followed) was completed.
  std::string_view itemStatus() const {
    return closing_ ? responseOutcome(finish_reason_).status : "completed";
  }

  static json::object partJson(const Part& part, std::string_view text) {
    if (part.refusal) {
      return json::object{{"type", "refusal"}, {"refusal", text}};
    }
    return json::object{{"type", "output_text"}, {"annotations", json::array{}}, {"text", text}};
  }

  json::object itemJson(const Item& item, std::string_view status) const {
    switch (item.kind) {
      case Kind::Reasoning: {
        json::array summary;
        if (!item.text.empty()) {
          summary.push_back(json::object{{"type", "summary_text"}, {"text", item.text}});
        }
        return json::object{
            {"id", item.id}, {"type", "reasoning"}, {"summary", std::move(summary)}};
      }
      case Kind::Message: {
        json::array content;
        if (status != "in_progress") {
          for (const Part& part : item.parts) {
            content.push_back(partJson(part, part.text));
          }
        }
        return json::object{{"id", item.id},
                            {"type", "message"},
                            {"status", status},
                            {"role", "assistant"},
                            {"content", std::move(content)}};
      }
      case Kind::Call:
        return functionCallItem(item.id, status, status == "in_progress" ? "" : item.text,
                                item.call_id, item.name, &echo_);
    }
    return {};
  }

  json::array outputJson() const {
    json::array output;
    for (const Item& item : items_) {
      output.push_back(itemJson(item, item.open ? "incomplete" : itemStatus()));
    }
    return output;
  }

  void emit(std::string_view type, json::object fields, std::string& out) {
    json::object event{{"type", type}};
    for (auto& entry : fields) {
      event[entry.key()] = std::move(entry.value());
    }
    event["sequence_number"] = sequence_++;
    out += "event: ";
    out += type;
    out += "\ndata: ";
    out += json::serialize(event);
    out += "\n\n";
  }

  // The per-token events, written directly (no JSON values built): what streams pay per event.
  // `index_key` "": the event has no part or summary index (function call arguments).
  void deltaEvent(std::string_view type, const Item& item, std::string_view index_key, size_t index,
                  std::string_view delta, std::string& out) {
    out += "event: ";
    out += type;
    out += "\ndata: {\"type\":\"";
    out += type;
    out += "\",\"item_id\":\"";
    out += item.id;  // the gateway's own: [a-z0-9_]
    out += "\",\"output_index\":";
    out += std::to_string(item.output_index);
    if (!index_key.empty()) {
      out += ",\"";
      out += index_key;
      out += "\":";
      out += std::to_string(index);
    }
    out += ",\"delta\":";
    appendJsonString(out, delta);
    out += ",\"sequence_number\":";
    out += std::to_string(sequence_++);
    out += "}\n\n";
  }

  json::object response(std::string_view status, std::string_view reason, json::value usage,
                        json::value error) const {
    return responseObject(id_, created_at_, status, reason, model_, outputJson(), std::move(usage),
                          std::move(error), &echo_);
  }

  void start(std::string& out) {
    if (started_) {
      return;
    }
    started_ = true;
    for (std::string_view type : {"response.created", "response.in_progress"}) {
      emit(type, {{"response", response("in_progress", "", nullptr, nullptr)}}, out);
    }
  }

  void finish(std::string& out) {
    start(out);
    closing_ = true;
    closeText(out);
    for (Item& item : items_) {
      if (item.open) {
        closeItem(item, out);
      }
    }
    const ResponseOutcome outcome = responseOutcome(finish_reason_);
    json::object final = response(outcome.status, outcome.reason, usage_, nullptr);
    finalResponse(final);
    emit(outcome.status == "completed" ? "response.completed" : "response.incomplete",
         {{"response", std::move(final)}}, out);
    finished_ = true;
  }

  void fail(std::string_view message, std::string& out) {
    start(out);
    json::object final = response("failed", "", usage_,
                                  json::object{{"code", "server_error"}, {"message", message}});
    finalResponse(final);
    emit("response.failed", {{"response", std::move(final)}}, out);
    finished_ = true;
  }

  SseParser parser_{1 << 20};
  std::string model_;
  json::object echo_;
  std::string id_;
  int64_t created_at_;
  bool started_ = false;
  bool finished_ = false;
  bool closing_ = false;  // finish() began: items close with the answer's final status
  std::vector<Item> items_;
  int64_t text_item_ = -1;  // the open reasoning or message item (an index into items_)
  uint64_t sequence_ = 0;
  std::string finish_reason_;
  json::object usage_ = responsesUsage({});
};

}  // namespace

std::unique_ptr<AnswerEncoder> newResponsesStreamEncoder(std::string_view model,
                                                         const json::object* echo) {
  return std::make_unique<ResponsesStreamEncoder>(model, echo);
}

}  // namespace sy::connectors
