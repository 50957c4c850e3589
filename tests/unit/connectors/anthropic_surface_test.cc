// The Anthropic Messages surface: client requests into the canonical (OpenAI chat) request, and
// canonical answers (bodies, streams, errors) back into Anthropic's wire format. Fixtures follow
// Anthropic's published Messages API formats.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/anthropic_answer.h"
#include "connectors/anthropic_inbound.h"
#include "connectors/sse.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

json::object decode(std::string_view text, bool count_tokens = false) {
  auto decoded = anthropicToChat(json::parse(text).as_object(), {}, count_tokens);
  EXPECT_TRUE(decoded) << (decoded ? "" : decoded.error().message);
  return decoded ? *decoded : json::object{};
}

std::string decodeError(std::string_view text) {
  auto decoded = anthropicToChat(json::parse(text).as_object(), {});
  EXPECT_FALSE(decoded);
  if (decoded) {
    return "";
  }
  EXPECT_EQ(decoded.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(toHttpStatus(decoded.error()), 400u);
  return decoded.error().message;
}

TEST(AnthropicInboundTest, MovesTheSystemPromptIntoTheFirstMessage) {
  auto chat = decode(R"({"model":"claude-x","max_tokens":64,"system":"Be brief.",
      "messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(json::serialize(chat.at("messages")),
            R"([{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}])");
  EXPECT_EQ(chat.at("max_tokens").as_int64(), 64);
  EXPECT_EQ(chat.at("model").as_string(), "claude-x");
}

TEST(AnthropicInboundTest, KeepsCacheControlOnSystemAndTextBlocksInOrder) {
  auto chat = decode(R"({"model":"m","max_tokens":8,
      "system":[{"type":"text","text":"A"},{"type":"text","text":"B","cache_control":{"type":"ephemeral"}}],
      "messages":[{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]}]})");
  const auto& messages = chat.at("messages").as_array();
  EXPECT_EQ(
      json::serialize(messages[0].at("content")),
      R"([{"type":"text","text":"A"},{"type":"text","text":"B","cache_control":{"type":"ephemeral"}}])");
  EXPECT_EQ(json::serialize(messages[1].at("content")),
            R"([{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}])");
}

TEST(AnthropicInboundTest, JoinsPlainTextBlocksIntoOneString) {
  auto chat = decode(R"({"model":"m","max_tokens":8,"messages":[{"role":"user",
      "content":[{"type":"text","text":"one "},{"type":"text","text":"two"}]}]})");
  EXPECT_EQ(chat.at("messages").as_array()[0].at("content").as_string(), "one two");
}

TEST(AnthropicInboundTest, TranslatesAToolRoundTrip) {
  auto chat = decode(R"({"model":"m","max_tokens":8,
      "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object",
        "properties":{"city":{"type":"string"}},"required":["city"]}}],
      "tool_choice":{"type":"any","disable_parallel_tool_use":true},
      "messages":[
        {"role":"user","content":"Weather in Paris?"},
        {"role":"assistant","content":[{"type":"text","text":"Let me check."},
          {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},
          {"type":"text","text":"Thanks"}]}]})");
  EXPECT_EQ(
      json::serialize(chat.at("tools")),
      R"([{"type":"function","function":{"name":"get_weather","description":"Weather",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])");
  EXPECT_EQ(chat.at("tool_choice").as_string(), "required");
  EXPECT_EQ(chat.at("parallel_tool_calls").as_bool(), false);
  const auto& messages = chat.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(
      json::serialize(messages[1]),
      R"({"role":"assistant","content":"Let me check.","tool_calls":[{"id":"toolu_1",)"
      R"("type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]})");
  EXPECT_EQ(json::serialize(messages[2]),
            R"({"role":"tool","tool_call_id":"toolu_1","content":"18C"})");
  EXPECT_EQ(json::serialize(messages[3]), R"({"role":"user","content":"Thanks"})");
}

