#include "connectors/azure_openai.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/openai.h"

namespace sy::connectors {
namespace {

bool isUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void appendPercentEncoded(std::string& out, std::string_view text) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  for (const char c : text) {
    if (isUnreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
}

// The categories an Azure content_filter_result marks as filtered, comma-separated, in its order
// ("hate, jailbreak"). Only the category names: never a matched text or a blocklist id.
std::string filteredCategories(const boost::json::value* result) {
  std::string names;
  if (result == nullptr || !result->is_object()) {
    return names;
  }
  for (const auto& [name, verdict] : result->get_object()) {
    const boost::json::value* filtered =
        verdict.is_object() ? verdict.get_object().if_contains("filtered") : nullptr;
    if (filtered != nullptr && filtered->is_bool() && filtered->get_bool()) {
      if (!names.empty()) {
        names += ", ";
      }
      names.append(name.data(), name.size());
    }
  }
  return names;
}

// Azure's refusal of a prompt: a 400 whose error code (or inner code) says so.
bool isContentFilterError(const boost::json::object& error) {
  const boost::json::value* code = error.if_contains("code");
  if (code != nullptr && code->is_string() && code->get_string() == "content_filter") {
    return true;
  }
  const boost::json::value* inner = error.if_contains("innererror");
  const boost::json::value* inner_code =
      inner != nullptr && inner->is_object() ? inner->get_object().if_contains("code") : nullptr;
  return inner_code != nullptr && inner_code->is_string() &&
         inner_code->get_string() == "ResponsibleAIPolicyViolation";
}

boost::json::object contentFilterError(const boost::json::object& error) {
  boost::json::object inner;
  const boost::json::value* azure_inner = error.if_contains("innererror");
  const boost::json::value* result = nullptr;
  if (azure_inner != nullptr && azure_inner->is_object()) {
    const boost::json::object& from = azure_inner->get_object();
    result = from.if_contains("content_filter_result");
    if (const boost::json::value* code = from.if_contains("code"); code != nullptr) {
      inner["code"] = *code;
    }
    if (result != nullptr) {
      inner["content_filter_result"] = *result;
    }
  }
  const std::string categories = filteredCategories(result);
  std::string message = "The upstream provider's content filter (Azure OpenAI) refused the prompt";
  message += categories.empty() ? "" : " (filtered: " + categories + ")";
  message +=
      ". The request was not processed; rephrase it, or ask the gateway's operators about "
      "the deployment's content filtering policy.";
  boost::json::object out;
  out["message"] = message;
  out["type"] = "invalid_request_error";
  out["param"] = "prompt";
  out["code"] = "content_filter";
  if (!inner.empty()) {
    out["innererror"] = std::move(inner);
  }
  return out;
}

// Azure's own errors ({"code":"401","message":...}, {"code":"DeploymentNotFound",...}) lack
// OpenAI's `type`, and some carry a numeric code: OpenAI clients read both.
void completeOpenAiShape(unsigned status, boost::json::object& error) {
  if (const boost::json::value* type = error.if_contains("type");
      type == nullptr || type->is_null()) {
    error["type"] = openAiErrorType(status);
  }
  if (!error.contains("param")) {
    error["param"] = nullptr;
  }
  boost::json::value& code = error["code"];
  if (code.is_int64()) {
    code = std::to_string(code.get_int64());
  } else if (code.is_uint64()) {
    code = std::to_string(code.get_uint64());
  }
}

// Error bodies are small and read whole by the gateway; this bounds what a translator holds.
constexpr size_t kMaxErrorBody = 1 << 20;

class AzureErrorTranslator final : public ResponseTranslator {
 public:
  explicit AzureErrorTranslator(unsigned status) : status_(status) {}

  Status onChunk(std::string& chunk, bool end) override {
    if (passthrough_) {
      return {};
    }
    held_.append(chunk);
    chunk.clear();
    if (held_.size() > kMaxErrorBody) {  // not an Azure error body: relay it as it came
      passthrough_ = true;
      chunk.swap(held_);
      return {};
    }
    if (end) {
      chunk = rewriteAzureError(status_, held_);
      held_.clear();
    }
    return {};
  }
  TokenUsage usage() const override { return {}; }

 private:
  const unsigned status_;
  std::string held_;
  bool passthrough_ = false;
};

}  // namespace

std::string azureOpenAiTarget(std::string_view base_path, std::string_view deployment,
                              std::string_view api_version, Endpoint endpoint) {
  std::string target(base_path);
  if (!target.ends_with("/openai")) {
    target += "/openai";
  }
  target += "/deployments/";
  appendPercentEncoded(target, deployment);
  target += endpoint == Endpoint::ChatCompletions ? "/chat/completions" : "/embeddings";
  target += "?api-version=";
  appendPercentEncoded(target, api_version);
  return target;
}

std::string rewriteAzureError(unsigned status, std::string_view body) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return std::string(body);
  }
  boost::json::object& top = parsed.get_object();
  boost::json::value* error = top.if_contains("error");
  if (error == nullptr) {
    // API Management in front of the resource answers {"statusCode":401,"message":...}.
    const boost::json::value* message = top.if_contains("message");
    if (!top.contains("statusCode") || message == nullptr || !message->is_string()) {
      return std::string(body);
    }
    boost::json::object converted;
    converted["message"] = *message;
    converted["code"] = top["statusCode"];
    completeOpenAiShape(status, converted);
    boost::json::object out;
    out["error"] = std::move(converted);
    return boost::json::serialize(out);
  }
  if (!error->is_object()) {
    return std::string(body);
  }
  if (isContentFilterError(error->get_object())) {
    boost::json::object out;
    out["error"] = contentFilterError(error->get_object());
    return boost::json::serialize(out);
  }
  completeOpenAiShape(status, error->get_object());
  return boost::json::serialize(parsed);
}

Result<UpstreamRequest> AzureOpenAiConnector::buildRequest(Endpoint endpoint,
                                                           boost::json::object& body,
                                                           const BackendSpec& backend,
                                                           std::string_view api_key,
                                                           std::string_view request_id) const {
  if (backend.deployment.empty() || backend.api_version.empty()) {
    return makeError(
        ErrorCode::Internal, ErrorSource::Internal,
        "backend '" + backend.name + "' (kind azure-openai) needs a deployment and an api_version",
        "internal_error");
  }
  body.erase("model");  // the deployment is the model; Azure ignores or rejects a body `model`
  UpstreamRequest request = openAiRequest(endpoint, body, request_id);
  request.target = azureOpenAiTarget(backend.address.base_path, backend.deployment,
                                     backend.api_version, endpoint);
  if (!api_key.empty()) {
    request.headers.emplace_back("api-key", std::string(api_key));
  }
  return request;
}

std::unique_ptr<ResponseTranslator> AzureOpenAiConnector::newTranslator(
    Endpoint endpoint, unsigned status, bool event_stream, const TranslatorOptions& options) const {
  if (status >= 400 && !event_stream) {
    return std::make_unique<AzureErrorTranslator>(status);
  }
  return OpenAiConnector().newTranslator(endpoint, status, event_stream, options);
}

}  // namespace sy::connectors
