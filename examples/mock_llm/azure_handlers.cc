// Azure OpenAI's deployment routes: POST /openai/deployments/{name}/chat/completions and
// /embeddings with the `api-version` query parameter and the key in `api-key`. The OpenAI handlers
// answer (Azure serves the OpenAI wire format), with the deployment's model (the mock's own,
// NAME-model) whatever the body's `model` says, and Azure's additions: prompt_filter_results,
// its error shapes, and a content-filter refusal on demand (`mock:content_filter` in the prompt).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "examples/mock_llm/handlers.h"

namespace sy::mock {
namespace http = boost::beast::http;

namespace {

// The filter results Azure reports for an unremarkable prompt.
constexpr std::string_view kSafeFilterResults =
    R"({"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,)"
    R"("detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":)"
    R"({"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}})";

// Azure's own errors: {"error":{"code","message"}} (no `type`, unlike OpenAI's).
void setAzureError(Reply& reply, unsigned status, std::string_view code, std::string_view message) {
  reply.kind = Reply::Kind::Full;
  reply.status = status;
  reply.content_type = "application/json";
  reply.body = R"({"error":{"code":)";
  appendJsonString(reply.body, code);
  reply.body += R"(,"message":)";
  appendJsonString(reply.body, message);
  reply.body += "}}";
}

// Azure's refusal of a prompt its content filter flags (hate, high), as published.
void setContentFilterRefusal(Reply& reply) {
  reply.kind = Reply::Kind::Full;
  reply.status = 400;
  reply.content_type = "application/json";
  reply.body =
      R"({"error":{"message":"The response was filtered due to the prompt triggering Azure )"
      R"(OpenAI's content management policy. Please modify your prompt and retry. To learn more )"
      R"(about our content filtering policies please read our documentation: )"
      R"(https://go.microsoft.com/fwlink/?linkid=2198766","type":null,"param":"prompt",)"
      R"("code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation",)"
      R"("content_filter_result":{"hate":{"filtered":true,"severity":"high"},"jailbreak":)"
      R"({"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},)"
      R"("sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,)"
      R"("severity":"safe"}}}}})";
}

// The value of `name` in a query string ("a=1&api-version=x"); empty when absent.
std::string_view queryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return {};
}

bool checkAzureKey(const Request& request, const ServerState& state, Reply& reply) {
  const std::string& key = state.options.require_key;
  if (key.empty()) {
    return true;
  }
  const auto it = request.find("api-key");
  if (it == request.end() || std::string_view(it->value().data(), it->value().size()) != key) {
    setAzureError(reply, 401, "401",
                  "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                  "to provide a valid key for an active subscription and use a correct regional "
                  "API endpoint for your resource.");
    return false;
  }
  return true;
}

// The body with `model` set to the deployment's model; nullopt (the body as sent) when it is not
// a JSON object, so the OpenAI handler reports it. Also says whether the prompt asks for a
// content-filter refusal.
std::optional<std::string> asDeploymentBody(const Request& request, const ServerState& state,
                                            bool& refuse) {
  JsonBody json(request.body());
  if (!json.ok() || !json.value().is_object()) {
    return std::nullopt;
  }
  boost::json::object body = json.value().get_object();
  if (const boost::json::value* messages = body.if_contains("messages");
      messages != nullptr && messages->is_array()) {
    std::string joined;
    refuse = lastUserText(messages->get_array(), joined).find("mock:content_filter") !=
             std::string_view::npos;
  }
  body["model"] = state.options.name + "-model";
  return boost::json::serialize(body);
}

// Azure reports the prompt's filter results: a body field, or a first event without choices.
void addPromptFilterResults(Reply& reply) {
  std::string results = R"("prompt_filter_results":[{"prompt_index":0,"content_filter_results":)";
  results.append(kSafeFilterResults);
  results += "}]";
  if (reply.kind == Reply::Kind::Full && reply.body.ends_with('}')) {
    reply.body.insert(reply.body.size() - 1, "," + results);
    return;
  }
  if (reply.kind != Reply::Kind::Stream) {
    return;
  }
  std::string events = std::move(reply.body);
  std::vector<uint32_t> ends = std::move(reply.event_ends);
  reply.body.clear();
  reply.event_ends.clear();
  std::string& event = reply.beginEvent();
  event = R"(data: {"choices":[],"created":0,"id":"","model":"","object":"",)" + results + "}\n\n";
  reply.commitEvent();
  const auto shift = static_cast<uint32_t>(reply.body.size());
  reply.body += events;
  for (const uint32_t end : ends) {
    reply.event_ends.push_back(end + shift);
  }
  ++reply.preamble_events;
}

// An injected 429 in Azure's words and headers (other injected statuses keep OpenAI's bodies, as
// Azure relays the model server's).
void azureRateLimit(std::string_view operation, std::string_view api_version, Reply& reply) {
  setAzureError(reply, 429, "429",
                "Requests to the " + std::string(operation) +
                    " Operation under Azure OpenAI API version " + std::string(api_version) +
                    " have exceeded call rate limit of your current OpenAI S0 pricing tier. "
                    "Please retry after 1 second.");
  reply.headers += "retry-after-ms: 1000\r\nx-ratelimit-remaining-requests: 0\r\n";
}

}  // namespace

void dispatchAzure(std::string_view target, const Request& request, ServerState& state,
                   Reply& reply) {
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  constexpr std::string_view kPrefix = "/openai/deployments/";
  std::string_view rest = path.starts_with(kPrefix) ? path.substr(kPrefix.size()) : "";
  const size_t slash = rest.find('/');
  const std::string_view deployment = rest.substr(0, slash);
  const std::string_view operation =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  const bool chat = operation == "chat/completions";
  if (deployment.empty() || (!chat && operation != "embeddings")) {
    return setAzureError(reply, 404, "404", "Resource not found");
  }
  if (request.method() != http::verb::post) {
    setAzureError(reply, 405, "405", "Method not allowed");
    reply.headers += "allow: POST\r\n";
    return;
  }
  if (!checkAzureKey(request, state, reply)) {
    return;
  }
  const std::string_view api_version = queryParam(query, "api-version");
  if (api_version.empty()) {
    return setAzureError(reply, 400, "MissingApiVersionParameter",
                         "The api-version query parameter (?api-version=) is required for all "
                         "requests.");
  }
  bool refuse = false;
  std::optional<std::string> body = asDeploymentBody(request, state, refuse);
  if (refuse) {
    return setContentFilterRefusal(reply);
  }
  Request served = request;
  if (body) {
    served.body() = std::move(*body);
  }
  if (chat) {
    handleChatCompletions(served, state, reply);
  } else {
    handleEmbeddings(served, state, reply);
  }
  if (reply.status == 429 && reply.controls.error_status == 429) {
    return azureRateLimit(chat ? "ChatCompletions_Create" : "Embeddings_Create", api_version,
                          reply);
  }
  if (chat && reply.status == 200) {
    addPromptFilterResults(reply);
  }
}

}  // namespace sy::mock