// The Vercel AI SDK's Anthropic provider marks every tool `eager_input_streaming` when it
// streams: a pacing hint with no chat-completions form, accepted and left out.
TEST(AnthropicInboundTest, AcceptsEagerInputStreamingOnAToolAndLeavesItOut) {
  auto chat = decode(R"({"model":"m","max_tokens":8,"stream":true,
      "tools":[{"name":"get_weather","input_schema":{"type":"object"},"eager_input_streaming":true}],
      "messages":[{"role":"user","content":"Weather?"}]})");
  EXPECT_EQ(
      json::serialize(chat.at("tools")),
      R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}])");
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"x"}],
      "tools":[{"name":"f","input_schema":{},"eager_input_streaming":"yes"}]})"),
            "tools[0].eager_input_streaming: must be a boolean");
}

TEST(AnthropicInboundTest, MarksFailedToolResultsAndJoinsTheirTextBlocks) {
  auto chat = decode(R"j({"model":"m","max_tokens":8,"messages":[
      {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","is_error":true,
        "content":[{"type":"text","text":"no such file"},{"type":"text","text":"(ENOENT)"}]}]}]})j");
  const auto& messages = chat.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0].at("content").is_null());
  EXPECT_EQ(messages[1].at("content").as_string(), "Error: no such file\n(ENOENT)");
}

TEST(AnthropicInboundTest, TurnsImagesIntoDataUrlsAndDropsEarlierThinking) {
  auto chat = decode(R"({"model":"m","max_tokens":8,"messages":[
      {"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}},
        {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]},
      {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"ok"}]}]})");
  const auto& messages = chat.at("messages").as_array();
  EXPECT_EQ(json::serialize(messages[0].at("content")),
            R"([{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}},)"
            R"({"type":"image_url","image_url":{"url":"https://example.com/a.png"}}])");
  EXPECT_EQ(json::serialize(messages[1]), R"({"role":"assistant","content":"ok"})");
}

TEST(AnthropicInboundTest, MapsSamplingStopAndMetadata) {
  auto chat = decode(R"({"model":"m","max_tokens":8,"temperature":0.5,"top_p":0.9,"top_k":5,
      "stop_sequences":["END"],"metadata":{"user_id":"u-1"},"stream":true,
      "thinking":{"type":"enabled","budget_tokens":1024},
      "messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(chat.at("temperature").as_double(), 0.5);
  EXPECT_EQ(json::serialize(chat.at("stop")), R"(["END"])");
  EXPECT_EQ(chat.at("user").as_string(), "u-1");
  EXPECT_EQ(chat.at("stream").as_bool(), true);
  EXPECT_EQ(json::serialize(chat.at("stream_options")), R"({"include_usage":true})");
  EXPECT_FALSE(chat.contains("top_k"));
  EXPECT_FALSE(chat.contains("thinking"));
}

TEST(AnthropicInboundTest, AcceptsASystemRoleInsideMessages) {
  auto chat = decode(R"({"model":"m","max_tokens":8,"messages":[{"role":"system","content":"S"},
      {"role":"user","content":"hi"}]})");
  EXPECT_EQ(chat.at("messages").as_array()[0].at("role").as_string(), "system");
}

// The shape of Claude Code 2.1's requests (recorded against the mock; tests/e2e/README.md).
TEST(AnthropicInboundTest, AcceptsWhatClaudeCodeSends) {
  auto chat = decode(R"({"model":"claude-sonnet-4-6","max_tokens":32000,
      "thinking":{"type":"adaptive"},"context_management":{"edits":[]},
      "output_config":{"effort":"high"},"metadata":{"user_id":"{\"device_id\":\"d\"}"},
      "system":[{"type":"text","text":"You are Claude Code."},
                {"type":"text","text":"Rules.","cache_control":{"type":"ephemeral"}}],
      "tools":[{"name":"Read","description":"Reads a file","input_schema":{"type":"object",
        "properties":{"file_path":{"type":"string"}},"required":["file_path"]}}],
      "messages":[{"role":"user","content":[{"type":"text","text":"read mock"}]},
        {"role":"assistant","content":[{"type":"tool_use","id":"toolu_mock_1","name":"Read",
          "input":{"file_path":"mock"}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_mock_1",
          "content":"hello","cache_control":{"type":"ephemeral"}}]}],
      "stream":true})");
  EXPECT_FALSE(chat.contains("context_management"));
  EXPECT_FALSE(chat.contains("output_config"));
  const auto& messages = chat.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[3].at("role").as_string(), "tool");
  EXPECT_EQ(messages[3].at("content").as_string(), "hello");
  EXPECT_EQ(chat.at("user").as_string(), "{\"device_id\":\"d\"}");
}

