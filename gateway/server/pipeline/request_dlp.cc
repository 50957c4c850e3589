#include "gateway/server/pipeline/request_dlp.h"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cstdint>
#include <span>

#include "core/json_text.h"
#include "policies/media_payload.h"

namespace sy::server {
namespace {

namespace json = boost::json;
using policies::PolicyAction;
using policies::TextSource;

policies::DlpAction textAction(PolicyAction action) {
  switch (action) {
    case PolicyAction::Allow:
      return policies::DlpAction::Allow;
    case PolicyAction::Mask:
      return policies::DlpAction::Mask;
    case PolicyAction::Pseudonymize:
      return policies::DlpAction::Pseudonymize;
    case PolicyAction::Redact:
    case PolicyAction::Block:  // never forwarded; redact if it ever were
      return policies::DlpAction::Redact;
  }
  return policies::DlpAction::Redact;
}

// What the walker expects at a field. A value of another shape is scanned whole (Data).
enum class Kind : uint8_t {
  Text,      // a string; scanned
  Name,      // a string; scanned also with '_' read as a space ("lookup_<key>" hides a key)
  Word,      // one of the gateway's own words (kWords) is skipped, anything else is scanned
  Number,    // numbers, booleans and null are skipped; anything else is scanned
  Model,     // the model name: replaced by the backend's before it leaves, never forwarded
  Content,   // a string, or a list of parts (`shape`, kPart when none)
  System,    // Anthropic's top-level `system`: a Content written by the client's side
  PartText,  // the text of a content part
  Object,    // an object of `shape`
  List,      // a list of objects of `shape`
  WordOr,    // a Word, or an object of `shape` (tool_choice, function_call)
  Input,     // embeddings input: strings, or token ids (which DLP cannot read)
  Media,     // a binary file's base64 (raw or as a data URL), or a URL: see BodyWalker::media
  MediaOr,   // a Media string, or an object of `shape` (a chat part's image_url)
  Data,      // client data: every key and every string at any depth is scanned
};

struct Shape;
struct Field {
  std::string_view key;
  Kind kind;
  const Shape* shape = nullptr;
};
struct Shape {
  std::span<const Field> fields;
};

// Values of the Word fields that carry no client data: roles, part and tool types, tool_choice,
// effort and tier names, audio formats.
constexpr std::string_view kWords[] = {
    "assistant",
    "audio",
    "auto",
    "base64",
    "content",
    "default",
    "developer",
    "ephemeral",
    "file",
    "flac",
    "flex",
    "float",
    "function",
    "high",
    "image_url",
    "input_audio",
    "json_object",
    "json_schema",
    "low",
    "medium",
    "minimal",
    "mp3",
    "none",
    "opus",
    "pcm16",
    "priority",
    "required",
    "scale",
    "system",
    "text",
    "tool",
    "user",
    "wav",
    // Anthropic Messages
    "adaptive",
    "any",
    "custom",
    "disabled",
    "document",
    "enabled",
    "image",
    "redacted_thinking",
    "thinking",
    "tool_result",
    "tool_use",
    "url",
    // OpenAI Responses
    "code_interpreter",
    "completed",
    "concise",
    "detailed",
    "file_search",
    "function_call",
    "function_call_output",
    "in_progress",
    "incomplete",
    "input_file",
    "input_image",
    "input_text",
    "message",
    "output_text",
    "reasoning",
    "refusal",
    "summary_text",
    "web_search",
    "web_search_preview",
};

// Numbers with fewer digits carry no detector's value; names longer than this are not
// identifiers.
constexpr size_t kMinNumberDigits = 6;
constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxNameSplits = 8;

bool isWord(std::string_view value) {
  for (std::string_view word : kWords) {
    if (word == value) {
      return true;
    }
  }
  return false;
}

extern const Shape kPart, kToolCall, kFunctionCall, kTool, kFunctionDef, kNamed, kResponseFormat,
    kJsonSchema, kMessage, kPrediction, kImageUrl, kInputAudio, kFile, kStreamOptions, kAudio,
    kAnthropicBlock, kAnthropicSource, kAnthropicMessage, kAnthropicTool, kAnthropicToolChoice,
    kAnthropicThinking, kResponsesItem, kResponsesPart, kResponsesTool, kResponsesToolChoice,
    kResponsesText, kResponsesFormat, kResponsesReasoning, kResponsesStreamOptions;

constexpr Field kImageUrlFields[] = {{"url", Kind::Media}, {"detail", Kind::Word}};
constexpr Field kInputAudioFields[] = {{"data", Kind::Media}, {"format", Kind::Word}};
constexpr Field kFileFields[] = {
    {"file_data", Kind::Media}, {"file_id", Kind::Text}, {"filename", Kind::Text}};
constexpr Field kPartFields[] = {
    {"type", Kind::Word},
    {"text", Kind::PartText},
    {"refusal", Kind::Text},
    {"image_url", Kind::MediaOr, &kImageUrl},
    {"input_audio", Kind::Object, &kInputAudio},
    {"file", Kind::Object, &kFile},
    {"cache_control", Kind::Data},
};
constexpr Field kFunctionCallFields[] = {{"name", Kind::Name}, {"arguments", Kind::Text}};
constexpr Field kToolCallFields[] = {
    {"id", Kind::Text}, {"type", Kind::Word}, {"function", Kind::Object, &kFunctionCall}};
constexpr Field kFunctionDefFields[] = {
    {"name", Kind::Name},
    {"description", Kind::Text},
    {"parameters", Kind::Data},
    {"strict", Kind::Number},
};
constexpr Field kToolFields[] = {
    {"type", Kind::Word},
    {"function", Kind::Object, &kFunctionDef},
    {"cache_control", Kind::Data},
};
constexpr Field kNamedFields[] = {
    {"type", Kind::Word}, {"name", Kind::Name}, {"function", Kind::Object, &kNamed}};
constexpr Field kJsonSchemaFields[] = {
    {"name", Kind::Name},
    {"description", Kind::Text},
    {"schema", Kind::Data},
    {"strict", Kind::Number},
};
constexpr Field kResponseFormatFields[] = {{"type", Kind::Word},
                                           {"json_schema", Kind::Object, &kJsonSchema}};
constexpr Field kPredictionFields[] = {{"type", Kind::Word}, {"content", Kind::Content}};
constexpr Field kStreamOptionsFields[] = {{"include_usage", Kind::Number}};
constexpr Field kAudioFields[] = {{"voice", Kind::Text}, {"format", Kind::Word}};
constexpr Field kMessageFields[] = {
    {"role", Kind::Word},         {"content", Kind::Content},
    {"name", Kind::Name},         {"tool_calls", Kind::List, &kToolCall},
    {"tool_call_id", Kind::Text}, {"function_call", Kind::Object, &kFunctionCall},
    {"refusal", Kind::Text},      {"reasoning_content", Kind::Text},
    {"audio", Kind::Data},
};
constexpr Field kChatFields[] = {
    {"model", Kind::Model},
    {"messages", Kind::List, &kMessage},
    {"stream", Kind::Number},
    {"stream_options", Kind::Object, &kStreamOptions},
    {"temperature", Kind::Number},
    {"top_p", Kind::Number},
    {"n", Kind::Number},
    {"max_tokens", Kind::Number},
    {"max_completion_tokens", Kind::Number},
    {"presence_penalty", Kind::Number},
    {"frequency_penalty", Kind::Number},
    {"seed", Kind::Number},
    {"logprobs", Kind::Number},
    {"top_logprobs", Kind::Number},
    {"parallel_tool_calls", Kind::Number},
    {"store", Kind::Number},
    {"logit_bias", Kind::Data},
    {"stop", Kind::Data},
    {"user", Kind::Text},
    {"safety_identifier", Kind::Text},
    {"prompt_cache_key", Kind::Text},
    {"metadata", Kind::Data},
    {"tools", Kind::List, &kTool},
    {"tool_choice", Kind::WordOr, &kNamed},
    {"functions", Kind::List, &kFunctionDef},
    {"function_call", Kind::WordOr, &kNamed},
    {"response_format", Kind::Object, &kResponseFormat},
    {"reasoning_effort", Kind::Word},
    {"service_tier", Kind::Word},
    {"verbosity", Kind::Word},
    {"modalities", Kind::Data},
    {"audio", Kind::Object, &kAudio},
    {"prediction", Kind::Object, &kPrediction},
    {"web_search_options", Kind::Data},
};
constexpr Field kEmbeddingsFields[] = {
    {"model", Kind::Model},          {"input", Kind::Input},       {"user", Kind::Text},
    {"encoding_format", Kind::Word}, {"dimensions", Kind::Number},
};

// Anthropic Messages, as the client sent them: the body that passes through to an Anthropic
// backend. Every block type's fields in one shape (a field another type has is scanned the same).
constexpr Field kAnthropicSourceFields[] = {
    {"type", Kind::Word}, {"media_type", Kind::Word}, {"data", Kind::Media}, {"url", Kind::Text}};
constexpr Field kAnthropicBlockFields[] = {
    {"type", Kind::Word},
    {"text", Kind::PartText},
    {"source", Kind::Object, &kAnthropicSource},
    {"title", Kind::Text},
    {"context", Kind::Text},
    {"citations", Kind::Data},
    {"cache_control", Kind::Data},
    {"id", Kind::Text},
    {"name", Kind::Name},
    {"input", Kind::Data},
    {"tool_use_id", Kind::Text},
    {"content", Kind::Content, &kAnthropicBlock},  // a tool_result's
    {"is_error", Kind::Number},
    {"thinking", Kind::PartText},
    {"signature", Kind::Text},
    {"data", Kind::Text},  // redacted_thinking
};
constexpr Field kAnthropicMessageFields[] = {{"role", Kind::Word},
                                             {"content", Kind::Content, &kAnthropicBlock}};
constexpr Field kAnthropicToolFields[] = {
    {"type", Kind::Word},          {"name", Kind::Name},
    {"description", Kind::Text},   {"input_schema", Kind::Data},
    {"cache_control", Kind::Data}, {"eager_input_streaming", Kind::Number},
};
constexpr Field kAnthropicToolChoiceFields[] = {
    {"type", Kind::Word}, {"name", Kind::Name}, {"disable_parallel_tool_use", Kind::Number}};
constexpr Field kAnthropicThinkingFields[] = {{"type", Kind::Word},
                                              {"budget_tokens", Kind::Number}};
constexpr Field kAnthropicFields[] = {
    {"model", Kind::Model},
    {"messages", Kind::List, &kAnthropicMessage},
    {"max_tokens", Kind::Number},
    {"system", Kind::System, &kAnthropicBlock},
    {"stream", Kind::Number},
    {"stop_sequences", Kind::Data},
    {"temperature", Kind::Number},
    {"top_p", Kind::Number},
    {"top_k", Kind::Number},
    {"tools", Kind::List, &kAnthropicTool},
    {"tool_choice", Kind::Object, &kAnthropicToolChoice},
    {"metadata", Kind::Data},
    {"thinking", Kind::Object, &kAnthropicThinking},
    {"service_tier", Kind::Word},
    {"context_management", Kind::Data},
    {"output_config", Kind::Data},
};

// OpenAI Responses, as the client sent it (after connectors::inlinePriorItems): the body that
// passes through to a backend serving /v1/responses. Every input item type's fields in one shape,
// every content part type's in another (a field another type has is scanned the same).
// Built-in tools' settings (when responses.builtin_tools allows them) are known fields too.
constexpr Field kResponsesPartFields[] = {
    {"type", Kind::Word},         {"text", Kind::PartText},      {"refusal", Kind::Text},
    {"image_url", Kind::Media},   {"detail", Kind::Word},        {"file_data", Kind::Media},
    {"file_id", Kind::Text},      {"filename", Kind::Text},      {"file_url", Kind::Text},
    {"annotations", Kind::Data},  {"logprobs", Kind::Data},
};
constexpr Field kResponsesItemFields[] = {
    {"type", Kind::Word},
    {"role", Kind::Word},
    {"content", Kind::Content, &kResponsesPart},
    {"id", Kind::Text},
    {"status", Kind::Word},
    {"call_id", Kind::Text},
    {"namespace", Kind::Name},  // a function_call of a namespace tool's function
    {"name", Kind::Name},
    {"arguments", Kind::Text},
    {"output", Kind::Content, &kResponsesPart},  // a function_call_output's
    {"summary", Kind::List, &kResponsesPart},    // a reasoning item's
    {"encrypted_content", Kind::Text},
};
constexpr Field kResponsesToolFields[] = {
    {"type", Kind::Word},
    {"name", Kind::Name},
    {"description", Kind::Text},
    {"parameters", Kind::Data},
    {"strict", Kind::Number},
    {"tools", Kind::List, &kResponsesTool},  // a namespace tool's functions
    // built-in tools
    {"search_context_size", Kind::Word},
    {"user_location", Kind::Data},
    {"filters", Kind::Data},
    {"vector_store_ids", Kind::Data},
    {"max_num_results", Kind::Number},
    {"ranking_options", Kind::Data},
    {"container", Kind::Data},
};
constexpr Field kResponsesToolChoiceFields[] = {{"type", Kind::Word}, {"name", Kind::Name}};
constexpr Field kResponsesFormatFields[] = {
    {"type", Kind::Word},  {"name", Kind::Name},     {"description", Kind::Text},
    {"schema", Kind::Data}, {"strict", Kind::Number},
};
constexpr Field kResponsesTextFields[] = {{"format", Kind::Object, &kResponsesFormat},
                                          {"verbosity", Kind::Word}};
constexpr Field kResponsesReasoningFields[] = {
    {"effort", Kind::Word}, {"summary", Kind::Word}, {"generate_summary", Kind::Word}};
constexpr Field kResponsesStreamOptionsFields[] = {{"include_obfuscation", Kind::Number}};
constexpr Field kResponsesFields[] = {
    {"model", Kind::Model},
    {"input", Kind::Content, &kResponsesItem},
    {"instructions", Kind::System, &kResponsesPart},
    {"previous_response_id", Kind::Text},
    {"tools", Kind::List, &kResponsesTool},
    {"tool_choice", Kind::WordOr, &kResponsesToolChoice},
    {"parallel_tool_calls", Kind::Number},
    {"text", Kind::Object, &kResponsesText},
    {"reasoning", Kind::Object, &kResponsesReasoning},
    {"max_output_tokens", Kind::Number},
    {"max_tool_calls", Kind::Number},
    {"temperature", Kind::Number},
    {"top_p", Kind::Number},
    {"top_logprobs", Kind::Number},
    {"metadata", Kind::Data},
    {"user", Kind::Text},
    {"safety_identifier", Kind::Text},
    {"prompt_cache_key", Kind::Text},
    {"service_tier", Kind::Word},
    {"stream", Kind::Number},
    {"stream_options", Kind::Object, &kResponsesStreamOptions},
    {"store", Kind::Number},
    {"background", Kind::Number},
    {"truncation", Kind::Word},
    {"include", Kind::Data},
    {"client_metadata", Kind::Data},  // scanned; never forwarded (OpenAiConnector::buildNative)
};

constexpr Shape kResponsesPart{kResponsesPartFields};
constexpr Shape kResponsesItem{kResponsesItemFields};
constexpr Shape kResponsesTool{kResponsesToolFields};
constexpr Shape kResponsesToolChoice{kResponsesToolChoiceFields};
constexpr Shape kResponsesFormat{kResponsesFormatFields};
constexpr Shape kResponsesText{kResponsesTextFields};
constexpr Shape kResponsesReasoning{kResponsesReasoningFields};
constexpr Shape kResponsesStreamOptions{kResponsesStreamOptionsFields};
constexpr Shape kResponses{kResponsesFields};

constexpr Shape kAnthropicSource{kAnthropicSourceFields};
constexpr Shape kAnthropicBlock{kAnthropicBlockFields};
constexpr Shape kAnthropicMessage{kAnthropicMessageFields};
constexpr Shape kAnthropicTool{kAnthropicToolFields};
constexpr Shape kAnthropicToolChoice{kAnthropicToolChoiceFields};
constexpr Shape kAnthropicThinking{kAnthropicThinkingFields};
constexpr Shape kAnthropic{kAnthropicFields};

constexpr Shape kImageUrl{kImageUrlFields};
constexpr Shape kInputAudio{kInputAudioFields};
constexpr Shape kFile{kFileFields};
constexpr Shape kPart{kPartFields};
constexpr Shape kFunctionCall{kFunctionCallFields};
constexpr Shape kToolCall{kToolCallFields};
constexpr Shape kFunctionDef{kFunctionDefFields};
constexpr Shape kTool{kToolFields};
constexpr Shape kNamed{kNamedFields};
constexpr Shape kJsonSchema{kJsonSchemaFields};
constexpr Shape kResponseFormat{kResponseFormatFields};
constexpr Shape kPrediction{kPredictionFields};
constexpr Shape kStreamOptions{kStreamOptionsFields};
constexpr Shape kAudio{kAudioFields};
constexpr Shape kMessage{kMessageFields};
constexpr Shape kChat{kChatFields};
constexpr Shape kEmbeddings{kEmbeddingsFields};

// The string at `at` (a value, or with `key` the last member's key), or null when the body no
// longer has one there.
json::value* valueAt(json::object& body, std::span<const uint32_t> at, json::object** parent) {
  json::value* node = nullptr;
  json::object* object = &body;
  for (uint32_t index : at) {
    if (object != nullptr) {
      if (index >= object->size()) {
        return nullptr;
      }
      *parent = object;
      node = &(object->begin() + index)->value();
    } else if (node != nullptr && node->is_array() && index < node->get_array().size()) {
      *parent = nullptr;
      node = &node->get_array()[index];
    } else {
      return nullptr;
    }
    object = node->if_object();
  }
  return node;
}

// Renames the member at `index` of `object`, keeping the members' order (and so every recorded
// position). A name another member already has gets a numbered suffix: no value is lost.
void renameKey(json::object& object, size_t index, std::string_view name) {
  std::string unique(name);
  for (int n = 2; object.contains(unique); ++n) {
    unique = std::string(name) + "#" + std::to_string(n);
  }
  json::object renamed(object.storage());
  renamed.reserve(object.size());
  for (size_t i = 0; i < object.size(); ++i) {
    auto& member = *(object.begin() + i);
    const std::string_view key =
        i == index ? std::string_view(unique) : std::string_view(member.key());
    renamed.emplace(key, std::move(member.value()));
  }
  object = std::move(renamed);
}

}  // namespace

// Walks a request body in order, scanning what the policy must see, keeping the positions and a
// printable path of what it found. One per inspect().
class BodyWalker {
 public:
  BodyWalker(RequestDlp& dlp, policies::UnknownFields unknown) : dlp_(dlp), unknown_(unknown) {}

