#include "connectors/inbound_fields.h"

#include <cmath>

#include "core/json_text.h"

namespace sy::connectors::inbound {

namespace json = boost::json;

std::unexpected<Error> invalid(std::string message, std::string param, std::string code) {
  auto error = makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message),
                         std::move(code));
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

namespace {

std::string_view expected(Expect expect) {
  switch (expect) {
    case Expect::Number:
      return "a number";
    case Expect::Integer:
      return "an integer";
    case Expect::Boolean:
      return "a boolean";
    case Expect::String:
      return "a string";
    case Expect::Object:
      return "an object";
    case Expect::Array:
      return "an array";
    case Expect::StringOrStrings:
      break;
  }
  return "a string or an array of strings";
}

bool hasKind(const json::value& v, Expect expect) {
  switch (expect) {
    case Expect::Number:
      return v.is_number();
    case Expect::Integer:
      return v.is_int64() || v.is_uint64() ||
             (v.is_double() && std::trunc(v.get_double()) == v.get_double());
    case Expect::Boolean:
      return v.is_bool();
    case Expect::String:
      return v.is_string();
    case Expect::Object:
      return v.is_object();
    case Expect::Array:
      return v.is_array();
    case Expect::StringOrStrings:
      break;
  }
  if (v.is_string()) {
    return true;
  }
  const json::array* list = v.if_array();
  if (list == nullptr) {
    return false;
  }
  for (const json::value& item : *list) {
    if (!item.is_string()) {
      return false;
    }
  }
  return true;
}

// "2", "0.5", "-2": a bound as the documentation writes it.
std::string bound(double value) {
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  return text;
}

std::string range(const FieldRule& rule) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (rule.max == kInf) {
    return "at least " + bound(rule.min);
  }
  if (rule.min == -kInf) {
    return "at most " + bound(rule.max);
  }
  return "between " + bound(rule.min) + " and " + bound(rule.max);
}

}  // namespace

namespace {

Status checkField(const json::value* v, const FieldRule& rule, const std::string& where,
                  bool nullable) {
  if (v == nullptr || (nullable && v->is_null())) {
    return {};
  }
  if (!hasKind(*v, rule.expect)) {
    const std::string path = fieldPath(where, rule.name);
    return invalid(path + ": must be " + std::string(expected(rule.expect)) + ", not " +
                       describe(*v),
                   path, "invalid_type");
  }
  if (v->is_number()) {
    const double n = v->to_number<double>();
    if (n < rule.min || n > rule.max) {
      const std::string path = fieldPath(where, rule.name);
      return invalid(path + ": must be " + range(rule), path, "invalid_value");
    }
  }
  return {};
}

}  // namespace

Status checkFields(const json::object& object, std::span<const FieldRule> rules,
                   const std::string& where, bool nullable) {
  // Whichever is shorter is walked: a request names a few of the many fields a table knows.
  if (object.size() < rules.size()) {
    for (const auto& member : object) {
      for (const FieldRule& rule : rules) {
        if (rule.name == member.key()) {
          if (Status checked = checkField(&member.value(), rule, where, nullable); !checked) {
            return checked;
          }
          break;
        }
      }
    }
    return {};
  }
  for (const FieldRule& rule : rules) {
    if (Status checked = checkField(object.if_contains(rule.name), rule, where, nullable);
        !checked) {
      return checked;
    }
  }
  return {};
}

}  // namespace sy::connectors::inbound
