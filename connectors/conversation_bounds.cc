#include "connectors/conversation_bounds.h"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
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

// "This request carries 3000 messages, more than this gateway's limit of 2048 ..." (`more`: the
// count is a lower bound, "more than 2048 messages").
std::unexpected<Error> tooMany(std::string_view noun, std::string_view setting, std::string code,
                               std::string param, uint32_t limit, size_t count,
                               bool more = false) {
  auto error = makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                         "This request carries " + std::string(more ? "more than " : "") +
                             std::to_string(more ? limit : count) + " " +
                             std::string(noun) + (more ? ", over" : ", more than") +
                             " this gateway's limit of " +
                             std::to_string(limit) + " (server.limits." + std::string(setting) +
                             ").",
                         std::move(code));
  error.error().param = std::move(param);
  return error;
}

// boost::json::basic_parser's handler for precheckConversation(): builds nothing, counts the
// elements of the top-level member `list_key`'s array and stops past `limit` of them.
class ListCounter {
 public:
  static constexpr size_t max_object_size = size_t(-1);
  static constexpr size_t max_array_size = size_t(-1);
  static constexpr size_t max_key_size = size_t(-1);
  static constexpr size_t max_string_size = size_t(-1);

  ListCounter(std::string_view list_key, size_t limit) : list_key_(list_key), limit_(limit) {}

  bool exceeded() const { return count_ > limit_; }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code& ec) { return open(ec); }
  bool on_object_end(size_t, boost::system::error_code&) { return close(); }
  bool on_array_begin(boost::system::error_code& ec) {
    const bool list = depth_ == 1 && key_ == list_key_;
    if (!open(ec)) {
      return false;
    }
    in_list_ = in_list_ || list;
    return true;
  }
  bool on_array_end(size_t, boost::system::error_code&) {
    if (depth_ == 2) {
      in_list_ = false;
    }
    return close();
  }
  bool on_string_part(boost::json::string_view, size_t, boost::system::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, size_t, boost::system::error_code& ec) {
    return scalar(ec);
  }
  bool on_key_part(boost::json::string_view s, size_t, boost::system::error_code&) {
    if (depth_ == 1) {
      partial_.append(s.data(), std::min(s.size(), kKeyCap));
    }
    return true;
  }
  bool on_key(boost::json::string_view s, size_t, boost::system::error_code&) {
    if (depth_ == 1) {
      partial_.append(s.data(), std::min(s.size(), kKeyCap));
      key_.swap(partial_);
      partial_.clear();
    }
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t, boost::json::string_view, boost::system::error_code& ec) {
    return scalar(ec);
  }
  bool on_uint64(uint64_t, boost::json::string_view, boost::system::error_code& ec) {
    return scalar(ec);
  }
  bool on_double(double, boost::json::string_view, boost::system::error_code& ec) {
    return scalar(ec);
  }
  bool on_bool(bool, boost::system::error_code& ec) { return scalar(ec); }
  bool on_null(boost::system::error_code& ec) { return scalar(ec); }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

 private:
  static constexpr size_t kKeyCap = 16;  // longer keys are none of the lists counted

  // A value starting at depth_ (before open() deepens it).
  bool element(boost::system::error_code& ec) {
    if (in_list_ && depth_ == 2 && ++count_ > limit_) {
      ec = boost::json::error::exception;  // stop: the answer is known
      return false;
    }
    return true;
  }
  bool open(boost::system::error_code& ec) {
    if (!element(ec)) {
      return false;
    }
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }
  bool scalar(boost::system::error_code& ec) { return element(ec); }

  std::string_view list_key_;
  size_t limit_;
  size_t depth_ = 0;
  size_t count_ = 0;
  bool in_list_ = false;
  std::string key_;
  std::string partial_;
};

}  // namespace

Status precheckConversation(Surface surface, std::string_view body,
                            const ConversationBounds& bounds) {
  if (body.size() < kPrecheckMinBytes ||
      static_cast<size_t>(std::count(body.begin(), body.end(), '{')) <= bounds.max_messages) {
    return {};
  }
  const bool responses = surface == Surface::Responses;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::basic_parser<ListCounter> parser(options, responses ? "input" : "messages",
                                                bounds.max_messages);
  boost::system::error_code ec;
  parser.write_some(false, body.data(), body.size(), ec);
  if (!parser.handler().exceeded()) {
    return {};
  }
  return tooMany(responses ? "input items" : "messages", "max_messages", "too_many_messages",
                 responses ? "input" : "messages", bounds.max_messages, bounds.max_messages + 1,
                 true);
}

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