  Status walkObject(json::object& object, const Shape& shape) {
    for (size_t i = 0; i < object.size() && error_.empty();) {
      auto member = object.begin() + static_cast<std::ptrdiff_t>(i);
      const Field* field = nullptr;
      for (const Field& candidate : shape.fields) {
        if (candidate.key == member->key()) {
          field = &candidate;
          break;
        }
      }
      if (field == nullptr && unknown_ == policies::UnknownFields::Drop) {
        object.stable_erase(member);
        continue;
      }
      const std::string_view key = member->key();
      push(i, field != nullptr ? field->key : isPlainName(key) ? key : std::string_view("<field>"));
      if (field != nullptr) {
        walk(member->value(), field->kind, field->shape);
      } else if (unknown_ == policies::UnknownFields::Reject) {
        error_ = "Unknown field " + where() +
                 ": this gateway does not forward fields it does not "
                 "know (policy dlp.unknown_fields: reject).";
      } else {
        scanKey(member->key());
        walk(member->value(), Kind::Data, nullptr);
      }
      pop();
      ++i;
    }
    if (!error_.empty()) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, error_,
                       "unknown_field");
    }
    return {};
  }

  // A value split over messages or parts ("my card is 4111 1111" ... "1111 1111") is found by
  // scanning each author's texts joined in order, with nothing and with a space between
  // them, around each seam only (as far on each side as the longest enabled pattern). What such
  // a scan finds across a seam is added, piece by piece, to the texts it covers.
  void scanAcrossPieces() {
    const size_t reach = dlp_.engine_.streamWindowBytes();
    for (const std::vector<Piece>& pieces : pieces_) {
      if (pieces.size() < 2) {
        continue;
      }
      for (std::string_view joiner : {std::string_view(), std::string_view(" ")}) {
        std::string joined;
        std::vector<size_t> begins;  // of each piece in `joined`
        for (const Piece& piece : pieces) {
          if (!begins.empty()) {
            joined += joiner;
          }
          begins.push_back(joined.size());
          joined += piece.text;
        }
        // Windows around the seams, merged where they overlap.
        std::vector<std::pair<size_t, size_t>> windows;
        for (size_t i = 1; i < pieces.size(); ++i) {
          const size_t lo = begins[i] > reach ? begins[i] - reach : 0;
          const size_t hi = std::min(joined.size(), begins[i] + reach);
          if (!windows.empty() && lo <= windows.back().second) {
            windows.back().second = hi;
          } else {
            windows.emplace_back(lo, hi);
          }
        }
        for (const auto& [from, to] : windows) {
          seamWindow(pieces, begins, joined, from, to);
        }
      }
    }
    if (added_across_) {
      for (ScannedText& text : dlp_.texts_) {
        std::sort(text.findings.begin(), text.findings.end(),
                  [](const auto& a, const auto& b) { return a.start < b.start; });
      }
    }
  }

 private:
  enum class Author : uint8_t { Client, Model, Tool };  // system/developer/user; assistant; tools
  struct Piece {
    std::vector<uint32_t> at;
    std::string where;
    std::string_view text;  // into the body, valid during inspect()
    policies::TextSource source;
  };

  void walk(json::value& value, Kind kind, const Shape* shape) {
    switch (kind) {
      case Kind::Model:
        return;
      case Kind::Number:
        if (value.is_bool() || value.is_null()) {
          return;
        }
        break;  // a number is read as its digits (a card fits in a seed)
      case Kind::Word:
        if (value.is_null() || (value.is_string() && isWord(value.get_string()))) {
          return;
        }
        break;
      case Kind::Text:
        if (value.is_null()) {
          return;
        }
        break;
      case Kind::Name:
        if (value.is_string()) {
          return scan(value.get_string(), Text::Name);
        }
        break;
      case Kind::System:
        return system(value, *shape);
      case Kind::Content:
        if (value.is_array()) {
          return list(value.get_array(), shape != nullptr ? *shape : kPart);
        }
        [[fallthrough]];
      case Kind::PartText:
        if (value.is_string()) {
          return turnText(value.get_string());
        }
        break;
      case Kind::Object:
        if (value.is_object()) {
          return object(value.get_object(), *shape);
        }
        break;
      case Kind::List:
        if (value.is_array()) {
          return list(value.get_array(), *shape);
        }
        break;
      case Kind::WordOr:
        if (value.is_object()) {
          return object(value.get_object(), *shape);
        }
        return walk(value, Kind::Word, nullptr);
      case Kind::Input:
        return input(value);
      case Kind::MediaOr:
        if (value.is_object()) {
          return object(value.get_object(), *shape);
        }
        [[fallthrough]];
      case Kind::Media:
        if (value.is_string()) {
          return media(value.get_string());
        }
        break;
      case Kind::Data:
        break;
    }
    data(value);  // a string, or a shape nobody expected: everything in it is scanned
  }

  void object(json::object& object, const Shape& shape) {
    const policies::TextSource outer = source_;
    const std::optional<Author> outer_author = author_;
    const bool outer_text_source = text_source_;
    if (&shape == &kAnthropicSource) {
      // An Anthropic source's `data` is base64 only when its type says so ("text": plain text).
      const json::value* type = object.if_contains("type");
      text_source_ = type == nullptr || !type->is_string() || type->get_string() != "base64";
    }
    if (&shape == &kAnthropicBlock) {
      const json::value* type = object.if_contains("type");
      if (type != nullptr && type->is_string() && type->get_string() == "tool_result") {
        source_ = policies::TextSource::Untrusted;  // Anthropic's tool results are user blocks
        author_ = Author::Tool;
      }
    } else if (&shape == &kMessage || &shape == &kAnthropicMessage ||
               &shape == &kResponsesItem) {
      // Tool and function results carry fetched, untrusted content: indirect injections hide
      // there. A Responses item without a role is a call (the model's) or a call's output.
      const json::value* role = object.if_contains("role");
      const json::value* type = &shape == &kResponsesItem ? object.if_contains("type") : nullptr;
      const std::string_view item =
          type != nullptr && type->is_string() ? std::string_view(type->get_string()) : "";
      const std::string_view name =
          role != nullptr && role->is_string()  ? std::string_view(role->get_string())
          : item == "function_call_output"      ? std::string_view("tool")
          : item == "function_call" || item == "reasoning" ? std::string_view("assistant")
                                                           : std::string_view("");
      const bool untrusted = name == "tool" || name == "function";
      // Only `user` turns are the user's own (pseudonym restoring under `user-turns`).
      source_ = untrusted                                 ? policies::TextSource::Untrusted
                : name == "system" || name == "developer" ? policies::TextSource::System
                : name == "assistant"                     ? policies::TextSource::Assistant
                                                          : policies::TextSource::User;
      author_ = untrusted ? Author::Tool : name == "assistant" ? Author::Model : Author::Client;
    }
    (void)walkObject(object, shape);
    source_ = outer;
    author_ = outer_author;
    text_source_ = outer_text_source;
  }

  // Anthropic's `system`: a string or text blocks, the client's own instructions.
  void system(json::value& value, const Shape& blocks) {
    const policies::TextSource outer = source_;
    const std::optional<Author> outer_author = author_;
    source_ = policies::TextSource::System;
    author_ = Author::Client;
    walk(value, Kind::Content, &blocks);
    source_ = outer;
    author_ = outer_author;
  }

  // The text of a message (its content, or one of its text parts): scanned alone, and kept as a
  // piece of its author's side of the conversation for scanAcrossPieces().
  void turnText(std::string_view text) {
    scan(text, Text::Value);
    if (author_ && !text.empty()) {
      pieces_[static_cast<size_t>(*author_)].push_back({at_, where(), text, source_});
    }
  }

 private:
  void seamWindow(const std::vector<Piece>& pieces, const std::vector<size_t>& begins,
                  const std::string& joined, size_t from, size_t to) {
    if (from >= to) {
      return;
    }
    for (const policies::Finding& finding :
         scanChecked(std::string_view(joined).substr(from, to - from), pieces[0].source,
                     &pieces[0].where)) {
      const size_t start = from + finding.start;
      const size_t end = from + finding.end;
      // The pieces it touches; one piece alone was already scanned on its own.
      size_t first = std::upper_bound(begins.begin(), begins.end(), start) - begins.begin() - 1;
      size_t last = std::upper_bound(begins.begin(), begins.end(), end - 1) - begins.begin() - 1;
      if (first == last || extendsKnown(pieces, begins, first, last, start, end, finding)) {
        continue;
      }
      dlp_.sensitivity_ = std::max(dlp_.sensitivity_, dlp_.policy_.rankOf(finding));
      for (size_t p = first; p <= last; ++p) {
        const size_t piece_begin = begins[p];
        const size_t piece_end = piece_begin + pieces[p].text.size();
        if (std::max(start, piece_begin) >= std::min(end, piece_end)) {
          continue;  // only the joiner
        }
        policies::Finding part = finding;
        part.start = std::max(start, piece_begin) - piece_begin;
        part.end = std::min(end, piece_end) - piece_begin;
        addAcross(pieces[p], std::move(part));
      }
    }
  }

  // True when a piece the seam finding covers already has a finding of the same detector there:
  // the joined text only extended a value found whole ("a@b.org" + "Done." reads as the address
  // "a@b.org.Done"), so no piece of it is new.
  bool extendsKnown(const std::vector<Piece>& pieces, const std::vector<size_t>& begins,
                    size_t first, size_t last, size_t start, size_t end,
                    const policies::Finding& finding) const {
    for (size_t p = first; p <= last; ++p) {
      const size_t from = std::max(start, begins[p]) - begins[p];
      const size_t to = std::min(end, begins[p] + pieces[p].text.size()) - begins[p];
      for (const ScannedText& text : dlp_.texts_) {
        if (text.key || text.at != pieces[p].at) {
          continue;
        }
        for (const policies::Finding& known : text.findings) {
          if (known.detector_id == finding.detector_id && known.start < to && from < known.end) {
            return true;
          }
        }
      }
    }
    return false;
  }

  // Adds a piece's share of a value found across a seam to the piece's scanned text.
  void addAcross(const Piece& piece, policies::Finding part) {
    ScannedText* text = nullptr;
    for (ScannedText& candidate : dlp_.texts_) {
      if (!candidate.key && candidate.at == piece.at) {
        text = &candidate;
        break;
      }
    }
    if (text == nullptr) {
      text = &dlp_.texts_.emplace_back();
      text->at = piece.at;
      text->where = piece.where;
      text->original = piece.text;
      text->source = piece.source;
    }
    for (const policies::Finding& known : text->findings) {
      if (known.start <= part.start && part.end <= known.end) {
        return;  // already covered (the same value seen through the other joiner)
      }
    }
    text->findings.push_back(std::move(part));
    added_across_ = true;
  }

  void list(json::array& items, const Shape& shape) {
    for (size_t i = 0; i < items.size(); ++i) {
      push(i, {});
      if (items[i].is_object()) {
        object(items[i].get_object(), shape);
      } else {
        data(items[i]);
      }
      pop();
    }
  }

  void input(json::value& value) {
    if (value.is_number()) {
      opaque("token ids");
    } else if (value.is_array()) {
      json::array& items = value.get_array();
      for (size_t i = 0; i < items.size(); ++i) {
        push(i, {});
        input(items[i]);
        pop();
      }
    } else {
      data(value);
    }
  }

  // A binary file's base64 (input_audio.data, a file's file_data, an Anthropic source's data,
  // an image's data URL) is not prose: scanning its characters finds nothing but noise and
  // costs ~45 us per KB. A payload whose decoded bytes start with a known binary signature is
  // read for what such a file carries in the clear (its printable runs: metadata, comments,
  // uncompressed PDF text); a finding there cannot be rewritten inside the file, so its rule can
  // only allow it or block the request (verdict()). What DLP cannot read fails closed: a PDF
  // with filtered (compressed) streams, an archive (docx, xlsx, zip), or bytes that are neither
  // a known format nor text are content it cannot inspect (kept off external backends, as
  // sensitive as content gets). Anything else (a URL, text, base64 that does not decode) is
  // scanned as text, as before.
  void media(std::string_view value) {
    const std::optional<std::string_view> payload = policies::mediaPayload(value);
    std::string bytes;
    if (!payload || text_source_ || !policies::decodeBase64Strict(*payload, bytes)) {
      return scan(value, Text::Value);
    }
    const policies::MediaFormat format = policies::sniffMedia(bytes);
    if (format == policies::MediaFormat::None) {
      if (policies::isText(bytes)) {
        return scan(value, Text::Value);  // base64 of text: the scan decodes and reads it
      }
      return opaque("binary data of a type DLP does not recognize");
    }
    if (format == policies::MediaFormat::Archive) {
      return opaque("an archive (zip, gzip or 7z: compressed content)");
    }
    if (format == policies::MediaFormat::Pdf && policies::pdfHasFilteredStreams(bytes)) {
      return opaque("a PDF document with compressed streams");
    }
    const std::string runs = policies::printableRuns(bytes);
    if (!runs.empty()) {
      scan(runs, Text::Media);
    }
  }

  // Client data: every string and every key.
  void data(json::value& value) {
    if (value.is_string()) {
      scan(value.get_string(), Text::Value);
    } else if (value.is_number()) {
      number(value);
    } else if (value.is_array()) {
      json::array& items = value.get_array();
      for (size_t i = 0; i < items.size(); ++i) {
        push(i, {});
        data(items[i]);
        pop();
      }
    } else if (value.is_object()) {
      json::object& members = value.get_object();
      for (size_t i = 0; i < members.size(); ++i) {
        auto member = members.begin() + static_cast<std::ptrdiff_t>(i);
        push(i, "<field>");
        scanKey(member->key());
        data(member->value());
        pop();
      }
    }
  }

  enum class Text { Value, Name, Key, Number, Media };  // Media: a binary file's printable runs

  void scanKey(std::string_view key) { scan(key, Text::Key); }

  // Numbers long enough to be a card, an account or a phone number are read as their digits.
  void number(const json::value& value) {
    char digits[400];
    std::to_chars_result written{};
    if (value.is_int64()) {
      written = std::to_chars(std::begin(digits), std::end(digits), value.get_int64());
    } else if (value.is_uint64()) {
      written = std::to_chars(std::begin(digits), std::end(digits), value.get_uint64());
    } else {
      written = std::to_chars(std::begin(digits), std::end(digits), value.get_double(),
                              std::chars_format::fixed);
    }
    const std::string_view text(digits, written.ptr);
    if (written.ec == std::errc() && text.size() >= kMinNumberDigits) {
      scan(text, Text::Number);
    }
  }

  // Identifiers glue words with '_' ("lookup_<key>"), which detectors read as one word: the
  // pieces before and after each '_' (up to kMaxNameSplits of them) are scanned too.
  void scanIdentifierPieces(std::string_view text, std::vector<policies::Finding>& findings) {
    const size_t before = findings.size();
    auto add = [&](std::string_view piece, size_t offset) {
      for (policies::Finding& finding : scanChecked(piece, source_)) {
        finding.start += offset;
        finding.end += offset;
        const bool known = std::any_of(findings.begin(), findings.end(), [&](const auto& f) {
          return f.start < finding.end && finding.start < f.end;
        });
        if (!known) {
          findings.push_back(std::move(finding));
        }
      }
    };
    size_t splits = 0;
    for (size_t at = text.find('_'); at != std::string_view::npos && splits < kMaxNameSplits;
         at = text.find('_', at + 1), ++splits) {
      add(text.substr(0, at), 0);
      add(text.substr(at + 1), at + 1);
    }
    if (findings.size() != before) {
      std::sort(findings.begin(), findings.end(),
                [](const auto& a, const auto& b) { return a.start < b.start; });
    }
  }

  // The engine's findings in `text`. A scan that reaches a bound is recorded (at `path`, or
  // where the walker is): the request then fails closed (RequestDlp::verdict).
  std::vector<policies::Finding> scanChecked(std::string_view text, policies::TextSource source,
                                             const std::string* path = nullptr) {
    policies::ScanResult result = dlp_.engine_.scanText(text, source);
    if (result.limit && !dlp_.limit_) {
      dlp_.limit_ = ScanLimitReached{result.limit->bound, path != nullptr ? *path : where()};
      dlp_.sensitivity_ = std::max(dlp_.sensitivity_, dlp_.policy_.limitSensitivity());
    }
    return std::move(result.findings);
  }

  void scan(std::string_view text, Text what) {
    std::vector<policies::Finding> findings = scanChecked(text, source_);
    if ((what == Text::Name || what == Text::Key) && text.size() <= kMaxNameBytes) {
      scanIdentifierPieces(text, findings);
    }
    if (findings.empty()) {
      return;
    }
    dlp_.sensitivity_ = std::max(dlp_.sensitivity_, dlp_.policy_.sensitivity(findings));
    ScannedText& found = dlp_.texts_.emplace_back();
    found.at = at_;
    found.key = what == Text::Key;
    found.media = what == Text::Media;
    found.where = where();
    if (found.key) {
      found.where += " (key)";
    } else if (found.media) {
      found.where += " (the file's bytes)";
    }
    found.original = text;
    found.source = source_;
    found.findings = std::move(findings);
  }

  void opaque(std::string_view what) {
    if (!dlp_.opaque_) {
      dlp_.opaque_ = {where(), std::string(what)};
    }
  }

  void push(size_t index, std::string_view name) {
    at_.push_back(static_cast<uint32_t>(index));
    names_.push_back(name);
  }
  void pop() {
    at_.pop_back();
    names_.pop_back();
  }

  std::string where() const {
    std::string out;
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i].empty()) {
        out += '[' + std::to_string(at_[i]) + ']';
      } else {
        if (!out.empty()) {
          out += '.';
        }
        out += names_[i];
      }
    }
    return out;
  }

  RequestDlp& dlp_;
  policies::UnknownFields unknown_;
  policies::TextSource source_ = policies::TextSource::User;
  std::optional<Author> author_;              // inside a message
  bool text_source_ = false;                  // inside an Anthropic source that is not base64
  std::array<std::vector<Piece>, 3> pieces_;  // by Author
  bool added_across_ = false;
  std::vector<uint32_t> at_;
  std::vector<std::string_view> names_;  // "" for an index step
  std::string error_;
};

