#include "connectors/azure_openai.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sy::connectors {
namespace {

BackendSpec azureBackend(std::string base_path = "", std::string deployment = "gpt-4o-prod") {
  BackendSpec spec;
  spec.name = "azure-eu";
  spec.kind = BackendKind::AzureOpenAi;
  spec.model = "gpt-4o";
  spec.address = {true, "myres.openai.azure.com", 443, std::move(base_path)};
  spec.deployment = std::move(deployment);
  spec.api_version = "2024-10-21";
  return spec;
}

std::string header(const UpstreamRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) {
      return value;
    }
  }
  return "<absent>";
}

// Azure's published answer to a prompt its content filter refuses (HTTP 400).
constexpr std::string_view kContentFilterError =
    R"({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}}})";

// A streamed answer as Azure sends it: the prompt's filter results in a first chunk without
// choices, content_filter_results on every choice, then the usage chunk asked for.
constexpr std::string_view kAzureStream =
    "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
    "\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":"
    "{\"filtered\":false,\"severity\":\"safe\"}}}],\"usage\":null}\n\n"
    "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"\",\"role\":"
    "\"assistant\"},\"finish_reason\":null,\"index\":0}],\"created\":1,\"id\":\"chatcmpl-1\","
    "\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n"
    "data: {\"choices\":[{\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":"
    "\"safe\"}},\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null,\"index\":0}],\"created\":1,"
    "\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\","
    "\"usage\":null}\n\n"
    "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{},\"finish_reason\":"
    "\"content_filter\",\"index\":0}],\"created\":1,\"id\":\"chatcmpl-1\",\"model\":"
    "\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n";
constexpr std::string_view kAzureUsageEvent =
    "data: {\"choices\":[],\"created\":1,\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o-2024-08-06\","
    "\"object\":\"chat.completion.chunk\",\"usage\":{\"completion_tokens\":1,\"prompt_tokens\":9,"
    "\"total_tokens\":10}}\n\n";
constexpr std::string_view kDone = "data: [DONE]\n\n";

TEST(AzureOpenAiConnectorTest, TargetsTheDeploymentWithTheApiVersion) {
  AzureOpenAiConnector connector;
  auto body = boost::json::parse(R"({"model":"auto","messages":[]})").as_object();
  auto chat = connector.buildRequest(Endpoint::ChatCompletions, body, azureBackend(), "k", "r1");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->target,
            "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21");
  auto embed = boost::json::parse(R"({"model":"auto","input":"a"})").as_object();
  auto embeddings = connector.buildRequest(Endpoint::Embeddings, embed, azureBackend(), "k", "r1");
  ASSERT_TRUE(embeddings);
  EXPECT_EQ(embeddings->target,
            "/openai/deployments/gpt-4o-prod/embeddings?api-version=2024-10-21");
}

TEST(AzureOpenAiConnectorTest, KeepsTheUrlsBasePathAndDoesNotRepeatOpenAi) {
  EXPECT_EQ(azureOpenAiTarget("/gw/azure", "d", "2024-10-21", Endpoint::ChatCompletions),
            "/gw/azure/openai/deployments/d/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(azureOpenAiTarget("/openai", "d", "2024-10-21", Endpoint::Embeddings),
            "/openai/deployments/d/embeddings?api-version=2024-10-21");
  EXPECT_EQ(azureOpenAiTarget("/gw/openai", "d", "v", Endpoint::Embeddings),
            "/gw/openai/deployments/d/embeddings?api-version=v");
}

TEST(AzureOpenAiConnectorTest, PercentEncodesTheDeploymentAndApiVersion) {
  EXPECT_EQ(
      azureOpenAiTarget("", "my dep/../x?y", "2025-01-01-preview&a=b", Endpoint::ChatCompletions),
      "/openai/deployments/my%20dep%2F..%2Fx%3Fy/chat/completions"
      "?api-version=2025-01-01-preview%26a%3Db");
  EXPECT_EQ(azureOpenAiTarget("", "gpt-4o_mini.v2~1", "2024-10-21", Endpoint::ChatCompletions),
            "/openai/deployments/gpt-4o_mini.v2~1/chat/completions?api-version=2024-10-21");
}

TEST(AzureOpenAiConnectorTest, SendsTheKeyInApiKeyAndNeverAsAuthorization) {
  AzureOpenAiConnector connector;
  auto body = boost::json::parse(R"({"model":"x","messages":[]})").as_object();
  auto with_key =
      connector.buildRequest(Endpoint::ChatCompletions, body, azureBackend(), "az-key", "r1");
  ASSERT_TRUE(with_key);
  EXPECT_EQ(header(*with_key, "api-key"), "az-key");
  EXPECT_EQ(header(*with_key, "authorization"), "<absent>");
  EXPECT_EQ(header(*with_key, "x-request-id"), "r1");
  EXPECT_EQ(header(*with_key, "content-type"), "application/json");
  EXPECT_EQ(header(*with_key, "accept"), "application/json");
  auto without_key =
      connector.buildRequest(Endpoint::ChatCompletions, body, azureBackend(), "", "r1");
  ASSERT_TRUE(without_key);
  EXPECT_EQ(header(*without_key, "api-key"), "<absent>");
  EXPECT_EQ(header(*without_key, "authorization"), "<absent>");
}

