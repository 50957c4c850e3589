// Tool-call replies (the tool_calls control) in both APIs, the Anthropic request shapes real
// clients send, count_tokens, HEAD /, cached_tokens and the /mock/requests log.
#include "examples/mock_llm/tool_calls.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "examples/mock_llm/handlers.h"
#include "tests/unit/mock/mock_test_client.h"

namespace sy::mock::testing {
namespace {

namespace json = boost::json;

const Headers kAnthropicHeaders = {{"x-api-key", "sk-ant"}, {"anthropic-version", "2023-06-01"}};

constexpr std::string_view kOpenAiTools = R"([
  {"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
    "properties":{"city":{"type":"string"},"days":{"type":"integer"},"metric":{"type":"boolean"},
                  "tags":{"type":"array"}},"required":["city","days","metric","tags"]}}},
  {"type":"function","function":{"name":"now"}}])";

constexpr std::string_view kAnthropicTools = R"([
  {"name":"read_file","description":"Reads","input_schema":{"type":"object",
    "properties":{"file_path":{"type":"string"},"limit":{"type":"number"}},
    "required":["file_path"]},"cache_control":{"type":"ephemeral"}},
  {"type":"web_search_20250305","name":"web_search"},
  {"name":"now","input_schema":{"type":"object","properties":{}}}])";

std::string openAiBody(std::string_view messages, bool stream) {
  return std::string(R"({"model":"gpt-test","stream":)") + (stream ? "true" : "false") +
         R"(,"tools":)" + std::string(kOpenAiTools) + R"(,"messages":)" + std::string(messages) +
         "}";
}

std::string anthropicBody(std::string_view messages, bool stream) {
  return std::string(R"({"model":"claude-test","max_tokens":1024,"stream":)") +
         (stream ? "true" : "false") + R"(,"tools":)" + std::string(kAnthropicTools) +
         R"(,"messages":)" + std::string(messages) + "}";
}

TEST(MockToolCallsTest, ArgumentsFollowTheRequiredPropertiesOfTheSchemaInOrder) {
  const json::value schema = json::parse(R"({"type":"object","properties":{
      "s":{"type":"string"},"n":{"type":"number"},"i":{"type":["null","integer"]},
      "b":{"type":"boolean"},"o":{"type":"object"}},"required":["b","s","n","i","o","missing"]})");
  EXPECT_EQ(argumentsFromSchema(&schema),
            R"({"b":true,"s":"mock","n":1,"i":1,"o":null,"missing":null})");
  EXPECT_EQ(argumentsFromSchema(nullptr), "{}");
  const json::value no_required = json::parse(R"({"type":"object","properties":{}})");
  EXPECT_EQ(argumentsFromSchema(&no_required), "{}");
}

TEST(MockToolCallsTest, OpenAiReplyCallsTheDeclaredToolsInOrderCycling) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/chat/completions",
                     openAiBody(R"([{"role":"user","content":"go mock:tool_calls=3"}])", false));
  ASSERT_EQ(result.status(), 200u) << result.body();
  const json::value choice = result.json().at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
  EXPECT_TRUE(choice.at("message").at("content").is_null());
  EXPECT_EQ(choice.at("message").at("tool_calls"), json::parse(R"([
    {"id":"call_mock_1","type":"function","function":{"name":"get_weather",
      "arguments":"{\"city\":\"mock\",\"days\":1,\"metric\":true,\"tags\":null}"}},
    {"id":"call_mock_2","type":"function","function":{"name":"now","arguments":"{}"}},
    {"id":"call_mock_3","type":"function","function":{"name":"get_weather",
      "arguments":"{\"city\":\"mock\",\"days\":1,\"metric\":true,\"tags\":null}"}}])"));
}

TEST(MockToolCallsTest, OpenAiStreamSendsToolCallDeltasThatReassembleToTheArguments) {
  Controls controls;
  controls.tool_calls = 2;
  MockOptions options;
  options.controls = controls;
  auto server = startMock(options);
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/chat/completions",
                     openAiBody(R"([{"role":"user","content":"go"}])", true));
  ASSERT_EQ(result.status(), 200u);
  const auto events = parseSse(result.body());
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events.back().data, "[DONE]");
  std::vector<std::string> names(2), args(2), ids(2);
  size_t argument_chunks = 0;
  std::string finish;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json::value chunk = json::parse(events[i].data);
    const json::value& c = chunk.at("choices").at(0);
    if (!c.at("finish_reason").is_null()) {
      finish = c.at("finish_reason").as_string();
      continue;
    }
    if (i == 0) {
      EXPECT_EQ(c.at("delta").at("role"), "assistant");
      EXPECT_TRUE(c.at("delta").at("content").is_null());
    }
    const json::value& call = c.at("delta").at("tool_calls").at(0);
    const auto index = static_cast<size_t>(call.at("index").as_int64());
    const json::value& function = call.at("function");
    if (call.as_object().contains("id")) {
      EXPECT_EQ(call.at("type"), "function");
      EXPECT_EQ(function.at("arguments"), "") << "the first delta of a call has no arguments";
      ids[index] = call.at("id").as_string();
      names[index] = function.at("name").as_string();
    } else {
      args[index] += function.at("arguments").as_string();
      ++argument_chunks;
    }
  }
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_EQ(ids, (std::vector<std::string>{"call_mock_1", "call_mock_2"}));
  EXPECT_EQ(names, (std::vector<std::string>{"get_weather", "now"}));
  EXPECT_EQ(args[0], R"({"city":"mock","days":1,"metric":true,"tags":null})");
  EXPECT_EQ(args[1], "{}");
  EXPECT_GT(argument_chunks, 3u) << "arguments arrive in several pieces";
}

