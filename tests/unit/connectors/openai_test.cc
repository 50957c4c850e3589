#include "connectors/openai.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sy::connectors {
namespace {

BackendSpec backendOfKind(BackendKind kind) {
  BackendSpec spec;
  spec.kind = kind;
  return spec;
}

BackendSpec vllmBackend(std::string base_path = "") {
  BackendSpec spec;
  spec.name = "llama-local";
  spec.model = "meta-llama/Llama-3.1-8B-Instruct";
  spec.address = {false, "vllm", 8000, std::move(base_path)};
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

TEST(OpenAiConnectorTest, RewritesTheModelAndKeepsEveryOtherField) {
  OpenAiConnector connector;
  const auto original = boost::json::parse(R"({"model":"auto","messages":[{"role":"user",
                                    "content":"hi"}],"temperature":0.2,"tools":[{"type":"function"}]})")
                            .as_object();
  auto body = original;
  auto request = connector.buildRequest(Endpoint::ChatCompletions, body, vllmBackend(), "", "r1");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->target, "/v1/chat/completions");
  auto sent = boost::json::parse(request->body).as_object();
  EXPECT_EQ(sent["model"].as_string(), "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(sent["temperature"].as_double(), 0.2);
  EXPECT_EQ(sent["messages"], original.at("messages"));
  EXPECT_EQ(sent["tools"], original.at("tools"));
}

TEST(OpenAiConnectorTest, SendsTheBackendKeyAndNeverAnythingElse) {
  OpenAiConnector connector;
  auto body = boost::json::parse(R"({"model":"x","input":"a"})").as_object();
  auto with_key = connector.buildRequest(Endpoint::Embeddings, body, vllmBackend(), "sk-up", "r1");
  ASSERT_TRUE(with_key);
  EXPECT_EQ(header(*with_key, "authorization"), "Bearer sk-up");
  EXPECT_EQ(header(*with_key, "x-request-id"), "r1");
  EXPECT_EQ(with_key->target, "/v1/embeddings");
  auto without_key = connector.buildRequest(Endpoint::Embeddings, body, vllmBackend(), "", "r1");
  EXPECT_EQ(header(*without_key, "authorization"), "<absent>");
}

TEST(OpenAiConnectorTest, AsksForAnEventStreamWhenTheClientStreams) {
  OpenAiConnector connector;
  auto body = boost::json::parse(R"({"model":"x","stream":true,"messages":[]})").as_object();
  auto request = connector.buildRequest(Endpoint::ChatCompletions, body, vllmBackend(), "", "r");
  EXPECT_EQ(header(*request, "accept"), "text/event-stream");
}

TEST(OpenAiConnectorTest, StreamsAskForUsageKeepingOtherStreamOptions) {
  OpenAiConnector connector;
  auto body =
      boost::json::parse(R"({"model":"x","stream":true,"stream_options":{"foo":1},"messages":[]})")
          .as_object();
  auto request = connector.buildRequest(Endpoint::ChatCompletions, body, vllmBackend(), "", "r");
  ASSERT_TRUE(request);
  auto sent = boost::json::parse(request->body).as_object();
  EXPECT_EQ(boost::json::serialize(sent["stream_options"]), R"({"foo":1,"include_usage":true})");
  auto again = connector.buildRequest(Endpoint::ChatCompletions, body, vllmBackend(), "", "r");
  EXPECT_EQ(again->body, request->body);  // idempotent across failover attempts
  auto plain = boost::json::parse(R"({"model":"x","messages":[]})").as_object();
  auto unstreamed =
      connector.buildRequest(Endpoint::ChatCompletions, plain, vllmBackend(), "", "r");
  EXPECT_FALSE(boost::json::parse(unstreamed->body).as_object().contains("stream_options"));
}

TEST(OpenAiTranslatorTest, TheUsageEventOnlyTheGatewayAskedForIsReadButNotRelayed) {
  OpenAiConnector connector;
  auto translator = connector.newTranslator(Endpoint::ChatCompletions, 200, true, {});
  const std::string content =
      "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\" there\"}}],\"usage\":null}\n\n";
  const std::string usage =
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n";
  std::string chunk = content + usage + "data: [DONE]\n\n";
  ASSERT_TRUE(translator->onChunk(chunk, true));
  EXPECT_EQ(chunk, content + "data: [DONE]\n\n");
  EXPECT_TRUE(translator->usage().reported);
  EXPECT_EQ(translator->usage().completion_tokens, 2u);
  EXPECT_EQ(translator->usage().streamed_events, 2u);
}

TEST(OpenAiTranslatorTest, WithoutReportedUsageTheEventsCarryingOutputAreCounted) {
  OpenAiConnector connector;
  auto translator = connector.newTranslator(Endpoint::ChatCompletions, 200, true, {});
  std::string chunk =
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
      "{\"arguments\":\"{}\"}}]}}]}\n\n";
  ASSERT_TRUE(translator->onChunk(chunk, false));
  EXPECT_FALSE(translator->usage().reported);
  EXPECT_EQ(translator->usage().streamed_events, 2u);  // the role chunk's "" is not output
}