namespace {

// Every token-shaped string the client sent (in any string or key of the body) is reserved, so
// that no pseudonym issued for this request equals something the client typed.
void reserveClientTokens(const json::object& body, policies::Pseudonymizer& pseudonymizer) {
  std::vector<const json::value*> pending;
  for (const auto& entry : body) {
    pseudonymizer.reserve(entry.key());
    pending.push_back(&entry.value());
  }
  while (!pending.empty()) {
    const json::value* value = pending.back();
    pending.pop_back();
    if (const json::string* text = value->if_string()) {
      pseudonymizer.reserve(*text);
    } else if (const json::array* array = value->if_array()) {
      for (const json::value& item : *array) {
        pending.push_back(&item);
      }
    } else if (const json::object* object = value->if_object()) {
      for (const auto& entry : *object) {
        pseudonymizer.reserve(entry.key());
        pending.push_back(&entry.value());
      }
    }
  }
}

}  // namespace

Status RequestDlp::inspect(connectors::Endpoint endpoint, json::object& body) {
  return inspectShape(
      endpoint == connectors::Endpoint::Embeddings ? RequestShape::Embeddings : RequestShape::Chat,
      body);
}

Status RequestDlp::inspectAnthropic(json::object& body) {
  return inspectShape(RequestShape::AnthropicMessages, body);
}