TEST(AnthropicInboundTest, CountTokensNeedsNoMaxTokens) {
  auto chat = decode(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", true);
  EXPECT_FALSE(chat.contains("max_tokens"));
}

TEST(AnthropicInboundTest, RefusesWhatItDoesNotKnowInsteadOfPassingItOn) {
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"x"}],
      "mystery":1})"),
            "request: unsupported field 'mystery'");
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"user",
      "content":[{"type":"server_tool_use","id":"x"}]}]})"),
            "messages[0].content[0]: unsupported content block type 'server_tool_use' in a user "
            "message");
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"x",
      "name":"bob"}]})"),
            "messages[0]: unsupported field 'name'");
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"x"}],
      "tools":[{"type":"web_search_20250305","name":"web_search"}]})"),
            "tools[0]: server tools (type 'web_search_20250305') are not supported through the "
            "gateway; declare custom tools");
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"x"}],
      "metadata":{"user_id":"u","secret":"s"}})"),
            "metadata: unsupported field 'secret'");
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"user",
      "content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}}]}]})"),
            "messages[0].content[0].source: only text documents are supported");
  EXPECT_EQ(decodeError(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"),
            "max_tokens: Field required");
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[]})"),
            "messages: must be a non-empty array");
  EXPECT_EQ(
      decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"tool","content":"x"}]})"),
      "messages[0].role: must be 'user' or 'assistant', not 'tool'");
  // A name that may be data is not echoed.
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"user","content":"x"}],
      "AKIAIOSFODNN7EXAMPLE":1})"),
            "request: unsupported field (a name that is not shown)");
  EXPECT_EQ(decodeError(R"({"model":"m","max_tokens":8,"messages":[{"role":"4111111111111111",
      "content":"x"}]})"),
            "messages[0].role: must be 'user' or 'assistant', not (a name that is not shown)");
}

TEST(AnthropicAnswerTest, EncodesACompletionAsAMessage) {
  const std::string message = chatCompletionToMessage(
      R"({"id":"chatcmpl-42","object":"chat.completion","created":1,"model":"llama",
          "choices":[{"index":0,"message":{"role":"assistant","content":"Hello",
          "tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
          "finish_reason":"tool_calls"}],
          "usage":{"prompt_tokens":30,"completion_tokens":5,"total_tokens":35,
                   "prompt_tokens_details":{"cached_tokens":20}}})",
      "claude-sonnet-4-5");
  EXPECT_EQ(
      message,
      R"({"id":"msg_42","type":"message","role":"assistant","model":"claude-sonnet-4-5",)"
      R"("content":[{"type":"text","text":"Hello"},{"type":"tool_use","id":"call_1","name":"f",)"
      R"("input":{"a":1}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,)"
      R"("output_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":20}})");
}

TEST(AnthropicAnswerTest, MapsEveryFinishReason) {
  EXPECT_EQ(anthropicStopReason("stop"), "end_turn");
  EXPECT_EQ(anthropicStopReason("length"), "max_tokens");
  EXPECT_EQ(anthropicStopReason("tool_calls"), "tool_use");
  EXPECT_EQ(anthropicStopReason("function_call"), "tool_use");
  EXPECT_EQ(anthropicStopReason("content_filter"), "refusal");
}

