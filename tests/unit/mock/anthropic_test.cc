// POST /v1/messages (Anthropic Messages API) over real loopback sockets.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/unit/mock/mock_test_client.h"

namespace sy::mock::testing {
namespace {

namespace json = boost::json;

const Headers kAnthropicHeaders = {{"x-api-key", "sk-ant"}, {"anthropic-version", "2023-06-01"}};

TEST(MockAnthropicTest, NonStreamReplyHasTheMessagesApiShape) {
  MockOptions options;
  options.name = "claude-mock";
  auto server = startMock(options);
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/messages", messagesBody("hi mock:reply_tokens=4"),
                     kAnthropicHeaders);
  ASSERT_EQ(result.status(), 200u);
  EXPECT_FALSE(result.header("request-id").empty());
  const json::object body = result.json().as_object();
  EXPECT_TRUE(body.at("id").as_string().starts_with("msg_"));
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(body.at("role"), "assistant");
  EXPECT_EQ(body.at("model"), "claude-test");
  EXPECT_EQ(body.at("content"),
            json::parse(R"([{"type":"text","text":"Hello from claude-mock. lorem"}])"));
  EXPECT_EQ(body.at("stop_reason"), "end_turn");
  EXPECT_TRUE(body.at("stop_sequence").is_null());
  // One message of 22 bytes: ceil(22 / 4) + 3 = 9.
  EXPECT_EQ(body.at("usage"), json::parse(R"({"input_tokens":9,"cache_creation_input_tokens":0,
                                         "cache_read_input_tokens":0,"output_tokens":4})"));
}

TEST(MockAnthropicTest, MaxTokensBelowReplyTokensStopsWithMaxTokens) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/messages", messagesBody("hi", false, 2));
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.json().at("stop_reason"), "max_tokens");
  EXPECT_EQ(result.json().at("usage").at("output_tokens"), 2);
}

TEST(MockAnthropicTest, StreamSendsTheDocumentedEventsInOrder) {
  MockOptions options;
  options.name = "a";
  auto server = startMock(options);
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/messages", messagesBody("hi mock:reply_tokens=3", true),
                     kAnthropicHeaders);
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.header("content-type"), "text/event-stream; charset=utf-8");
  const auto events = parseSse(result.body());
  const std::vector<std::string> expected_names = {
      "message_start",       "content_block_start", "ping",
      "content_block_delta", "content_block_delta", "content_block_delta",
      "content_block_stop",  "message_delta",       "message_stop"};
  ASSERT_EQ(events.size(), expected_names.size());
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].event, expected_names[i]);
    const json::value data = json::parse(events[i].data);
    EXPECT_EQ(std::string_view(data.at("type").as_string()), events[i].event)
        << "the data type matches the event name";
    if (events[i].event == "content_block_delta") {
      EXPECT_EQ(data.at("index"), 0);
      EXPECT_EQ(data.at("delta").at("type"), "text_delta");
      text += data.at("delta").at("text").as_string();
    }
  }
  EXPECT_EQ(text, "Hello from a.");
  const json::value start = json::parse(events[0].data);
  const json::object& message = start.at("message").as_object();
  EXPECT_EQ(message.at("type"), "message");
  EXPECT_EQ(message.at("role"), "assistant");
  EXPECT_TRUE(message.at("content").as_array().empty());
  EXPECT_TRUE(message.at("stop_reason").is_null());
  EXPECT_EQ(message.at("usage").at("output_tokens"), 1);
  EXPECT_GT(message.at("usage").at("input_tokens").as_int64(), 0);
  EXPECT_EQ(json::parse(events[1].data).at("content_block"),
            json::parse(R"({"type":"text","text":""})"));
  EXPECT_EQ(json::parse(events[6].data), json::parse(R"({"type":"content_block_stop","index":0})"));
  EXPECT_EQ(json::parse(events[7].data),
            json::parse(R"({"type":"message_delta","delta":{"stop_reason":"end_turn",
                "stop_sequence":null},"usage":{"output_tokens":3}})"));
}

TEST(MockAnthropicTest, MissingRequiredFieldsGet400InAnthropicErrorFormat) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto no_max_tokens = post(server->port(), "/v1/messages",
                            R"({"model":"c","messages":[{"role":"user","content":"x"}]})");
  ASSERT_EQ(no_max_tokens.status(), 400u);
  EXPECT_EQ(no_max_tokens.json(), json::parse(R"({"type":"error","error":{
      "type":"invalid_request_error","message":"max_tokens: Field required"}})"));
  auto no_model = post(server->port(), "/v1/messages",
                       R"({"max_tokens":5,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(no_model.json().at("error").at("message"), "model: Field required");
  auto no_messages = post(server->port(), "/v1/messages", R"({"model":"c","max_tokens":5})");
  EXPECT_EQ(no_messages.json().at("error").at("message"), "messages: Field required");
  auto malformed = post(server->port(), "/v1/messages", "{nope");
  EXPECT_EQ(malformed.status(), 400u);
  EXPECT_EQ(malformed.json().at("type"), "error");
}

TEST(MockAnthropicTest, ErrorStatusAnswersWithTheAnthropicErrorTypeForEachStatus) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::pair<int, std::string_view> cases[] = {{529, "overloaded_error"},
                                                    {500, "api_error"},
                                                    {429, "rate_limit_error"},
                                                    {400, "invalid_request_error"}};
  for (const auto& [status, type] : cases) {
    auto result = post(server->port(), "/v1/messages",
                       messagesBody("x mock:error_status=" + std::to_string(status)));
    ASSERT_EQ(result.status(), static_cast<unsigned>(status));
    EXPECT_EQ(result.json().at("type"), "error");
    EXPECT_EQ(std::string_view(result.json().at("error").at("type").as_string()), type) << status;
    EXPECT_EQ(result.header("retry-after"), status == 429 ? "1" : "") << status;
  }
}

TEST(MockAnthropicTest, RequireKeyNeedsXApiKeyOrBearerAndAnthropicVersion) {
  MockOptions options;
  options.require_key = "sk-ant";
  auto server = startMock(options);
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  auto missing = post(port, "/v1/messages", messagesBody("x"));
  ASSERT_EQ(missing.status(), 401u);
  EXPECT_EQ(missing.json().at("error").at("type"), "authentication_error");
  auto wrong = post(port, "/v1/messages", messagesBody("x"),
                    {{"x-api-key", "nope"}, {"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(wrong.status(), 401u);
  EXPECT_EQ(wrong.json().at("error").at("message"), "invalid x-api-key");
  auto bearer = post(port, "/v1/messages", messagesBody("x"),
                     {{"authorization", "Bearer sk-ant"}, {"anthropic-version", "2026-10-21"}});
  EXPECT_EQ(bearer.status(), 200u) << "@anthropic-ai/sdk 1.x sends the API key as a bearer token";
  auto wrong_bearer = post(port, "/v1/messages", messagesBody("x"),
                           {{"authorization", "Bearer nope"}, {"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(wrong_bearer.status(), 401u);
  auto no_version = post(port, "/v1/messages", messagesBody("x"), {{"x-api-key", "sk-ant"}});
  EXPECT_EQ(no_version.status(), 400u);
  EXPECT_EQ(no_version.json().at("error").at("message"), "anthropic-version: header is required");
  EXPECT_EQ(post(port, "/v1/messages", messagesBody("x"), kAnthropicHeaders).status(), 200u);
}

}  // namespace
}  // namespace sy::mock::testing
