// The mock's POST /v1/responses over real loopback sockets: the response object, its event
// stream, function calls, truncation, the shared controls and recording, errors.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/unit/mock/mock_test_client.h"

namespace sy::mock::testing {
namespace {

namespace json = boost::json;

std::string responsesBody(std::string_view input, bool stream = false,
                          std::string_view extra = {}) {
  std::string body = R"({"model":"gpt-test","instructions":"be brief","input":[{"type":"message",)"
                     R"("role":"user","content":[{"type":"input_text","text":")";
  body += input;
  body += R"("}]}],"stream":)";
  body += stream ? "true" : "false";
  if (!extra.empty()) {
    body += ',';
    body += extra;
  }
  return body + "}";
}

constexpr std::string_view kTools =
    R"("tools":[{"type":"function","name":"get_weather","parameters":{"type":"object",)"
    R"("properties":{"city":{"type":"string"}},"required":["city"]}}])";

MockOptions named(std::string name) {
  MockOptions options;
  options.name = std::move(name);
  return options;
}

TEST(MockResponsesTest, NonStreamReplyIsAResponseObjectWithUsage) {
  auto server = startMock(named("srv"));
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/responses",
                     responsesBody("hello there mock:reply_tokens=5 mock:cached_tokens=2"));
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.header("content-type"), "application/json");
  EXPECT_FALSE(result.header("x-request-id").empty());
  const json::object body = result.json().as_object();
  EXPECT_TRUE(body.at("id").as_string().starts_with("resp_"));
  EXPECT_EQ(body.at("object"), "response");
  EXPECT_EQ(body.at("status"), "completed");
  EXPECT_EQ(body.at("model"), "gpt-test");
  EXPECT_EQ(body.at("instructions"), "be brief");
  EXPECT_TRUE(body.at("incomplete_details").is_null());
  const json::array& output = body.at("output").as_array();
  ASSERT_EQ(output.size(), 1u);
  EXPECT_EQ(output[0].at("type"), "message");
  EXPECT_EQ(output[0].at("role"), "assistant");
  EXPECT_EQ(output[0].at("status"), "completed");
  EXPECT_EQ(output[0].at("content").at(0).at("type"), "output_text");
  EXPECT_EQ(output[0].at("content").at(0).at("text"), "Hello from srv. lorem ipsum");
  // "be brief" (8) + the input text (51 bytes) -> ceil(59/4) + 2 * 3 = 21.
  EXPECT_EQ(json::serialize(body.at("usage")),
            R"({"input_tokens":21,"input_tokens_details":{"cached_tokens":2},"output_tokens":5,)"
            R"("output_tokens_details":{"reasoning_tokens":0},"total_tokens":26})");
}

TEST(MockResponsesTest, MaxOutputTokensBelowTheReplyMakesItIncomplete) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result =
      post(server->port(), "/v1/responses", responsesBody("hi", false, R"("max_output_tokens":3)"));
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.json().at("status"), "incomplete");
  EXPECT_EQ(result.json().at("incomplete_details").at("reason"), "max_output_tokens");
  EXPECT_EQ(result.json().at("usage").at("output_tokens"), 3);
}

// The event types in order, and each event's data (its `type` matching the event name).
std::vector<std::pair<std::string, json::value>> events(const HttpResult& result) {
  std::vector<std::pair<std::string, json::value>> out;
  int64_t sequence = 0;
  for (const SseEvent& event : parseSse(result.body())) {
    json::value data = json::parse(event.data);
    EXPECT_EQ(data.at("type").as_string(), event.event);
    EXPECT_EQ(data.at("sequence_number"), sequence++);
    out.emplace_back(event.event, std::move(data));
  }
  return out;
}

TEST(MockResponsesTest, StreamSendsTheResponseEventsInOrderWithSequenceNumbers) {
  auto server = startMock(named("srv"));
  ASSERT_NE(server, nullptr);
  auto result =
      post(server->port(), "/v1/responses", responsesBody("hi mock:reply_tokens=3", true));
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.header("content-type"), "text/event-stream; charset=utf-8");
  const auto list = events(result);
  std::vector<std::string> types;
  for (const auto& [type, data] : list) {
    types.push_back(type);
  }
  EXPECT_EQ(types, (std::vector<std::string>{
                       "response.created", "response.in_progress", "response.output_item.added",
                       "response.content_part.added", "response.output_text.delta",
                       "response.output_text.delta", "response.output_text.delta",
                       "response.output_text.done", "response.content_part.done",
                       "response.output_item.done", "response.completed"}));
  EXPECT_EQ(list[0].second.at("response").at("status"), "in_progress");
  EXPECT_TRUE(list[0].second.at("response").at("usage").is_null());
  EXPECT_EQ(list[4].second.at("delta"), "Hello");
  EXPECT_EQ(list[6].second.at("delta"), " srv.");
  EXPECT_EQ(list[7].second.at("text"), "Hello from srv.");
  const json::value done = list.back().second.at("response");
  EXPECT_EQ(done.at("status"), "completed");
  EXPECT_EQ(done.at("output").at(0).at("content").at(0).at("text"), "Hello from srv.");
  EXPECT_EQ(done.at("usage").at("output_tokens"), 3);
  EXPECT_EQ(done.at("id"), list[0].second.at("response").at("id")) << "one id for the stream";
}

