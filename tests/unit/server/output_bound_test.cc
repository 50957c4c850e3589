#include "gateway/server/pipeline/output_bound.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace sy::server {
namespace {

std::string contentEvent(int i) {
  return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\","
         "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t" +
         std::to_string(i) + "\"},\"finish_reason\":null}]}\n\n";
}

const std::string kRoleEvent =
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";

TEST(OutputBoundTest, CountsOnlyEventsThatCarryOutput) {
  EXPECT_FALSE(isOutputEvent(kRoleEvent));
  EXPECT_TRUE(isOutputEvent(contentEvent(1)));
  EXPECT_TRUE(isOutputEvent(R"(data: {"choices":[{"delta":{"reasoning_content":"hm"}}]})"));
  EXPECT_TRUE(isOutputEvent(
      R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]}}]})"));
  EXPECT_FALSE(isOutputEvent(R"(data: {"choices":[{"delta":{},"finish_reason":"stop"}]})"));
  // Text that merely mentions the key is escaped in JSON and does not count twice.
  EXPECT_TRUE(isOutputEvent(R"(data: {"choices":[{"delta":{"content":"say \"content\":\"x"}}]})"));
}

TEST(OutputBoundTest, RelaysUpToTheCapThenEndsWithALengthFinishAndDone) {
  OutputBound bound(3);
  std::string first = kRoleEvent + contentEvent(1) + contentEvent(2);
  const std::string kept = first;
  EXPECT_FALSE(bound.clip(first));
  EXPECT_EQ(first, kept);
  std::string second = contentEvent(3) + contentEvent(4) + contentEvent(5);
  EXPECT_TRUE(bound.clip(second));
  EXPECT_EQ(bound.relayed(), 3u);
  ASSERT_TRUE(second.starts_with(contentEvent(3)));
  const std::string tail = second.substr(contentEvent(3).size());
  ASSERT_TRUE(tail.ends_with("\n\ndata: [DONE]\n\n")) << tail;
  const auto finish = boost::json::parse(tail.substr(6, tail.find('\n') - 6)).as_object();
  EXPECT_EQ(finish.at("id"), "c1");
  EXPECT_EQ(finish.at("model"), "m");
  EXPECT_EQ(finish.at("created"), 7);
  const auto& choice = finish.at("choices").as_array()[0].as_object();
  EXPECT_EQ(choice.at("finish_reason"), "length");
  EXPECT_TRUE(choice.at("delta").as_object().empty());
}

TEST(OutputBoundTest, ACutStreamCarriesAUsageChunkWhenTheClientAskedForUsage) {
  OutputBound bound(1, /*usage_prompt_tokens=*/40);
  std::string chunk = contentEvent(1) + contentEvent(2);
  EXPECT_TRUE(bound.clip(chunk));
  const std::string tail = chunk.substr(contentEvent(1).size());
  ASSERT_TRUE(tail.ends_with("\n\ndata: [DONE]\n\n")) << tail;
  const size_t second = tail.find("data: ", 1);
  ASSERT_NE(second, std::string::npos);
  const auto usage_chunk =
      boost::json::parse(tail.substr(second + 6, tail.find('\n', second) - second - 6)).as_object();
  EXPECT_TRUE(usage_chunk.at("choices").as_array().empty());
  EXPECT_EQ(usage_chunk.at("id"), "c1");
  const auto& usage = usage_chunk.at("usage").as_object();
  EXPECT_EQ(usage.at("prompt_tokens"), 40);
  EXPECT_EQ(usage.at("completion_tokens"), 1);
  EXPECT_EQ(usage.at("total_tokens"), 41);
}

TEST(OutputBoundTest, AStreamThatEndsAtTheCapIsNotCut) {
  OutputBound bound(2);
  std::string chunk =
      contentEvent(1) + contentEvent(2) +
      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}"
      "\n\ndata: [DONE]\n\n";
  const std::string kept = chunk;
  EXPECT_FALSE(bound.clip(chunk));
  EXPECT_EQ(chunk, kept);
}

TEST(OutputBoundTest, HandlesCrLfEventBoundaries) {
  OutputBound bound(1);
  std::string chunk =
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\r\n\r\n";
  EXPECT_TRUE(bound.clip(chunk));
  EXPECT_TRUE(chunk.starts_with("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\n"));
  EXPECT_EQ(chunk.find("\"b\""), std::string::npos);
}

TEST(ApplyOutputCapTest, LowersWhatTheClientSentAndAddsTheBackendsFieldOtherwise) {
  BackendSpec vllm;
  vllm.kind = BackendKind::OpenAi;
  BackendSpec openai = vllm;
  openai.location = Location::External;
  BackendSpec azure;
  azure.kind = BackendKind::AzureOpenAi;
  std::string_view added;

  auto body = boost::json::parse(R"({"max_completion_tokens":900})").as_object();
  applyOutputCap(body, 256, vllm, added);
  EXPECT_EQ(body.at("max_completion_tokens"), 256);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_TRUE(added.empty());

  body = boost::json::parse(R"({"max_tokens":100})").as_object();
  applyOutputCap(body, 256, vllm, added);
  EXPECT_EQ(body.at("max_tokens"), 100);  // under the cap: kept

  body = boost::json::parse(R"({"model":"x"})").as_object();
  applyOutputCap(body, 256, openai, added);
  EXPECT_EQ(body.at("max_completion_tokens"), 256);
  EXPECT_EQ(added, "max_completion_tokens");
  // A retry on a self-hosted server: the field the gateway added for OpenAI is replaced.
  applyOutputCap(body, 256, vllm, added);
  EXPECT_FALSE(body.contains("max_completion_tokens"));
  EXPECT_EQ(body.at("max_tokens"), 256);
  EXPECT_EQ(added, "max_tokens");
  applyOutputCap(body, 256, azure, added);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_EQ(body.at("max_completion_tokens"), 256);
}

}  // namespace
}  // namespace sy::server
