#include "gateway/cli/request_line.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <expected>

#include "gateway/server/pipeline/explain.h"

namespace sy::cli {
namespace {

namespace json = boost::json;

// A refusal before the dry run got to decide (401 for a bad key).
json::object refusal(const Error& error) {
  return json::object{
      {"status", toHttpStatus(error)},
      {"error", json::object{{"message", error.message}, {"code", error.code_id}}}};
}

const std::string* headerValue(const CaseRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (header == name) {
      return &value;
    }
  }
  return nullptr;
}

// The principal the request runs as, or the refusal it gets. Credentials in headers go through
// the key ring's authenticate(), as in serve; `key`/`team` name a key of the policy so that
// cases need no secrets; with neither, the request is as serve sees a request with no key.
std::expected<const policies::Principal*, json::object> principalOf(
    const CaseRequest& request, const config::Snapshot& snapshot) {
  const policies::KeyRing& keys = snapshot.keys();
  const std::string* authorization = headerValue(request, "authorization");
  const std::string* api_key = headerValue(request, "x-api-key");
  std::string key_id = request.key;
  if (key_id.empty() && !request.team.empty()) {
    for (const policies::KeySpec& key : snapshot.config().auth.keys) {
      if (key.team == request.team) {
        key_id = key.id;
        break;
      }
    }
    if (key_id.empty()) {
      return std::unexpected(json::object{{"case_error", "no key of team '" + request.team + "'"}});
    }
  }
  if (key_id.empty() || authorization != nullptr || api_key != nullptr) {
    auto principal = keys.authenticate(authorization ? *authorization : "",
                                       api_key ? *api_key : "", std::chrono::system_clock::now());
    if (!principal) {
      return std::unexpected(refusal(principal.error()));
    }
    return *principal;
  }
  if (key_id == "anonymous") {
    if (!keys.anonymousAllowed()) {
      return std::unexpected(json::object{
          {"case_error", "key 'anonymous': the policy does not set auth.anonymous: true"}});
    }
    return &policies::KeyRing::anonymousPrincipal();
  }
  const policies::Principal* principal = keys.find(key_id);
  if (principal == nullptr) {
    return std::unexpected(json::object{{"case_error", "no key '" + key_id + "' in the policy"}});
  }
  return principal;
}

std::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message));
}

// Reads the string member `name` into `out` when present; false (with `error` set) when it is
// not a string or not one of `allowed` (when given).
bool readString(const json::object& object, std::string_view name, std::string& out,
                std::string& error, std::initializer_list<std::string_view> allowed = {}) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) {
    return true;
  }
  if (!value->is_string()) {
    error = std::string(name) + ": not a string";
    return false;
  }
  out = value->get_string();
  if (allowed.size() > 0 && std::find(allowed.begin(), allowed.end(), out) == allowed.end()) {
    error = std::string(name) + ": '" + out + "' is not one of the known values";
    return false;
  }
  return true;
}

}  // namespace

json::object decideRequest(const CaseRequest& request,
                           const std::shared_ptr<const config::Snapshot>& snapshot,
                           bool upstream) {
  auto principal = principalOf(request, *snapshot);
  if (!principal) {
    return std::move(principal.error());
  }
  server::ExplainOptions options;
  options.endpoint = request.endpoint;
  options.principal = *principal;
  options.upstream = upstream;
  // As the dispatch phase: Anthropic clients send anthropic-version with every request.
  options.surface = request.surface == "anthropic" || headerValue(request, "anthropic-version")
                        ? connectors::Surface::Anthropic
                    : request.surface == "responses" ? connectors::Surface::Responses
                                                     : connectors::Surface::OpenAi;
  return server::explainRequest(snapshot, request.body, options);
}

Result<RequestLine> parseRequestLine(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    return invalid("not JSON (" + ec.message() + ")");
  }
  if (!value.is_object()) {
    return invalid("not a JSON object");
  }
  const json::object& object = value.get_object();
  static constexpr std::string_view kMembers[] = {"id",      "key",  "team",    "surface",
                                                  "endpoint", "headers", "body", "recorded"};
  for (const auto& member : object) {
    if (std::find(std::begin(kMembers), std::end(kMembers), member.key()) == std::end(kMembers)) {
      return invalid("unknown member '" + std::string(member.key().substr(0, 64)) + "'");
    }
  }
  RequestLine line;
  CaseRequest& request = line.request;
  std::string error;
  if (!readString(object, "id", line.id, error) || !readString(object, "key", request.key, error) ||
      !readString(object, "team", request.team, error) ||
      !readString(object, "surface", request.surface, error, {"openai", "anthropic", "responses"}) ||
      !readString(object, "endpoint", request.endpoint, error, {"chat", "embeddings"})) {
    return invalid(error);
  }
  if (const json::value* headers = object.if_contains("headers"); headers != nullptr) {
    if (!headers->is_object()) {
      return invalid("headers: not an object");
    }
    for (const auto& header : headers->get_object()) {
      if (!header.value().is_string()) {
        return invalid("headers: a value is not a string");
      }
      std::string name(header.key());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers.emplace_back(std::move(name), std::string(header.value().get_string()));
    }
  }
  const json::value* body = object.if_contains("body");
  if (body == nullptr || !body->is_object()) {
    return invalid("body: missing, or not a JSON object");
  }
  request.body = json::serialize(*body);
  if (const json::value* recorded = object.if_contains("recorded"); recorded != nullptr) {
    if (!recorded->is_object()) {
      return invalid("recorded: not an object");
    }
    line.recorded = recorded->get_object();
  }
  return line;
}

std::string formatRequestLine(const RequestLine& line) {
  const CaseRequest& request = line.request;
  json::object out;
  if (!line.id.empty()) {
    out["id"] = line.id;
  }
  if (!request.key.empty()) {
    out["key"] = request.key;
  }
  if (!request.team.empty()) {
    out["team"] = request.team;
  }
  out["surface"] = request.surface;
  out["endpoint"] = request.endpoint;
  if (!request.headers.empty()) {
    json::object headers;
    for (const auto& [name, value] : request.headers) {
      headers[name] = value;
    }
    out["headers"] = std::move(headers);
  }
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  out["body"] = ec ? json::value(json::object()) : std::move(body);
  if (!line.recorded.empty()) {
    out["recorded"] = line.recorded;
  }
  return json::serialize(out);
}

}  // namespace sy::cli
