#include "connectors/inbound_fields.h"

#include "core/json_text.h"

namespace sy::connectors::inbound {

namespace json = boost::json;

std::unexpected<Error> invalid(std::string message, std::string param) {
  auto error = makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message),
                         "invalid_request_error");
  error.error().param = std::move(param);
  return error;
}

const json::value* present(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      return "an object";
    case json::kind::array:
      return "an array";
    case json::kind::string:
      return "a string";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::null:
      return "null";
    default:
      return "a number";
  }
}

std::string fieldPath(const std::string& where, std::string_view key) {
  return where == "request" ? std::string(key) : where + "." + std::string(key);
}

Status copyOptionalString(const json::object& from, std::string_view key, json::object& to,
                          const std::string& where) {
  if (const json::value* value = present(from, key)) {
    if (!value->is_string()) {
      const std::string path = fieldPath(where, key);
      return invalid(path + ": must be a string", path);
    }
    to[key] = *value;
  }
  return {};
}

Result<std::string_view> stringAt(const json::object& object, std::string_view key,
                                  const std::string& where) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    const std::string path = fieldPath(where, key);
    return invalid(
        path + ": must be a string" + (v == nullptr ? " (missing)" : ", not " + describe(*v)),
        path);
  }
  return std::string_view(v->get_string());
}

Status onlyKeys(const json::object& object, std::initializer_list<std::string_view> allowed,
                const std::string& where) {
  for (const auto& entry : object) {
    bool known = false;
    for (std::string_view key : allowed) {
      known = known || entry.key() == key;
    }
    if (!known) {
      return invalid(where + ": unsupported field " + quotedName(entry.key()),
                     isPlainName(entry.key()) ? fieldPath(where, entry.key()) : where);
    }
  }
  return {};
}

}  // namespace sy::connectors::inbound
