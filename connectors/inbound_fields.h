// Internal to the client surfaces' decoders (anthropic_inbound, responses_inbound): reading the
// fields of a client's JSON request strictly, with errors that name the field. Every error is
// InvalidArgument (400) with OpenAI's `param` set to the field's path. Pure functions;
// thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace sy::connectors::inbound {

// An InvalidArgument error (OpenAI's `code`: `code`); `param`: the field's path, "" none.
std::unexpected<Error> invalid(std::string message, std::string param = {},
                               std::string code = "invalid_request_error");

// The field `key` of `object`, or null when it is absent or null (the APIs' "optional and
// nullable").
const boost::json::value* present(const boost::json::object& object, std::string_view key);

// "an object", "a string", ...: the JSON kind of `v`, for messages.
std::string describe(const boost::json::value& v);

// The text of the string field `key` of `object` (at path `where`), or an error naming it.
Result<std::string_view> stringAt(const boost::json::object& object, std::string_view key,
                                  const std::string& where);

// Copies the optional (absent or null) string field `key` of `from` into `to`; any other kind is
// an error naming it ("<where>.<key>: must be a string").
Status copyOptionalString(const boost::json::object& from, std::string_view key,
                          boost::json::object& to, const std::string& where);

// Checks that `object` (at path `where`) has only `allowed` keys: an unknown field is refused
// (fail closed), named when it is a plain name (quotedName).
Status onlyKeys(const boost::json::object& object, std::initializer_list<std::string_view> allowed,
                const std::string& where);

// The kind (and, for numbers, the inclusive range) a known field's value must have.
enum class Expect : uint8_t { Number, Integer, Boolean, String, Object, Array, StringOrStrings };
struct FieldRule {
  std::string_view name;
  Expect expect;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

// Checks the fields of `object` (at path `where`) that `rules` name: an absent one passes, and so
// does null when `nullable` (the OpenAI APIs' optional fields are nullable, Anthropic's are not).
// An Integer is a JSON number with no fraction; StringOrStrings a string or an array of strings.
// Errors: InvalidArgument with `param` the field's path and code invalid_type (wrong kind) or
// invalid_value (out of range); the message says what is expected, never the client's value.
Status checkFields(const boost::json::object& object, std::span<const FieldRule> rules,
                   const std::string& where, bool nullable);

// The path of `key` under `where` ("request" is the top level: "request" + "x" -> "x").
std::string fieldPath(const std::string& where, std::string_view key);

}  // namespace sy::connectors::inbound
