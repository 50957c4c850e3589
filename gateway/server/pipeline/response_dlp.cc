#include "gateway/server/pipeline/response_dlp.h"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "connectors/sse.h"
#include "policies/streaming_redactor.h"

namespace sy::server {
namespace {

namespace json = boost::json;
using policies::DlpAction;
using policies::PolicyAction;
using policies::StreamingRedactor;

// The text fields a model writes, per choice. Tool-call arguments also carry the call's index.
// Reasoning is vLLM's and DeepSeek's `reasoning_content`; ReasoningText is the `reasoning`
// string of Ollama's and OpenRouter's OpenAI-compatible APIs.
enum class Field : uint8_t {
  Content,
  Refusal,
  Reasoning,
  ReasoningText,
  ToolArguments,
  FunctionArguments
};

struct Key {
  int64_t choice = 0;
  Field field = Field::Content;
  int64_t tool = 0;  // ToolArguments only

  bool operator==(const Key&) const = default;
};

DlpAction toDlpAction(PolicyAction action) {
  switch (action) {
    case PolicyAction::Allow:
      return DlpAction::Allow;
    case PolicyAction::Mask:
      return DlpAction::Mask;
    case PolicyAction::Redact:
    case PolicyAction::Pseudonymize:  // never for responses: nothing could restore it
    case PolicyAction::Block:         // never for responses: a stream cannot be refused
      return DlpAction::Redact;
  }
  return DlpAction::Redact;
}

// Invalid UTF-8 in a string is passed on as it came rather than failing the whole chunk.
json::parse_options parseOptions() {
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  return options;
}

// Cheap pre-checks on a chunk's JSON text before paying for a parse.
bool mayCarryText(std::string_view json_text) {
  return json_text.find("\"content\"") != std::string_view::npos ||
         json_text.find("\"arguments\"") != std::string_view::npos ||
         json_text.find("\"refusal\"") != std::string_view::npos ||
         json_text.find("\"reasoning") != std::string_view::npos;
}

int64_t indexOf(const json::object& object, int64_t fallback) {
  const json::value* index = object.if_contains("index");
  if (index != nullptr) {
    if (const int64_t* i = index->if_int64()) {
      return *i;
    }
    if (const uint64_t* u = index->if_uint64()) {
      return static_cast<int64_t>(*u);
    }
  }
  return fallback;
}

json::object* objectAt(json::object& object, std::string_view key) {
  json::value* value = object.if_contains(key);
  return value != nullptr ? value->if_object() : nullptr;
}

// object[key] as an object, replacing a missing or non-object value by {}.
json::object& ensureObject(json::object& object, std::string_view key) {
  json::value& value = object[key];
  if (!value.is_object()) {
    value.emplace_object();
  }
  return value.get_object();
}

// Appends flushed text to object[key]: to a string, as one more text part of an array of
// parts, or as a new string (missing or null).
void appendText(json::object& object, std::string_view key, std::string_view text) {
  json::value& value = object[key];
  if (json::string* s = value.if_string()) {
    s->append(text);
  } else if (json::array* parts = value.if_array()) {
    json::object part(object.storage());
    part["type"] = "text";
    part["text"] = text;
    parts->emplace_back(std::move(part));
  } else {
    value.emplace_string() = text;
  }
}

// The tool_calls entry of `delta` with the given index, created (at the end) when missing.
json::object& toolCallEntry(json::object& delta, int64_t tool) {
  json::value& calls = delta["tool_calls"];
  if (!calls.is_array()) {
    calls.emplace_array();
  }
  json::array& array = calls.get_array();
  for (json::value& entry : array) {
    if (json::object* call = entry.if_object(); call != nullptr && indexOf(*call, -1) == tool) {
      return *call;
    }
  }
  json::object call(delta.storage());
  call["index"] = tool;
  return array.emplace_back(std::move(call)).get_object();
}

// Adds a redactor's flushed tail to the delta (or message) field it came from.
void appendFlushed(json::object& delta, const Key& key, std::string_view text) {
  switch (key.field) {
    case Field::Content:
      appendText(delta, "content", text);
      break;
    case Field::Refusal:
      appendText(delta, "refusal", text);
      break;
    case Field::Reasoning:
      appendText(delta, "reasoning_content", text);
      break;
    case Field::ReasoningText:
      appendText(delta, "reasoning", text);
      break;
    case Field::ToolArguments:
      appendText(ensureObject(toolCallEntry(delta, key.tool), "function"), "arguments", text);
      break;
    case Field::FunctionArguments:
      appendText(ensureObject(delta, "function_call"), "arguments", text);
      break;
  }
}

// Serializes `value` at the end of `out` without an intermediate string.
void serializeTo(const json::value& value, std::string& out) {
  json::serializer serializer;
  serializer.reset(&value);
  while (!serializer.done()) {
    const size_t used = out.size();
    out.resize(std::max(out.capacity(), used + 256));
    const std::string_view written = serializer.read(out.data() + used, out.size() - used);
    out.resize(used + written.size());
  }
}

}  // namespace

struct ResponseDlp::State {
  struct Slot {
    Key key;
    StreamingRedactor redactor;
  };