TEST(AzureOpenAiConnectorTest, RemovesTheModelAndKeepsEveryOtherField) {
  AzureOpenAiConnector connector;
  const auto original = boost::json::parse(
                            R"({"model":"auto","messages":[{"role":"user","content":"hi"}],
                                "temperature":0.2,"tools":[{"type":"function"}],"user":"u1"})")
                            .as_object();
  auto body = original;
  auto request = connector.buildRequest(Endpoint::ChatCompletions, body, azureBackend(), "", "r");
  ASSERT_TRUE(request);
  auto sent = boost::json::parse(request->body).as_object();
  EXPECT_FALSE(sent.contains("model"));
  EXPECT_EQ(sent["temperature"].as_double(), 0.2);
  EXPECT_EQ(sent["messages"], original.at("messages"));
  EXPECT_EQ(sent["tools"], original.at("tools"));
  EXPECT_EQ(sent["user"], original.at("user"));
}

TEST(AzureOpenAiConnectorTest, StreamsAskForUsageIdempotently) {
  AzureOpenAiConnector connector;
  auto body =
      boost::json::parse(R"({"model":"x","stream":true,"stream_options":{"foo":1},"messages":[]})")
          .as_object();
  auto request = connector.buildRequest(Endpoint::ChatCompletions, body, azureBackend(), "", "r");
  ASSERT_TRUE(request);
  EXPECT_EQ(header(*request, "accept"), "text/event-stream");
  auto sent = boost::json::parse(request->body).as_object();
  EXPECT_EQ(boost::json::serialize(sent["stream_options"]), R"({"foo":1,"include_usage":true})");
  auto again = connector.buildRequest(Endpoint::ChatCompletions, body, azureBackend(), "", "r");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, request->body);  // the same bytes on every failover attempt
  EXPECT_EQ(again->target, request->target);
}

TEST(AzureOpenAiConnectorTest, ABackendWithoutDeploymentOrApiVersionIsAnError) {
  AzureOpenAiConnector connector;
  auto body = boost::json::parse(R"({"messages":[]})").as_object();
  BackendSpec spec = azureBackend();
  spec.deployment.clear();
  auto request = connector.buildRequest(Endpoint::ChatCompletions, body, spec, "", "r");
  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code, ErrorCode::Internal);
  spec = azureBackend();
  spec.api_version.clear();
  EXPECT_FALSE(connector.buildRequest(Endpoint::ChatCompletions, body, spec, "", "r"));
}

TEST(AzureOpenAiTranslatorTest, AContentFilterRefusalBecomesAClearOpenAiError) {
  AzureOpenAiConnector connector;
  auto translator = connector.newTranslator(Endpoint::ChatCompletions, 400, false, {});
  // Delivered in two pieces: nothing is relayed before the whole error body is known.
  std::string first(kContentFilterError.substr(0, 40));
  std::string rest(kContentFilterError.substr(40));
  ASSERT_TRUE(translator->onChunk(first, false));
  EXPECT_EQ(first, "");
  ASSERT_TRUE(translator->onChunk(rest, true));
  const auto rewritten = boost::json::parse(rest).as_object();
  const auto& error = rewritten.at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "content_filter");
  EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(error.at("param").as_string(), "prompt");
  EXPECT_EQ(error.at("message").as_string(),
            "The upstream provider's content filter (Azure OpenAI) refused the prompt (filtered: "
            "hate, violence). The request was not processed; rephrase it, or ask the gateway's "
            "operators about the deployment's content filtering policy.");
  const auto& inner = error.at("innererror").as_object();
  EXPECT_EQ(inner.at("code").as_string(), "ResponsibleAIPolicyViolation");
  EXPECT_EQ(inner.at("content_filter_result").at("hate").at("severity").as_string(), "high");
  EXPECT_EQ(translator->usage().reported, false);
}

TEST(AzureOpenAiTranslatorTest, TheRefusalNeverEchoesAPromptTheUpstreamQuoted) {
  const std::string body =
      R"({"error":{"message":"blocked: my card is 4111 1111 1111 1111","code":"content_filter",)"
      R"("innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{}}}})";
  const std::string rewritten = rewriteAzureError(400, body);
  EXPECT_EQ(rewritten.find("4111"), std::string::npos) << rewritten;
  EXPECT_NE(rewritten.find("refused the prompt. The request"), std::string::npos) << rewritten;
}