Status RequestDlp::inspectNative(connectors::Surface surface, json::object& body) {
  switch (surface) {
    case connectors::Surface::Anthropic:
      return inspectShape(RequestShape::AnthropicMessages, body);
    case connectors::Surface::Responses:
      return inspectShape(RequestShape::Responses, body);
    case connectors::Surface::OpenAi:
      break;
  }
  return inspectShape(RequestShape::Chat, body);
}

Status RequestDlp::inspectShape(RequestShape shape, json::object& body) {
  BodyWalker walker(*this, policy_.unknownFields());
  Status status = walker.walkObject(body, shape == RequestShape::Embeddings  ? kEmbeddings
                                          : shape == RequestShape::Chat      ? kChat
                                          : shape == RequestShape::Responses ? kResponses
                                                                             : kAnthropic);
  if (status) {
    walker.scanAcrossPieces();
  }
  if (opaque_) {
    // Token ids are text DLP cannot read: treated as the most sensitive content there is.
    sensitivity_ = static_cast<int>(policy_.levels().names().size()) - 1;
  }
  if (!texts_.empty()) {
    reserveClientTokens(body, pseudonymizer_);
  }
  return status;
}

size_t RequestDlp::findingCount() const {
  size_t count = 0;
  for (const ScannedText& text : texts_) {
    count += text.findings.size();
  }
  return count;
}