  const policies::DlpEngine* engine = nullptr;  // null when responses are not scanned
  const policies::DlpPolicy* policy = nullptr;
  policies::Pseudonymizer* pseudonymizer = nullptr;
  std::vector<ResponseFinding>* findings = nullptr;

  std::vector<Slot> slots;  // open redactors, in order of first use (a handful at most)
  std::string carry;        // an incomplete event, waiting for the rest of its bytes
  std::string out;          // the rebuilt chunk (capacity reused across calls)
  std::string event;        // one rebuilt event (capacity reused across events)
  std::string joined;       // the data of a multi-line event
  json::parser parser{json::storage_ptr(), parseOptions()};

  // From the last chunk parsed, for the synthetic event that carries text held at the end.
  std::string id;
  std::string object;
  std::string model;
  std::optional<int64_t> created;

  StreamingRedactor makeRedactor() {
    return StreamingRedactor(
        engine,
        [this](const policies::Finding& finding) {
          // Text a scan bound left unexamined is always redacted (the redactor enforces it).
          const PolicyAction action = finding.detector_id == policies::kScanLimitDetectorId
                                          ? PolicyAction::Redact
                                          : policy->responseAction(finding).action;
          findings->push_back({finding.detector_id, action});
          return toDlpAction(action);
        },
        pseudonymizer, StreamingRedactor::Options{.source = policies::TextSource::User});
  }

  StreamingRedactor& redactorFor(const Key& key) {
    for (Slot& slot : slots) {
      if (slot.key == key) {
        return slot.redactor;
      }
    }
    return slots.emplace_back(Slot{key, makeRedactor()}).redactor;
  }

  // Whole text through a fresh redactor (non-streamed bodies); true when it changed.
  bool rewriteWhole(json::string& text) {
    StreamingRedactor redactor = makeRedactor();
    std::string out = redactor.feed(text);
    out += redactor.finish();
    if (std::string_view(out) == std::string_view(text)) {
      return false;
    }
    text = std::string_view(out);
    return true;
  }

  // A streamed delta through its redactor; true when what goes out differs from what came.
  bool rewriteDelta(const Key& key, json::string& text) {
    std::string out = redactorFor(key).feed(text);
    if (std::string_view(out) == std::string_view(text)) {
      return false;
    }
    text = std::string_view(out);
    return true;
  }

  // content: a string or an array of parts {type: "text", text}; null is left alone.
  template <class Rewrite>
  static bool rewriteContent(json::value& content, Rewrite&& rewrite) {
    if (json::string* text = content.if_string()) {
      return rewrite(*text);
    }
    bool changed = false;
    if (json::array* parts = content.if_array()) {
      for (json::value& part : *parts) {
        json::object* object = part.if_object();
        json::value* text = object != nullptr ? object->if_contains("text") : nullptr;
        if (text != nullptr && text->is_string()) {
          changed |= rewrite(text->get_string());
        }
      }
    }
    return changed;
  }