TEST(OpenAiConnectorTest, TargetsRespectABasePathWithOrWithoutV1) {
  EXPECT_EQ(openAiTarget("", Endpoint::ChatCompletions), "/v1/chat/completions");
  EXPECT_EQ(openAiTarget("/v1", Endpoint::ChatCompletions), "/v1/chat/completions");
  EXPECT_EQ(openAiTarget("/proxy", Endpoint::Embeddings), "/proxy/v1/embeddings");
  EXPECT_EQ(openAiTarget("/api/v1", Endpoint::Embeddings), "/api/v1/embeddings");
}

TEST(OpenAiUsageTest, ReadsUsageFromACompleteResponse) {
  auto usage = extractOpenAiUsage(
      R"({"id":"x","choices":[{"message":{"content":"\"usage\": no"}}],)"
      R"("usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}})");
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 12u);
  EXPECT_EQ(usage.completion_tokens, 34u);
}

TEST(OpenAiUsageTest, ReadsCachedPromptTokensFromThePromptDetails) {
  auto usage = extractOpenAiUsage(
      R"({"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,)"
      R"("prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0}}})");
  EXPECT_EQ(usage.prompt_tokens, 2006u);
  EXPECT_EQ(usage.cached_prompt_tokens, 1920u);
  EXPECT_EQ(extractOpenAiUsage(R"({"usage":{"prompt_tokens":1}})").cached_prompt_tokens, 0u);
}

TEST(OpenAiUsageTest, NullMissingOrTruncatedUsageIsNotReported) {
  EXPECT_FALSE(extractOpenAiUsage(R"({"usage":null})").reported);
  EXPECT_FALSE(extractOpenAiUsage(R"({"choices":[]})").reported);
  EXPECT_FALSE(extractOpenAiUsage(R"({"usage":{"prompt_tokens":1)").reported);
}

TEST(OpenAiTranslatorTest, StreamPassesBytesThroughAndFindsTheFinalUsageChunk) {
  OpenAiConnector connector;
  auto translator =
      connector.newTranslator(Endpoint::ChatCompletions, 200, true, {.client_wants_usage = true});
  const std::string stream =
      "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n"
      "data: [DONE]\n\n";
  std::string relayed;
  for (size_t i = 0; i < stream.size(); i += 7) {  // arbitrary chunking
    std::string chunk = stream.substr(i, 7);
    ASSERT_TRUE(translator->onChunk(chunk, i + 7 >= stream.size()));
    relayed += chunk;
  }
  EXPECT_EQ(relayed, stream);
  EXPECT_TRUE(translator->usage().reported);
  EXPECT_EQ(translator->usage().prompt_tokens, 5u);
  EXPECT_EQ(translator->usage().completion_tokens, 2u);
}

TEST(OpenAiTranslatorTest, StreamRelaysOnlyWholeEventsSoABrokenStreamLeavesNoHalfEvent) {
  OpenAiConnector connector;
  auto translator =
      connector.newTranslator(Endpoint::ChatCompletions, 200, true, {.client_wants_usage = true});
  std::string chunk = "data: {\"a\":1}\n\ndata: {\"b\"";
  ASSERT_TRUE(translator->onChunk(chunk, false));
  EXPECT_EQ(chunk, "data: {\"a\":1}\n\n");
  chunk = ":2}\r\n\r\ndata: [DO";
  ASSERT_TRUE(translator->onChunk(chunk, false));
  EXPECT_EQ(chunk, "data: {\"b\":2}\r\n\r\n");
  chunk = "NE]\n\n";
  ASSERT_TRUE(translator->onChunk(chunk, true));
  EXPECT_EQ(chunk, "data: [DONE]\n\n");
}

TEST(OpenAiTranslatorTest, BodyUsageIsReadAtTheEndEvenForLargeBodies) {
  OpenAiConnector connector;
  auto translator = connector.newTranslator(Endpoint::ChatCompletions, 200, false, {});
  std::string body = R"({"choices":[{"message":{"content":")" + std::string(100000, 'x') +
                     R"("}}],"usage":{"prompt_tokens":7,"completion_tokens":9}})";
  std::string copy = body;
  ASSERT_TRUE(translator->onChunk(copy, true));
  EXPECT_EQ(copy, body);
  EXPECT_EQ(translator->usage().completion_tokens, 9u);
}

TEST(MakeConnectorTest, EveryBackendKindHasAConnector) {
  for (BackendKind kind : {BackendKind::OpenAi, BackendKind::Ollama, BackendKind::Anthropic,
                           BackendKind::AzureOpenAi}) {
    EXPECT_TRUE(hasConnector(kind));
    EXPECT_TRUE(makeConnector(backendOfKind(kind)));
  }
  EXPECT_EQ((*makeConnector(backendOfKind(BackendKind::Anthropic)))->provider(), "anthropic");
  EXPECT_EQ((*makeConnector(backendOfKind(BackendKind::AzureOpenAi)))->provider(),
            "azure-openai");
}

}  // namespace
}  // namespace sy::connectors