TEST(AzureOpenAiTranslatorTest, AzureErrorsGetOpenAisTypeAndAStringCode) {
  EXPECT_EQ(
      rewriteAzureError(401, R"({"error":{"code":"401","message":"Access denied due to invalid )"
                             R"(subscription key or wrong API endpoint."}})"),
      R"({"error":{"code":"401","message":"Access denied due to invalid subscription key or )"
      R"(wrong API endpoint.","type":"authentication_error","param":null}})");
  EXPECT_EQ(rewriteAzureError(404, R"({"error":{"code":"DeploymentNotFound","message":"m"}})"),
            R"({"error":{"code":"DeploymentNotFound","message":"m","type":"invalid_request_error",)"
            R"("param":null}})");
  EXPECT_EQ(rewriteAzureError(400, R"({"error":{"code":400,"message":"Validation error"}})"),
            R"({"error":{"code":"400","message":"Validation error","type":)"
            R"("invalid_request_error","param":null}})");
  EXPECT_EQ(rewriteAzureError(401, R"({"statusCode":401,"message":"Access denied"})"),
            R"({"error":{"message":"Access denied","code":"401","type":)"
            R"("authentication_error","param":null}})");
}

TEST(AzureOpenAiTranslatorTest, A429KeepsItsBodyAndBodiesThatAreNotAzureErrorsPassThrough) {
  const std::string rate_limited =
      R"({"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation )"
      R"(under Azure OpenAI API version 2024-10-21 have exceeded token rate limit. Please retry )"
      R"(after 6 seconds.","type":"requests","param":null}})";
  EXPECT_EQ(rewriteAzureError(429, rate_limited), rate_limited);
  EXPECT_EQ(rewriteAzureError(502, "<html>Bad Gateway</html>"), "<html>Bad Gateway</html>");
  EXPECT_EQ(rewriteAzureError(500, R"({"detail":"x"})"), R"({"detail":"x"})");
  EXPECT_EQ(rewriteAzureError(500, R"({"error":"boom"})"), R"({"error":"boom"})");
}

TEST(AzureOpenAiTranslatorTest, AnswersPassThroughWithTheirFilterResultsAndUsageIsRead) {
  AzureOpenAiConnector connector;
  const std::string body =
      R"({"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},)"
      R"("finish_reason":"content_filter","index":0,"message":{"content":"Hi","role":)"
      R"("assistant"}}],"id":"chatcmpl-1","model":"gpt-4o-2024-08-06","object":)"
      R"("chat.completion","prompt_filter_results":[{"prompt_index":0,)"
      R"("content_filter_results":{}}],"usage":{"completion_tokens":1,"prompt_tokens":9,)"
      R"("total_tokens":10}})";
  auto translator = connector.newTranslator(Endpoint::ChatCompletions, 200, false, {});
  std::string copy = body;
  ASSERT_TRUE(translator->onChunk(copy, true));
  EXPECT_EQ(copy, body);
  EXPECT_TRUE(translator->usage().reported);
  EXPECT_EQ(translator->usage().prompt_tokens, 9u);
  EXPECT_EQ(translator->usage().completion_tokens, 1u);
}

TEST(AzureOpenAiTranslatorTest, StreamsRelayPromptFilterResultsAndDropOnlyTheGatewaysUsage) {
  AzureOpenAiConnector connector;
  auto translator = connector.newTranslator(Endpoint::ChatCompletions, 200, true, {});
  std::string upstream =
      std::string(kAzureStream) + std::string(kAzureUsageEvent) + std::string(kDone);
  std::string relayed;
  // Byte by byte: events are relayed whole, whatever the upstream's chunking.
  for (size_t i = 0; i < upstream.size(); ++i) {
    std::string chunk(1, upstream[i]);
    ASSERT_TRUE(translator->onChunk(chunk, i + 1 == upstream.size()));
    relayed += chunk;
  }
  EXPECT_EQ(relayed, std::string(kAzureStream) + std::string(kDone));
  EXPECT_TRUE(translator->usage().reported);
  EXPECT_EQ(translator->usage().prompt_tokens, 9u);
  EXPECT_EQ(translator->usage().streamed_events, 1u);  // "Hi" (the role chunk carries no output)

  auto for_client =
      connector.newTranslator(Endpoint::ChatCompletions, 200, true, {.client_wants_usage = true});
  std::string whole = upstream;
  ASSERT_TRUE(for_client->onChunk(whole, true));
  EXPECT_EQ(whole, upstream) << "the client asked for usage: everything is relayed";
}

}  // namespace
}  // namespace sy::connectors
