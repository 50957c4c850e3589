// Routing, API-key checks and the /mock/* control endpoints.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "examples/mock_llm/handlers.h"

namespace sy::mock {
namespace http = boost::beast::http;

namespace {

std::string_view header(const Request& request, http::field field) {
  auto it = request.find(field);
  if (it == request.end()) {
    return {};
  }
  return std::string_view(it->value().data(), it->value().size());
}

std::string_view header(const Request& request, std::string_view name) {
  auto it = request.find(boost::beast::string_view(name.data(), name.size()));
  if (it == request.end()) {
    return {};
  }
  return std::string_view(it->value().data(), it->value().size());
}

// OpenAI: "Authorization: Bearer KEY". The messages are the API's own wording.
bool checkOpenAiKey(const Request& request, const ServerState& state, Reply& reply) {
  const std::string& key = state.options.require_key;
  if (key.empty()) {
    return true;
  }
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view auth = header(request, http::field::authorization);
  if (auth.empty()) {
    setOpenAiError(reply, 401,
                   "You didn't provide an API key. You need to provide your API key in an "
                   "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                   "invalid_request_error");
    return false;
  }
  if (!auth.starts_with(kBearer) || auth.substr(kBearer.size()) != key) {
    setOpenAiError(reply, 401, "Incorrect API key provided.", "invalid_request_error", {},
                   "invalid_api_key");
    return false;
  }
  return true;
}

// Anthropic: "x-api-key: KEY" or "Authorization: Bearer KEY" (what @anthropic-ai/sdk 1.x sends
// for an API key), plus the mandatory "anthropic-version" header (400 without it, as the API
// answers).
bool checkAnthropicKey(const Request& request, const ServerState& state, Reply& reply) {
  const std::string& key = state.options.require_key;
  if (key.empty()) {
    return true;
  }
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view api_key = header(request, "x-api-key");
  if (const std::string_view auth = header(request, http::field::authorization);
      api_key.empty() && auth.starts_with(kBearer)) {
    api_key = auth.substr(kBearer.size());
  }
  if (api_key.empty()) {
    setAnthropicError(reply, 401, "authentication_error",
                      "x-api-key or Authorization: Bearer header is required");
    return false;
  }
  if (api_key != key) {
    setAnthropicError(reply, 401, "authentication_error", "invalid x-api-key");
    return false;
  }
  if (header(request, "anthropic-version").empty()) {
    setAnthropicError(reply, 400, "invalid_request_error", "anthropic-version: header is required");
    return false;
  }
  return true;
}

void notFound(const Request& request, std::string_view path, Reply& reply) {
  const auto method = request.method_string();
  std::string message = "Invalid URL (";
  message.append(method.data(), method.size());
  message += ' ';
  message += path;
  message += ')';
  setOpenAiError(reply, 404, message, "invalid_request_error");
}

void methodNotAllowed(std::string_view allow, bool anthropic, Reply& reply) {
  if (anthropic) {
    setAnthropicError(reply, 405, "invalid_request_error", "Method not allowed");
  } else {
    setOpenAiError(reply, 405, "Method not allowed", "invalid_request_error");
  }
  reply.headers += "allow: ";
  reply.headers += allow;
  reply.headers += "\r\n";
}

void dispatchV1(std::string_view path, const Request& request, ServerState& state, Reply& reply) {
  const http::verb method = request.method();
  if (path == "/v1/chat/completions" || path == "/v1/embeddings" || path == "/v1/responses") {
    if (method != http::verb::post) {
      return methodNotAllowed("POST", false, reply);
    }
    if (!checkOpenAiKey(request, state, reply)) {
      return;
    }
    if (path == "/v1/responses") {
      return handleResponses(request, state, reply);
    }
    return path == "/v1/embeddings" ? handleEmbeddings(request, state, reply)
                                    : handleChatCompletions(request, state, reply);
  }
  if (path == "/v1/models") {
    if (method != http::verb::get) {
      return methodNotAllowed("GET", false, reply);
    }
    if (!checkOpenAiKey(request, state, reply)) {
      return;
    }
    return handleModels(request, state, reply);
  }
  if (path == "/v1/messages" || path == "/v1/messages/count_tokens") {
    if (method != http::verb::post) {
      return methodNotAllowed("POST", true, reply);
    }
    if (!checkAnthropicKey(request, state, reply)) {
      return;
    }
    return path == "/v1/messages" ? handleMessages(request, state, reply)
                                  : handleCountTokens(request, state, reply);
  }
  notFound(request, path, reply);
}

void setJson(Reply& reply, std::string body) {
  reply.status = 200;
  reply.body = std::move(body);
}

// `GET /health` as vLLM answers it: an empty body, 200 while healthy. The health_status control
// (runtime or x-mock-health-status) sets the status; no other control applies, and it is not a
// /v1 request (not recorded, no API key).
void handleHealth(const Request& request, const ServerState& state, Reply& reply) {
  if (request.method() != http::verb::get) {
    return methodNotAllowed("GET", false, reply);
  }
  const auto controls = effectiveControls(state.controls.snapshot(), request, {});
  if (!controls) {
    return setOpenAiError(reply, 400, controls.error().message, "invalid_request_error", {},
                          controls.error().code_id);
  }
  reply.status = static_cast<unsigned>(controls->health_status);
  reply.body.clear();
}

// The request's headers as a JSON object, lowercase names (repeats joined by ", ").
boost::json::object headersJson(const Request& request) {
  boost::json::object headers;
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (char& c : name) {
      c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    const std::string_view value(field.value().data(), field.value().size());
    if (boost::json::value* existing = headers.if_contains(name)) {
      boost::json::string& joined = existing->get_string();
      joined.append(", ");
      joined.append(value);
    } else {
      headers[name] = value;
    }
  }
  return headers;
}

// GET /mock/requests: [{"method","target","headers":{..},"body":JSON or string or null}], oldest
// first. A body that is JSON is embedded as JSON, anything else as a string.
std::string requestLogJson(const ServerState& state) {
  boost::json::array out;
  for (const std::shared_ptr<const Request>& r : state.requestLog()) {
    boost::json::object entry;
    const auto method = r->method_string();
    const auto target = r->target();
    entry["method"] = std::string_view(method.data(), method.size());
    entry["target"] = std::string_view(target.data(), target.size());
    entry["headers"] = headersJson(*r);
    if (r->body().empty()) {
      entry["body"] = nullptr;
    } else {
      boost::system::error_code ec;
      boost::json::value body = boost::json::parse(r->body(), ec);
      entry["body"] = ec ? boost::json::value(r->body()) : std::move(body);
    }
    out.push_back(std::move(entry));
  }
  return boost::json::serialize(out);
}

}  // namespace

void dispatch(std::shared_ptr<const Request> request, ServerState& state, Reply& reply) {
  const auto target = request->target();
  std::string_view path(target.data(), target.size());
  path = path.substr(0, path.find('?'));
  if (!path.starts_with("/mock/")) {
    state.log(request);
  }
  if (path == "/v1" || path.starts_with("/v1/")) {
    state.record(request);  // `request` stays owned here while the handler reads it
    return dispatchV1(path, *request, state, reply);
  }
  if (path.starts_with("/openai/")) {  // Azure OpenAI's deployment routes
    state.record(request);
    return dispatchAzure(std::string_view(target.data(), target.size()), *request, state, reply);
  }
  if (path.starts_with("/mock/")) {
    return handleMockEndpoint(path, *request, state, reply);
  }
  if (path == "/health") {
    return handleHealth(*request, state, reply);
  }
  if (path == "/" && (request->method() == http::verb::get || request->method() == http::verb::head)) {
    // Clients probe the base URL (Claude Code sends HEAD / first): 200, empty body.
    reply.status = 200;
    reply.body.clear();
    return;
  }
  notFound(*request, path, reply);
}

void handleMockEndpoint(std::string_view path, const Request& request, ServerState& state,
                        Reply& reply) {
  const http::verb method = request.method();
  if (path == "/mock/config") {
    if (method == http::verb::get) {
      return setJson(reply, controlsToJson(state.controls.snapshot()));
    }
    if (method != http::verb::post) {
      return methodNotAllowed("GET, POST", false, reply);
    }
    JsonBody json(request.body().empty() ? std::string_view("{}") : request.body());
    if (!json.ok()) {
      return setOpenAiError(reply, 400, "/mock/config: invalid JSON: " + json.errorMessage(),
                            "invalid_request_error");
    }
    auto applied = state.controls.applyConfig(json.value());
    if (!applied) {
      return setOpenAiError(reply, 400, applied.error().message, "invalid_request_error", {},
                            applied.error().code_id);
    }
    return setJson(reply, controlsToJson(*applied));
  }
  const bool known = path == "/mock/last-request" || path == "/mock/last-request-headers" ||
                     path == "/mock/stats" || path == "/mock/requests";
  if (!known) {
    return notFound(request, path, reply);
  }
  if (method != http::verb::get) {
    return methodNotAllowed("GET", false, reply);
  }
  if (path == "/mock/stats") {
    std::string body = "{\"requests\":";
    appendInt(body, static_cast<int64_t>(state.requests.load(std::memory_order_relaxed)));
    body += '}';
    return setJson(reply, std::move(body));
  }
  if (path == "/mock/requests") {
    return setJson(reply, requestLogJson(state));
  }
  std::shared_ptr<const Request> last = state.lastRequest();
  if (last == nullptr) {
    reply.status = 204;
    reply.body.clear();
    return;
  }
  if (path == "/mock/last-request") {
    return setJson(reply, last->body());
  }
  setJson(reply, boost::json::serialize(headersJson(*last)));
}

}  // namespace sy::mock