TEST(MockToolCallsTest, AToolResultOrNoDeclaredToolGetsTextSoAgentLoopsEnd) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto after_tool = post(server->port(), "/v1/chat/completions",
                         openAiBody(R"([{"role":"user","content":"go mock:tool_calls=1"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_mock_1","type":"function",
        "function":{"name":"now","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"call_mock_1","content":"12:00"}])",
                                    false));
  ASSERT_EQ(after_tool.status(), 200u);
  EXPECT_EQ(after_tool.json().at("choices").at(0).at("finish_reason"), "stop");
  auto no_tools = post(server->port(), "/v1/chat/completions", chatBody("go mock:tool_calls=1"));
  EXPECT_EQ(no_tools.json().at("choices").at(0).at("finish_reason"), "stop");
  auto anthropic_after_tool =
      post(server->port(), "/v1/messages",
           anthropicBody(R"([{"role":"user","content":"go mock:tool_calls=1"},
      {"role":"assistant","content":[{"type":"tool_use","id":"toolu_mock_1","name":"now",
        "input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_mock_1",
        "content":[{"type":"text","text":"12:00"}]}]}])",
                         false),
           kAnthropicHeaders);
  ASSERT_EQ(anthropic_after_tool.status(), 200u);
  EXPECT_EQ(anthropic_after_tool.json().at("stop_reason"), "end_turn");
}

TEST(MockToolCallsTest, AnthropicReplyIsToolUseBlocksSkippingServerTools) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/messages",
                     anthropicBody(R"([{"role":"user","content":"go mock:tool_calls=2"}])", false),
                     kAnthropicHeaders);
  ASSERT_EQ(result.status(), 200u) << result.body();
  EXPECT_EQ(result.json().at("stop_reason"), "tool_use");
  EXPECT_EQ(result.json().at("content"), json::parse(R"([
    {"type":"tool_use","id":"toolu_mock_1","name":"read_file","input":{"file_path":"mock"}},
    {"type":"tool_use","id":"toolu_mock_2","name":"now","input":{}}])"));
}

TEST(MockToolCallsTest, AnthropicStreamSendsInputJsonDeltasThatReassembleToTheInput) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/messages",
                     anthropicBody(R"([{"role":"user","content":"go mock:tool_calls=2"}])", true),
                     kAnthropicHeaders);
  ASSERT_EQ(result.status(), 200u);
  const auto events = parseSse(result.body());
  std::vector<std::string> kinds;
  std::string input0;
  std::string input1;
  for (const SseEvent& e : events) {
    const json::value data = json::parse(e.data);
    EXPECT_EQ(std::string_view(data.at("type").as_string()), e.event);
    if (e.event == "content_block_delta") {
      EXPECT_EQ(data.at("delta").at("type"), "input_json_delta");
      (data.at("index") == 0 ? input0 : input1) += data.at("delta").at("partial_json").as_string();
      if (kinds.back() == "content_block_delta") {
        continue;
      }
    }
    if (e.event == "content_block_start") {
      EXPECT_EQ(data.at("content_block").at("type"), "tool_use");
      EXPECT_EQ(data.at("content_block").at("input"), json::object());
    }
    if (e.event == "message_delta") {
      EXPECT_EQ(data.at("delta").at("stop_reason"), "tool_use");
    }
    kinds.push_back(e.event);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{
                       "message_start", "content_block_start", "ping", "content_block_delta",
                       "content_block_stop", "content_block_start", "content_block_delta",
                       "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(input0, R"({"file_path":"mock"})");
  EXPECT_EQ(input1, "{}");
}

// The shapes Claude Code 2.1.112 sends (system blocks with cache_control, thinking, metadata,
// context_management, output_config, tool_result with cache_control), plus a role: system entry.
// A thinking block sent back must carry the signature the mock gave it, as the API checks.
TEST(MockAnthropicShapesTest, EveryShapeRealClientsSendIsAccepted) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::string body = R"({"model":"claude-sonnet-4-6","max_tokens":32000,"stream":false,
    "system":[{"type":"text","text":"You are"},{"type":"text","text":"an agent",
               "cache_control":{"type":"ephemeral"}}],
    "messages":[
      {"role":"system","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"look"},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
        {"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc"}}]},
      {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":")" +
                           thinkingSignature("hmm") + R"("},
        {"type":"redacted_thinking","data":"xyz"},
        {"type":"tool_use","id":"toolu_1","name":"now","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"12:00",
        "cache_control":{"type":"ephemeral"}},{"type":"text","text":"and now?"}]}],
    "tools":[{"name":"now","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"},
    "metadata":{"user_id":"u"},"stop_sequences":["END"],"temperature":1,"top_p":0.9,"top_k":5,
    "thinking":{"type":"adaptive"},"context_management":{"edits":[]},
    "output_config":{"effort":"high"}})";
  auto result = post(server->port(), "/v1/messages?beta=true", body, kAnthropicHeaders);
  ASSERT_EQ(result.status(), 200u) << result.body();
  EXPECT_EQ(result.json().at("stop_reason"), "end_turn");
}