  // The model-written fields of a message or a delta. `rewrite(key, string)` does the work.
  template <class Rewrite>
  bool rewriteFields(int64_t choice, json::object& message, Rewrite&& rewrite) {
    bool changed = false;
    if (json::value* content = message.if_contains("content")) {
      changed |= rewriteContent(*content, [&](json::string& text) {
        return rewrite(Key{choice, Field::Content}, text);
      });
    }
    for (auto [name, field] :
         {std::pair{"refusal", Field::Refusal}, std::pair{"reasoning_content", Field::Reasoning},
          std::pair{"reasoning", Field::ReasoningText}}) {
      if (json::value* text = message.if_contains(name); text && text->is_string()) {
        changed |= rewrite(Key{choice, field}, text->get_string());
      }
    }
    if (json::value* calls = message.if_contains("tool_calls"); calls && calls->is_array()) {
      json::array& array = calls->get_array();
      for (size_t i = 0; i < array.size(); ++i) {
        json::object* call = array[i].if_object();
        if (call == nullptr) {
          continue;
        }
        const int64_t tool = indexOf(*call, static_cast<int64_t>(i));
        i += closeOtherToolCalls(choice, tool, array, i, changed);
        call = &array[i].get_object();
        json::object* function = objectAt(*call, "function");
        json::value* arguments = function != nullptr ? function->if_contains("arguments") : nullptr;
        if (arguments != nullptr && arguments->is_string()) {
          changed |= rewrite(Key{choice, Field::ToolArguments, tool}, arguments->get_string());
        }
      }
    }
    if (json::object* call = objectAt(message, "function_call")) {
      if (json::value* arguments = call->if_contains("arguments");
          arguments && arguments->is_string()) {
        changed |= rewrite(Key{choice, Field::FunctionArguments}, arguments->get_string());
      }
    }
    return changed;
  }

  // Streams send tool calls one after the other: when call `tool` starts, the open redactors of
  // the choice's other calls are flushed into entries inserted before `array[at]`. Returns the
  // number of entries inserted.
  size_t closeOtherToolCalls(int64_t choice, int64_t tool, json::array& array, size_t at,
                             bool& changed) {
    size_t inserted = 0;
    for (size_t s = 0; s < slots.size();) {
      const Key key = slots[s].key;
      if (key.choice != choice || key.field != Field::ToolArguments || key.tool == tool) {
        ++s;
        continue;
      }
      const std::string tail = slots[s].redactor.finish();
      slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(s));
      if (tail.empty()) {
        continue;
      }
      json::object entry(array.storage());
      entry["index"] = key.tool;
      ensureObject(entry, "function")["arguments"] = std::string_view(tail);
      array.insert(array.begin() + static_cast<std::ptrdiff_t>(at + inserted), std::move(entry));
      ++inserted;
      changed = true;
    }
    return inserted;
  }

