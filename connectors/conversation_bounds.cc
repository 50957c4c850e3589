#include "connectors/conversation_bounds.h"

#include <string>

namespace sy::connectors {
namespace {

namespace json = boost::json;

const json::array* arrayAt(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v != nullptr ? v->if_array() : nullptr;
}

// The parts one message (item) holds: every array member's elements, and the elements of the
// `content` arrays those elements carry (one level: a tool result's blocks).
size_t partsOf(const json::value& message) {
  const json::object* m = message.if_object();
  if (m == nullptr) {
    return 0;
  }
  size_t parts = 0;
  for (const auto& member : *m) {
    const json::array* list = member.value().if_array();
    if (list == nullptr) {
      continue;
    }
    parts += list->size();
    for (const json::value& part : *list) {
      if (const json::object* p = part.if_object()) {
        if (const json::array* nested = arrayAt(*p, "content")) {
          parts += nested->size();
        }
      }
    }
  }
  return parts;
}

void addMessages(const json::array& list, ConversationSize& size) {
  size.messages += list.size();
  for (const json::value& message : list) {
    size.content_parts += partsOf(message);
  }
}

// "This request carries 3000 messages, more than this gateway's limit of 2048 ...".
std::unexpected<Error> tooMany(std::string_view noun, std::string_view setting, std::string code,
                               std::string param, uint32_t limit, size_t count) {
  auto error = makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                         "This request carries " + std::to_string(count) + " " +
                             std::string(noun) + ", more than this gateway's limit of " +
                             std::to_string(limit) + " (server.limits." + std::string(setting) +
                             ").",
                         std::move(code));
  error.error().param = std::move(param);
  return error;
}

}  // namespace

ConversationSize measureConversation(Surface surface, const json::object& body,
                                     const json::array* prior) {
  ConversationSize size;
  if (surface == Surface::Responses) {
    if (prior != nullptr) {
      addMessages(*prior, size);
    }
    if (const json::value* input = body.if_contains("input"); input != nullptr) {
      if (input->is_string()) {
        size.messages += 1;
      } else if (input->is_array()) {
        addMessages(input->get_array(), size);
      }
    }
  } else if (const json::array* messages = arrayAt(body, "messages")) {
    addMessages(*messages, size);
  }
  if (surface == Surface::Anthropic) {
    if (const json::array* system = arrayAt(body, "system")) {
      size.content_parts += system->size();
    }
  }
  for (std::string_view key : {"tools", "functions"}) {
    const json::array* tools = arrayAt(body, key);
    if (tools == nullptr) {
      continue;
    }
    size.tools += tools->size();
    for (const json::value& tool : *tools) {
      if (const json::object* t = tool.if_object()) {
        if (const json::array* grouped = arrayAt(*t, "tools")) {
          size.tools += grouped->size();  // a Responses namespace's functions
        }
      }
    }
  }
  return size;
}

Status checkConversation(Surface surface, const ConversationSize& size,
                         const ConversationBounds& bounds) {
  const std::string conversation = surface == Surface::Responses ? "input" : "messages";
  if (size.messages > bounds.max_messages) {
    return tooMany(surface == Surface::Responses ? "input items" : "messages", "max_messages",
                   "too_many_messages", conversation, bounds.max_messages, size.messages);
  }
  if (size.content_parts > bounds.max_content_parts) {
    return tooMany("content parts", "max_content_parts", "too_many_content_parts", conversation,
                   bounds.max_content_parts, size.content_parts);
  }
  if (size.tools > bounds.max_tools) {
    return tooMany("tools", "max_tools", "too_many_tools", "tools", bounds.max_tools, size.tools);
  }
  return {};
}

}  // namespace sy::connectors