const DestinationVerdict& RequestDlp::verdict(Location destination) {
  std::optional<DestinationVerdict>& cached = verdicts_[static_cast<size_t>(destination)];
  if (cached) {
    return *cached;
  }
  DestinationVerdict& verdict = cached.emplace();
  if (opaque_ && destination == Location::External) {
    verdict.block = DestinationVerdict::Block{-1, opaque_->second, opaque_->first, {}};
  }
  if (limit_ && !verdict.block &&
      (destination == Location::External || policy_.onLimit() == policies::LimitAction::Block)) {
    verdict.block = DestinationVerdict::Block{-1, "", limit_->path, limit_->bound};
  }
  verdict.actions.reserve(texts_.size());
  for (const ScannedText& text : texts_) {
    auto& actions = verdict.actions.emplace_back();
    actions.reserve(text.findings.size());
    for (const policies::Finding& finding : text.findings) {
      policies::FindingAction action = policy_.requestAction(finding, destination);
      if (action.action == PolicyAction::Allow && destination == Location::External) {
        action.action = external_floor_;
      }
      if (text.media && action.action != PolicyAction::Allow) {
        action.action = PolicyAction::Block;  // nothing inside a binary file can be rewritten
      }
      actions.push_back(action);
      if (action.action == PolicyAction::Block && !verdict.block) {
        verdict.block =
            DestinationVerdict::Block{action.rule, finding.detector_id, text.pathString(), {}};
      }
      verdict.transforms = verdict.transforms || (action.action != PolicyAction::Allow &&
                                                  action.action != PolicyAction::Block);
    }
  }
  return verdict;
}