  // Flushes every open redactor of `choice` into `delta`; true when any text was added.
  bool flushChoice(int64_t choice, json::object& delta) {
    bool changed = false;
    for (size_t s = 0; s < slots.size();) {
      if (slots[s].key.choice != choice) {
        ++s;
        continue;
      }
      const std::string tail = slots[s].redactor.finish();
      if (!tail.empty()) {
        appendFlushed(delta, slots[s].key, tail);
        changed = true;
      }
      slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(s));
    }
    return changed;
  }

  bool hasOpenSlot(int64_t choice) const {
    for (const Slot& slot : slots) {
      if (slot.key.choice == choice) {
        return true;
      }
    }
    return false;
  }

  void rememberHeader(const json::object& chunk) {
    if (const json::value* v = chunk.if_contains("id"); v && v->is_string()) {
      id.assign(v->get_string());
    }
    if (const json::value* v = chunk.if_contains("object"); v && v->is_string()) {
      object.assign(v->get_string());
    }
    if (const json::value* v = chunk.if_contains("model"); v && v->is_string()) {
      model.assign(v->get_string());
    }
    if (const json::value* v = chunk.if_contains("created"); v && v->is_int64()) {
      created = v->get_int64();
    }
  }

  // One chat.completion.chunk object; true when it was changed.
  bool rewriteChunk(json::object& chunk) {
    json::value* choices_value = chunk.if_contains("choices");
    json::array* choices = choices_value != nullptr ? choices_value->if_array() : nullptr;
    if (choices == nullptr) {
      return false;
    }
    rememberHeader(chunk);
    bool changed = false;
    for (size_t i = 0; i < choices->size(); ++i) {
      json::object* choice = (*choices)[i].if_object();
      if (choice == nullptr) {
        continue;
      }
      const int64_t index = indexOf(*choice, static_cast<int64_t>(i));
      if (json::object* delta = objectAt(*choice, "delta")) {
        changed |= rewriteFields(index, *delta, [this](const Key& key, json::string& text) {
          return rewriteDelta(key, text);
        });
      }
      const json::value* finish = choice->if_contains("finish_reason");
      if (finish != nullptr && !finish->is_null() && hasOpenSlot(index)) {
        changed |= flushChoice(index, ensureObject(*choice, "delta"));
      }
    }
    return changed;
  }

  // Everything still held, as one chunk event ("" when nothing is held).
  std::string flushAll() {
    std::string synthetic;
    if (slots.empty()) {
      return synthetic;
    }
    json::monotonic_resource resource;
    json::value chunk_value(&resource);
    json::object& chunk = chunk_value.emplace_object();
    if (!id.empty()) {
      chunk["id"] = id;
    }
    chunk["object"] = object.empty() ? std::string_view("chat.completion.chunk") : object;
    if (created) {
      chunk["created"] = *created;
    }
    if (!model.empty()) {
      chunk["model"] = model;
    }
    json::array& choices = chunk["choices"].emplace_array();
    while (!slots.empty()) {
      const int64_t index = slots.front().key.choice;
      json::object choice(&resource);
      choice["index"] = index;
      json::object& delta = ensureObject(choice, "delta");
      if (flushChoice(index, delta)) {
        choice["finish_reason"] = nullptr;
        choices.emplace_back(std::move(choice));
      }
    }
    if (choices.empty()) {
      return synthetic;
    }
    synthetic = "data: ";
    serializeTo(chunk_value, synthetic);
    synthetic += "\n\n";
    return synthetic;
  }

  // Rewrites the event text[begin, end) into `event`; false when it stays byte-exact.
  // `prefix` receives a synthetic event to emit before it (held text before `data: [DONE]`).
  bool rewriteEvent(std::string_view text, size_t begin, size_t end,
                    const connectors::SseEventSpan& scan, std::string& prefix) {
    if (scan.data_lines == 0) {
      return false;
    }
    std::string_view data = scan.data;
    if (scan.data_lines > 1) {
      // Data lines are joined with '\n' (WHATWG), so a JSON spread over lines still parses.
      joined.clear();
      bool first = true;
      for (size_t pos = begin; pos < end;) {
        const connectors::SseLine line = connectors::sseLineAt(text, pos);
        if (connectors::isSseDataLine(line.text)) {
          if (!first) {
            joined += '\n';
          }
          first = false;
          joined.append(connectors::sseDataValue(line.text));
        }
        pos = line.next;
      }
      data = joined;
    }
    if (data == "[DONE]") {
      prefix = flushAll();
      return false;
    }
    if (!mayCarryText(data) &&
        (slots.empty() || data.find("\"finish_reason\"") == std::string_view::npos)) {
      return false;
    }
    unsigned char buffer[4096];
    json::monotonic_resource resource(buffer, sizeof buffer);
    parser.reset(&resource);
    boost::system::error_code ec;
    parser.write(data.data(), data.size(), ec);
    json::value value = ec ? json::value() : parser.release();
    parser.reset();  // let go of `resource` (and of a failed parse's partial values) in time
    json::object* chunk = value.if_object();
    if (chunk == nullptr || !rewriteChunk(*chunk)) {
      return false;
    }
    // The event again: other lines byte-exact, the first data line replaced by the new JSON,
    // the others (a multi-line JSON) dropped.
    event.clear();
    bool wrote_data = false;
    for (size_t pos = begin; pos < end;) {
      const connectors::SseLine line = connectors::sseLineAt(text, pos);
      if (!connectors::isSseDataLine(line.text)) {
        event.append(text.substr(pos, line.next - pos));
      } else if (!wrote_data) {
        wrote_data = true;
        event += "data: ";
        serializeTo(value, event);
        event.append(text.substr(pos + line.text.size(), line.next - pos - line.text.size()));
      }
      pos = line.next;
    }
    return true;
  }
};