TEST(MockAnthropicShapesTest, CountTokensAnswersTheInputTokensOfTheMessagesRule) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/messages/count_tokens",
                     R"({"model":"m","system":"abcd","messages":[{"role":"user","content":"hi"}]})",
                     kAnthropicHeaders);
  ASSERT_EQ(result.status(), 200u) << result.body();
  // 6 bytes of text, 2 messages (system counts as one): ceil(6 / 4) + 6 = 8.
  EXPECT_EQ(result.json(), json::parse(R"({"input_tokens":8})"));
  EXPECT_EQ(post(server->port(), "/v1/messages/count_tokens", R"({"model":"m"})").status(), 400u);
}

TEST(MockAnthropicShapesTest, CachedTokensAreReportedAsCacheReadsInBothApis) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto anthropic =
      post(server->port(), "/v1/messages",
           messagesBody("hi mock:cached_tokens=5 mock:reply_tokens=1"), kAnthropicHeaders);
  ASSERT_EQ(anthropic.status(), 200u);
  const json::value body = anthropic.json();  // json() returns a value: keep it alive
  const json::value& usage = body.at("usage");
  // 43 bytes, 1 message: ceil(43 / 4) + 3 = 14 input tokens, 5 of them cache reads.
  EXPECT_EQ(usage, json::parse(R"({"input_tokens":9,"cache_creation_input_tokens":0,
                                   "cache_read_input_tokens":5,"output_tokens":1})"));
  auto openai = post(server->port(), "/v1/chat/completions", chatBody("hi mock:cached_tokens=5"));
  ASSERT_EQ(openai.status(), 200u);
  EXPECT_EQ(openai.json().at("usage").at("prompt_tokens_details"),
            json::parse(R"({"cached_tokens":5})"));
}

TEST(MockAnthropicShapesTest, HeadAndGetOfTheRootAnswer200WithoutABody) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  boost::system::error_code error;
  const std::string raw =
      rawExchange(server->port(), "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", error);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200 OK\r\n")) << raw;
  EXPECT_TRUE(raw.ends_with("\r\n\r\n")) << "no body after the head: " << raw;
  const std::string head_404 = rawExchange(
      server->port(), "HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", error);
  EXPECT_TRUE(head_404.starts_with("HTTP/1.1 404")) << head_404;
  EXPECT_TRUE(head_404.ends_with("\r\n\r\n")) << "HEAD never gets a body: " << head_404;
  auto get_root = get(server->port(), "/");
  EXPECT_EQ(get_root.status(), 200u);
  EXPECT_EQ(get_root.body(), "");
}

TEST(MockRequestLogTest, MockRequestsListsRecentRequestsWithTheirBodies) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(get(server->port(), "/mock/requests").body(), "[]");
  ASSERT_EQ(post(server->port(), "/v1/chat/completions", chatBody("one")).status(), 200u);
  ASSERT_EQ(get(server->port(), "/").status(), 200u);
  ASSERT_EQ(post(server->port(), "/v1/embeddings", "not json").status(), 400u);
  const json::value log = get(server->port(), "/mock/requests").json();
  ASSERT_EQ(log.as_array().size(), 3u) << "the /mock/* requests are not logged";
  EXPECT_EQ(log.at(0).at("method"), "POST");
  EXPECT_EQ(log.at(0).at("target"), "/v1/chat/completions");
  EXPECT_EQ(log.at(0).at("body").at("messages").at(1).at("content"), "one");
  EXPECT_EQ(log.at(0).at("headers").at("content-type"), "application/json");
  EXPECT_EQ(log.at(1).at("method"), "GET");
  EXPECT_TRUE(log.at(1).at("body").is_null());
  EXPECT_EQ(log.at(2).at("body"), "not json");
  for (int i = 0; i < 70; ++i) {
    get(server->port(), "/");
  }
  EXPECT_EQ(get(server->port(), "/mock/requests").json().as_array().size(), 64u);
}

}  // namespace
}  // namespace sy::mock::testing