void RequestDlp::apply(json::object& body, Location destination) {
  if (applied_ == destination) {
    return;
  }
  const DestinationVerdict& chosen = verdict(destination);
  if (!chosen.transforms && !applied_) {
    applied_ = destination;  // the originals are in place and stay
    return;
  }
  std::vector<policies::DlpAction> actions;
  for (size_t t = 0; t < texts_.size(); ++t) {
    const ScannedText& text = texts_[t];
    if (text.media) {
      continue;  // its findings were allowed (anything else blocks the request)
    }
    json::object* parent = nullptr;
    json::value* target = valueAt(body, text.at, &parent);
    if (target == nullptr || (text.key && parent == nullptr)) {
      continue;
    }
    actions.clear();
    for (const policies::FindingAction& action : chosen.actions[t]) {
      actions.push_back(textAction(action.action));
    }
    std::string rewritten =
        policies::applyActions(text.original, text.findings, actions, &pseudonymizer_, text.source);
    if (text.key) {
      renameKey(*parent, text.at.back(), rewritten);
    } else {
      *target = rewritten;  // a number with a finding becomes its rewritten digits
    }
  }
  applied_ = destination;
}

const std::string& RequestDlp::blockRule(const DestinationVerdict::Block& block) const {
  static const std::string kUninspectable = "uninspectable";
  static const std::string kLimits = "dlp.limits";
  if (block.limit) {
    return kLimits;
  }
  return block.rule < 0 ? kUninspectable : policy_.requestRule(block.rule).name;
}