ResponseDlp::ResponseDlp(const policies::DlpEngine* engine, const policies::DlpPolicy& policy,
                         policies::Pseudonymizer* pseudonymizer)
    : state_(std::make_unique<State>()) {
  state_->engine = policy.scanResponses() ? engine : nullptr;
  state_->policy = &policy;
  state_->pseudonymizer = pseudonymizer;
  state_->findings = &findings_;
}

ResponseDlp::~ResponseDlp() = default;

bool ResponseDlp::active() const {
  return state_->engine != nullptr ||
         (state_->pseudonymizer != nullptr && state_->pseudonymizer->size() > 0);
}

void ResponseDlp::rewriteBody(std::string& body) {
  if (!active() || !mayCarryText(body)) {
    return;
  }
  State& state = *state_;
  json::monotonic_resource resource;
  boost::system::error_code ec;
  json::value value = json::parse(body, ec, &resource, parseOptions());
  json::object* response = ec ? nullptr : value.if_object();
  json::value* choices_value = response != nullptr ? response->if_contains("choices") : nullptr;
  json::array* choices = choices_value != nullptr ? choices_value->if_array() : nullptr;
  if (choices == nullptr) {
    return;
  }
  bool changed = false;
  for (size_t i = 0; i < choices->size(); ++i) {
    json::object* choice = (*choices)[i].if_object();
    json::object* message = choice != nullptr ? objectAt(*choice, "message") : nullptr;
    if (message != nullptr) {
      changed |= state.rewriteFields(
          indexOf(*choice, static_cast<int64_t>(i)), *message,
          [&state](const Key&, json::string& text) { return state.rewriteWhole(text); });
    }
  }
  if (changed) {
    std::string out;
    out.reserve(body.size() + 64);
    serializeTo(value, out);
    body.swap(out);
  }
}

void ResponseDlp::rewriteEvents(std::string& chunk, bool end) {
  State& state = *state_;
  if (!state.carry.empty()) {
    state.carry.append(chunk);
    chunk.swap(state.carry);
    state.carry.clear();
  }
  if (!active() && state.slots.empty()) {
    return;
  }
  const std::string_view text(chunk);
  std::string& out = state.out;
  bool rebuilt = false;
  size_t copied = 0;  // text[0, copied) is in `out` already (when rebuilt)
  size_t limit = text.size();
  std::string prefix;
  const auto emit = [&](size_t upto, std::string_view replacement, size_t resume) {
    if (!rebuilt) {
      out.clear();
      out.reserve(text.size() + replacement.size() + 64);
      rebuilt = true;
    }
    out.append(text.substr(copied, upto - copied));
    out.append(replacement);
    copied = resume;
  };
  for (size_t pos = 0; pos < text.size();) {
    const connectors::SseEventSpan scan = connectors::scanSseEvent(text, pos);
    size_t end_of_event = scan.end;
    if (end_of_event == std::string_view::npos) {
      if (!end) {
        // An incomplete event: keep it until its blank line arrives.
        state.carry.assign(text.substr(pos));
        limit = pos;
        break;
      }
      end_of_event = text.size();
    }
    prefix.clear();
    const bool rewritten = state.rewriteEvent(text, pos, end_of_event, scan, prefix);
    if (!prefix.empty()) {
      emit(pos, prefix, pos);
    }
    if (rewritten) {
      emit(pos, state.event, end_of_event);
    }
    pos = end_of_event;
  }
  if (end) {
    std::string tail = state.flushAll();
    if (!tail.empty()) {
      // A stream cut off inside an event: end that event first so the synthetic one stands
      // on its own.
      emit(limit, "", limit);
      if (!out.empty() && !out.ends_with("\n\n") && !out.ends_with("\r\n\r\n") &&
          !out.ends_with("\r\r")) {
        out += out.ends_with('\n') || out.ends_with('\r') ? "\n" : "\n\n";
      }
      out += tail;
    }
  }
  if (rebuilt) {
    out.append(text.substr(copied, limit - copied));
    chunk.swap(out);
  } else if (limit < text.size()) {
    chunk.resize(limit);
  }
}

}  // namespace sy::server