TEST(MockResponsesTest, ToolCallsAreFunctionCallItemsStreamedAsArgumentDeltas) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto whole = post(server->port(), "/v1/responses",
                    responsesBody("weather? mock:tool_calls=1", false, kTools));
  ASSERT_EQ(whole.status(), 200u);
  const json::value body = whole.json();
  const json::value& item = body.at("output").at(0);
  EXPECT_EQ(item.at("type"), "function_call");
  EXPECT_EQ(item.at("call_id"), "call_mock_1");
  EXPECT_EQ(item.at("name"), "get_weather");
  EXPECT_EQ(item.at("arguments"), R"({"city":"mock"})");

  auto streamed = post(server->port(), "/v1/responses",
                       responsesBody("weather? mock:tool_calls=1", true, kTools));
  std::string arguments;
  std::vector<std::string> types;
  for (const auto& [type, data] : events(streamed)) {
    types.push_back(type);
    if (type == "response.function_call_arguments.delta") {
      arguments += data.at("delta").as_string();
      EXPECT_EQ(data.at("output_index"), 0);
    }
    if (type == "response.output_item.added") {
      EXPECT_EQ(data.at("item").at("arguments"), "");
    }
  }
  EXPECT_EQ(arguments, R"({"city":"mock"})");
  EXPECT_EQ(types.back(), "response.completed");
  EXPECT_EQ(types[2], "response.output_item.added");

  // The follow-up turn carries the function's output: the answer is text again.
  auto follow = post(server->port(), "/v1/responses",
                     R"({"model":"m","input":[{"type":"message","role":"user","content":)"
                     R"("weather? mock:tool_calls=1"},{"type":"function_call","call_id":)"
                     R"("call_mock_1","name":"get_weather","arguments":"{}"},)"
                     R"({"type":"function_call_output","call_id":"call_mock_1","output":"22C"}],)" +
                         std::string(kTools) + "}");
  EXPECT_EQ(follow.json().at("output").at(0).at("type"), "message");
}

TEST(MockResponsesTest, SharesTheControlsAndRecordingOfTheOtherEndpoints) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::string body = responsesBody("x mock:error_status=429");
  auto limited = post(server->port(), "/v1/responses", body);
  EXPECT_EQ(limited.status(), 429u);
  EXPECT_EQ(limited.json().at("error").at("type"), "requests") << "OpenAI's type for a 429";
  EXPECT_EQ(get(server->port(), "/mock/last-request").body(), body);

  auto cut = post(server->port(), "/v1/responses",
                  responsesBody("x mock:disconnect_after=2 mock:reply_tokens=9", true));
  size_t deltas = 0;
  for (const SseEvent& event : parseSse(cut.body())) {
    deltas += event.event == "response.output_text.delta" ? 1 : 0;
    EXPECT_NE(event.event, "response.completed");
  }
  EXPECT_EQ(deltas, 2u);

  auto echo = post(server->port(), "/v1/responses",
                   R"({"model":"m","input":"abcdef mock:echo_chunk_bytes=4"})");
  EXPECT_EQ(echo.json().at("output").at(0).at("content").at(0).at("text"),
            "abcdef mock:echo_chunk_bytes=4");
}

TEST(MockResponsesTest, MalformedRequestsGet400NamingTheParameter) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto no_model = post(server->port(), "/v1/responses", R"({"input":"hi"})");
  EXPECT_EQ(no_model.status(), 400u);
  EXPECT_EQ(no_model.json().at("error").at("param"), "model");
  auto bad_input = post(server->port(), "/v1/responses", R"({"model":"m","input":3})");
  EXPECT_EQ(bad_input.status(), 400u);
  EXPECT_EQ(bad_input.json().at("error").at("param"), "input");
  auto bad_stream = post(server->port(), "/v1/responses", R"({"model":"m","input":"x","stream":1})");
  EXPECT_EQ(bad_stream.json().at("error").at("param"), "stream");
  auto not_json = post(server->port(), "/v1/responses", "{");
  EXPECT_EQ(not_json.status(), 400u);
  EXPECT_EQ(get(server->port(), "/v1/responses").status(), 405u);
}

}  // namespace
}  // namespace sy::mock::testing
