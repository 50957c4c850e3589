// Azure OpenAI upstreams: the OpenAI wire format on deployment URLs
// (`{base}/openai/deployments/{deployment}/chat/completions?api-version=...`), the key in an
// `api-key` header, no `model` in the body (the deployment names it). Answers are OpenAI-shaped
// and reuse the OpenAI translators; only error bodies differ: Azure's content-filter refusal of a
// prompt becomes a clear OpenAI-shaped `content_filter` error, and Azure's `{code, message}`
// errors get OpenAI's `type`. Immutable, thread-safe; its translators are per response.
#pragma once

#include <string>
#include <string_view>

#include "connectors/connector.h"

namespace sy::connectors {

class AzureOpenAiConnector final : public Connector {
 public:
  // sy::connectors::Connector
  std::string_view provider() const override { return "azure-openai"; }
  // Fails (Internal) when `backend` has no deployment or api_version (the config loader requires
  // both for this kind, so only a hand-built spec gets there). Removes `model` from `body`.
  Result<UpstreamRequest> buildRequest(Endpoint endpoint, boost::json::object& body,
                                       const BackendSpec& backend, std::string_view api_key,
                                       std::string_view request_id) const override;
  // 2xx and event streams: the OpenAI translators (prompt_filter_results, content_filter_results
  // and finish_reason "content_filter" pass through untouched). Other statuses: an error-body
  // rewrite (see the file comment); bodies that are not Azure errors pass through.
  std::unique_ptr<ResponseTranslator> newTranslator(
      Endpoint endpoint, unsigned status, bool event_stream,
      const TranslatorOptions& options) const override;
};

// The origin-form target for `endpoint` on an Azure deployment, under the url's base path (a base
// path already ending in "/openai" is not given a second one). `deployment` and `api_version` are
// percent-encoded (everything but RFC 3986 unreserved characters).
std::string azureOpenAiTarget(std::string_view base_path, std::string_view deployment,
                              std::string_view api_version, Endpoint endpoint);

// Rewrites a non-2xx Azure OpenAI error body for an OpenAI client; returns `body` unchanged when it
// is not a JSON `{"error":{...}}` object. A content-filter refusal
// (`code: "content_filter"`) becomes `{"error":{"message","type":"invalid_request_error",
// "param":"prompt","code":"content_filter","innererror":{...}}}` whose message names the filtered
// categories, never the prompt; other errors keep their message and get `type` (by status),
// `param` and a string `code`.
std::string rewriteAzureError(unsigned status, std::string_view body);

}  // namespace sy::connectors