TEST(AnthropicAnswerTest, EncodesErrorsInAnthropicsShape) {
  EXPECT_EQ(errorToAnthropic(R"({"error":{"message":"slow down","type":"rate_limit_error"}})", 429),
            R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
  EXPECT_EQ(
      errorToAnthropic("<html>bad gateway</html>", 502),
      R"({"type":"error","error":{"type":"api_error","message":"The upstream answered HTTP 502."}})");
  auto encoder = newAnthropicEncoder(404, false, "m");
  std::string body = R"({"error":{"message":"no such model"}})";
  ASSERT_TRUE(encoder->encode(body, true));
  EXPECT_EQ(body,
            R"({"type":"error","error":{"type":"not_found_error","message":"no such model"}})");
}

constexpr std::string_view kChunks =
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\"}}]}\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think\"}}]"
    "}\n\n"
    "data: {\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
    "data: {\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}"
    "\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_"
    "calls\"}]}\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4}"
    "}\n\n"
    "data: [DONE]\n\n";

std::vector<SseEvent> events(std::string_view text) {
  SseParser parser;
  return parser.feed(text);
}

TEST(AnthropicAnswerTest, PutsTheUpstreamThinkingSignatureBackOnTheThinkingBlock) {
  const std::string message = chatCompletionToMessage(
      R"({"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"Hi",
          "reasoning_content":"Think.","reasoning_signature":"sig-1"},"finish_reason":"stop"}]})",
      "m");
  EXPECT_EQ(json::serialize(json::parse(message).at("content").at(0)),
            R"({"type":"thinking","thinking":"Think.","signature":"sig-1"})");

  auto encoder = newAnthropicEncoder(200, true, "m");
  std::string chunk =
      "data: "
      "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Think.\"}}]}\n\n"
      "data: "
      "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_signature\":\"sig-1\"}}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},"
      "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
  ASSERT_TRUE(encoder->encode(chunk, true));
  std::vector<std::string> deltas;
  for (const SseEvent& event : events(chunk)) {
    if (event.event == "content_block_delta") {
      const json::value data = json::parse(event.data);
      deltas.push_back(std::to_string(data.at("index").as_int64()) + " " +
                       json::serialize(data.at("delta")));
    }
  }
  EXPECT_EQ(deltas, (std::vector<std::string>{R"(0 {"type":"thinking_delta","thinking":"Think."})",
                                              R"(0 {"type":"signature_delta","signature":"sig-1"})",
                                              R"(1 {"type":"text_delta","text":"Hi"})"}));
}

TEST(AnthropicAnswerTest, EncodesAStreamAsAnthropicEvents) {
  auto encoder = newAnthropicEncoder(200, true, "claude-x");
  std::string chunk(kChunks);
  ASSERT_TRUE(encoder->encode(chunk, true));
  std::vector<std::string> names;
  for (const SseEvent& event : events(chunk)) {
    names.push_back(event.event);
    EXPECT_EQ(json::parse(event.data).at("type").as_string(), event.event);
  }
  const std::vector<std::string> expected = {
      "message_start",       "ping",
      "content_block_start", "content_block_delta",  // thinking
      "content_block_stop",  "content_block_start",
      "content_block_delta",
      "content_block_delta",  // text
      "content_block_stop",  "content_block_start",
      "content_block_delta",
      "content_block_delta",  // tool_use
      "content_block_stop",  "message_delta",
      "message_stop"};
  EXPECT_EQ(names, expected);
  const auto all = events(chunk);
  EXPECT_EQ(json::parse(all[0].data).at("message").at("id").as_string(), "msg_7");
  EXPECT_EQ(json::parse(all[0].data).at("message").at("model").as_string(), "claude-x");
  EXPECT_EQ(json::serialize(json::parse(all[9].data).at("content_block")),
            R"({"type":"tool_use","id":"call_a","name":"f","input":{}})");
  EXPECT_EQ(json::parse(all[10].data).at("delta").at("partial_json").as_string(), "{\"a\":");
  EXPECT_EQ(
      json::serialize(json::parse(all[13].data)),
      R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},)"
      R"("usage":{"input_tokens":12,"output_tokens":4,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}})");
}

TEST(AnthropicAnswerTest, GivesTheSameEventsWhereverTheCanonicalStreamIsSplit) {
  auto whole = newAnthropicEncoder(200, true, "m");
  std::string expected(kChunks);
  ASSERT_TRUE(whole->encode(expected, true));
  for (size_t split = 1; split < kChunks.size(); ++split) {
    auto encoder = newAnthropicEncoder(200, true, "m");
    std::string first(kChunks.substr(0, split));
    std::string second(kChunks.substr(split));
    ASSERT_TRUE(encoder->encode(first, false));
    ASSERT_TRUE(encoder->encode(second, true));
    ASSERT_EQ(first + second, expected) << "split at " << split;
  }
}