Error RequestDlp::blockError(const DestinationVerdict::Block& block) const {
  if (block.limit) {
    const bool everywhere = policy_.onLimit() == policies::LimitAction::Block;
    return makeError(ErrorCode::PermissionDenied, ErrorSource::Downstream,
                     "DLP scan limit reached (" + std::string(policies::toString(*block.limit)) +
                         ") in " + block.path + ": request not sent to " +
                         (everywhere ? "any backend." : "an external backend."),
                     "policy_violation")
        .error();
  }
  if (block.rule < 0) {
    return makeError(ErrorCode::PermissionDenied, ErrorSource::Downstream,
                     "Request blocked: " + block.path + " holds " + block.detector_id +
                         ", which DLP cannot inspect; it is not sent to an external backend.",
                     "policy_violation")
        .error();
  }
  const policies::DetectorInfo* info = engine_.detector(block.detector_id);
  std::string what = block.detector_id;
  if (info != nullptr) {
    what += " (" + std::string(policies::toString(info->detector_class)) + ")";
  }
  return makeError(ErrorCode::PermissionDenied, ErrorSource::Downstream,
                   "Request blocked by DLP rule '" + policy_.requestRule(block.rule).name +
                       "': " + what + " found in " + block.path + ".",
                   "policy_violation")
      .error();
}

}  // namespace sy::server
