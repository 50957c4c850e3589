// Azure OpenAI's deployment routes on the mock (/openai/deployments/{name}/...?api-version=...)
// over real loopback sockets.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/unit/mock/mock_test_client.h"

namespace sy::mock::testing {
namespace {

namespace json = boost::json;

constexpr std::string_view kChat =
    "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21";
constexpr std::string_view kEmbeddings =
    "/openai/deployments/embed-prod/embeddings?api-version=2024-10-21";

std::unique_ptr<MockServer> startAzure(std::string require_key = {}) {
  MockOptions options;
  options.name = "azure";
  options.require_key = std::move(require_key);
  return startMock(options);
}

TEST(MockAzureTest, AChatCompletionAnswersWithTheDeploymentsModelAndPromptFilterResults) {
  auto server = startAzure();
  ASSERT_NE(server, nullptr);
  // Azure takes no `model` in the body: the deployment names it.
  auto result = post(server->port(), kChat,
                     R"({"messages":[{"role":"user","content":"hi mock:reply_tokens=3"}]})");
  ASSERT_EQ(result.status(), 200u) << result.body();
  const json::object body = result.json().as_object();
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("model"), "azure-model");
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content"), "Hello from azure.");
  const json::value& filter = body.at("prompt_filter_results").at(0);
  EXPECT_EQ(filter.at("prompt_index"), 0);
  EXPECT_EQ(filter.at("content_filter_results").at("hate").at("severity"), "safe");
  EXPECT_EQ(server->requestCount(), 1u);
}

TEST(MockAzureTest, TheBodysModelIsIgnored) {
  auto server = startAzure();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), kChat, chatBody("hi"));
  ASSERT_EQ(result.status(), 200u) << result.body();
  EXPECT_EQ(result.json().at("model"), "azure-model");
}

TEST(MockAzureTest, AStreamStartsWithThePromptFilterResults) {
  auto server = startAzure();
  ASSERT_NE(server, nullptr);
  auto result =
      post(server->port(), kChat,
           chatBody("hi mock:reply_tokens=2", true, R"("stream_options":{"include_usage":true})"));
  ASSERT_EQ(result.status(), 200u) << result.body();
  const auto events = parseSse(result.body());
  ASSERT_GE(events.size(), 4u);
  const json::value first = json::parse(events[0].data);
  EXPECT_TRUE(first.at("choices").as_array().empty());
  EXPECT_EQ(first.at("prompt_filter_results").at(0).at("prompt_index"), 0);
  std::string text;
  for (size_t i = 1; i + 1 < events.size(); ++i) {
    const json::value chunk = json::parse(events[i].data);
    EXPECT_EQ(chunk.at("model"), "azure-model");
    const json::array& choices = chunk.at("choices").as_array();
    if (!choices.empty() && choices[0].at("delta").as_object().contains("content")) {
      text += choices[0].at("delta").at("content").as_string();
    }
  }
  EXPECT_EQ(text, "Hello from");
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(json::parse(events[events.size() - 2].data).at("usage").at("completion_tokens"), 2);
}

TEST(MockAzureTest, EmbeddingsAnswerWithTheDeploymentsModel) {
  auto server = startAzure();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), kEmbeddings, R"({"input":"hello"})");
  ASSERT_EQ(result.status(), 200u) << result.body();
  EXPECT_EQ(result.json().at("model"), "azure-model");
  EXPECT_EQ(result.json().at("data").at(0).at("embedding").as_array().size(), 16u);
  EXPECT_FALSE(result.json().as_object().contains("prompt_filter_results"));
}

TEST(MockAzureTest, WithoutApiVersionItIsA400InAzuresShape) {
  auto server = startAzure();
  ASSERT_NE(server, nullptr);
  for (std::string_view target :
       {"/openai/deployments/d/chat/completions", "/openai/deployments/d/embeddings?api-version=",
        "/openai/deployments/d/chat/completions?apiversion=2024-10-21"}) {
    auto result = post(server->port(), target, chatBody("hi"));
    EXPECT_EQ(result.status(), 400u) << target;
    EXPECT_EQ(result.json(), json::parse(R"({"error":{"code":"MissingApiVersionParameter",
        "message":"The api-version query parameter (?api-version=) is required for all requests."}})"))
        << target;
  }
}

TEST(MockAzureTest, RequireKeyWantsTheApiKeyHeaderNotBearer) {
  auto server = startAzure("az-secret");
  ASSERT_NE(server, nullptr);
  const std::string body = chatBody("hi");
  auto bearer = post(server->port(), kChat, body, {{"authorization", "Bearer az-secret"}});
  EXPECT_EQ(bearer.status(), 401u);
  EXPECT_EQ(bearer.json().at("error").at("code"), "401");
  EXPECT_TRUE(std::string_view(bearer.json().at("error").at("message").as_string())
                  .starts_with("Access denied due to invalid subscription key"));
  EXPECT_EQ(post(server->port(), kChat, body, {{"api-key", "wrong"}}).status(), 401u);
  EXPECT_EQ(post(server->port(), kChat, body, {{"api-key", "az-secret"}}).status(), 200u);
  EXPECT_EQ(
      post(server->port(), kEmbeddings, R"({"input":"a"})", {{"api-key", "az-secret"}}).status(),
      200u);
}

TEST(MockAzureTest, ADirectiveInThePromptGetsAContentFilterRefusal) {
  auto server = startAzure();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), kChat, chatBody("something mock:content_filter"));
  ASSERT_EQ(result.status(), 400u);
  const json::value body = result.json();
  const json::value& error = body.at("error");
  EXPECT_EQ(error.at("code"), "content_filter");
  EXPECT_EQ(error.at("param"), "prompt");
  EXPECT_EQ(error.at("innererror").at("code"), "ResponsibleAIPolicyViolation");
  EXPECT_EQ(error.at("innererror").at("content_filter_result").at("hate").at("filtered"), true);
  EXPECT_EQ(result.body().find("something"), std::string::npos) << "the prompt is not echoed";
}

TEST(MockAzureTest, UnknownPathsAndMethodsAreAnswered) {
  auto server = startAzure();
  ASSERT_NE(server, nullptr);
  auto unknown = post(server->port(), "/openai/deployments/d/completions?api-version=2024-10-21",
                      chatBody("hi"));
  EXPECT_EQ(unknown.status(), 404u);
  EXPECT_EQ(unknown.json(),
            json::parse(R"({"error":{"code":"404","message":"Resource not found"}})"));
  EXPECT_EQ(post(server->port(), "/openai/deployments/?api-version=1", chatBody("hi")).status(),
            404u);
  auto wrong_method = get(server->port(), kChat);
  EXPECT_EQ(wrong_method.status(), 405u);
  EXPECT_EQ(wrong_method.header("allow"), "POST");
}

TEST(MockAzureTest, AnInjected429IsInAzuresWordsAndStaysRetryable) {
  auto server = startAzure();
  ASSERT_NE(server, nullptr);
  server->setControls({.error_status = 429});
  auto result = post(server->port(), kChat, chatBody("hi"));
  ASSERT_EQ(result.status(), 429u);
  EXPECT_EQ(result.header("retry-after"), "1");
  EXPECT_EQ(result.header("retry-after-ms"), "1000");
  EXPECT_EQ(result.json().at("error").at("code"), "429");
  EXPECT_TRUE(std::string_view(result.json().at("error").at("message").as_string())
                  .starts_with("Requests to the ChatCompletions_Create Operation under Azure "
                               "OpenAI API version 2024-10-21 have exceeded call rate limit"));
}

}  // namespace
}  // namespace sy::mock::testing