TEST(AnthropicAnswerTest, StreamedTextSurvivesEscapingByteForByte) {
  const std::string text =
      "quote \" backslash \\ newline \n tab \t bell \x07 \xc3\xa9 \xf0\x9f\x99\x82 </script>";
  json::object chunk{
      {"id", "c"},
      {"choices", json::array{json::object{{"index", 0}, {"delta", {{"content", text}}}}}}};
  std::string stream = "data: " + json::serialize(chunk) + "\n\ndata: [DONE]\n\n";
  auto encoder = newAnthropicEncoder(200, true, "m");
  ASSERT_TRUE(encoder->encode(stream, true));
  std::string seen;
  for (const SseEvent& event : events(stream)) {
    if (event.event == "content_block_delta") {
      seen += json::parse(event.data).at("delta").at("text").as_string();
    }
  }
  EXPECT_EQ(seen, text);
}

TEST(AnthropicAnswerTest, EndsAStreamCutShortWithStopEvents) {
  auto encoder = newAnthropicEncoder(200, true, "m");
  std::string chunk =
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n";
  ASSERT_TRUE(encoder->encode(chunk, false));
  std::string rest;
  ASSERT_TRUE(encoder->encode(rest, true));
  const auto tail = events(rest);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail[0].event, "content_block_stop");
  EXPECT_EQ(tail[1].event, "message_delta");
  EXPECT_EQ(tail[2].event, "message_stop");
}

TEST(AnthropicAnswerTest, TurnsAnInBandErrorIntoAnErrorEvent) {
  auto encoder = newAnthropicEncoder(200, true, "m");
  std::string chunk =
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: {\"error\":{\"message\":\"backend 'a' broke off the "
      "stream\",\"type\":\"upstream_error\"}}\n\n";
  ASSERT_TRUE(encoder->encode(chunk, true));
  const auto all = events(chunk);
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all.back().event, "error");
  EXPECT_EQ(
      json::serialize(json::parse(all.back().data)),
      R"({"type":"error","error":{"type":"api_error","message":"backend 'a' broke off the stream"}})");
  EXPECT_EQ(all[all.size() - 2].event, "content_block_stop");
}


TEST(AnthropicInboundTest, RefusesSamplingValuesOfTheWrongKindOrRangeNamingTheField) {
  struct Case {
    std::string_view request;
    std::string_view message;
    std::string_view param;
  };
  const Case cases[] = {
      {R"({"model":"m","max_tokens":8,"temperature":"hot","messages":[{"role":"user","content":"q"}]})",
       "temperature: must be a number, not a string", "temperature"},
      {R"({"model":"m","max_tokens":8,"temperature":1.5,"messages":[{"role":"user","content":"q"}]})",
       "temperature: must be between 0 and 1", "temperature"},
      {R"({"model":"m","max_tokens":8,"top_p":2,"messages":[{"role":"user","content":"q"}]})",
       "top_p: must be between 0 and 1", "top_p"},
      {R"({"model":"m","max_tokens":8,"top_k":2.5,"messages":[{"role":"user","content":"q"}]})",
       "top_k: must be an integer, not a number", "top_k"},
      {R"({"model":"m","max_tokens":8,"top_k":-1,"messages":[{"role":"user","content":"q"}]})",
       "top_k: must be at least 0", "top_k"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(decodeError(c.request), c.message) << c.request;
    auto decoded = anthropicToChat(json::parse(c.request).as_object(), {});
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error().param, c.param);
  }
  auto chat = decode(R"({"model":"m","max_tokens":8,"temperature":1,"top_p":0,"top_k":0,
      "messages":[{"role":"user","content":"q"}]})");
  EXPECT_EQ(chat.at("temperature").as_int64(), 1);
}

}  // namespace
}  // namespace sy::connectors
