// The Anthropic connector's response side: recorded Messages answers, event streams and error
// bodies in (Anthropic's published formats), OpenAI chat completions, chunks and errors out.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <regex>

#include "connectors/anthropic.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

// A message with thinking, text and a tool call, and a prompt partly read from the cache.
constexpr std::string_view kMessage = R"({
  "id": "msg_01Aq9w938a90dw8q", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5",
  "content": [
    {"type": "thinking", "thinking": "The user wants the weather.", "signature": "EqQBCgIYAh"},
    {"type": "text", "text": "Let me check "},
    {"type": "text", "text": "that."},
    {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
     "input": {"location": "San Francisco, CA", "unit": "celsius"}}
  ],
  "stop_reason": "tool_use", "stop_sequence": null,
  "usage": {"input_tokens": 472, "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 1800, "output_tokens": 89}
})";

// Every event type of the Messages stream: ping, thinking with its signature, text, two tool
// calls whose input arrives as JSON split mid-token, and cache usage.
constexpr std::string_view kStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_014p7gG3wDgGV9EUtLvnow3U\","
    "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\","
    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,\"cache_creation_input_tokens\":100,"
    "\"cache_read_input_tokens\":1800,\"output_tokens\":2},\"content\":[],\"stop_reason\":null}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
    "\"thinking\",\"thinking\":\"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
    "\"thinking\":\"Two cities.\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\","
    "\"signature\":\"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Checking \\u00e9t\u00e9 \"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"both.\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"location\\\": \\\"San Fra\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"ncisco\\\"}\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":3,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_02\",\"name\":\"get_time\",\"input\":{}}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"tz\\\":\\\"Europe/Rome\\\"}\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":3}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

constexpr std::string_view kOverloadedEvent =
    "event: error\n"
    "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
    "\"Overloaded\"}}\n\n";

// Translates `body` in the given pieces (the last one with end = true).
std::string run(ResponseTranslator& translator, const std::vector<std::string_view>& pieces) {
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string chunk(pieces[i]);
    EXPECT_TRUE(translator.onChunk(chunk, i + 1 == pieces.size()));
    out += chunk;
  }
  return out;
}

std::string stream(const std::vector<std::string_view>& pieces, bool client_wants_usage = true) {
  auto translator = newAnthropicTranslator(200, true, client_wants_usage);
  return run(*translator, pieces);
}

// The data of each `data:` event (every event is `data: ...\n\n`).
std::vector<std::string> events(const std::string& sse) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < sse.size()) {
    const size_t end = sse.find("\n\n", start);
    EXPECT_NE(end, std::string::npos) << "half an event at the end: " << sse.substr(start);
    if (end == std::string::npos) {
      break;
    }
    EXPECT_EQ(sse.compare(start, 6, "data: "), 0);
    out.push_back(sse.substr(start + 6, end - start - 6));
    start = end + 2;
  }
  return out;
}

std::string deltaOf(const std::string& event) {
  const json::value chunk = json::parse(event);
  EXPECT_EQ(chunk.at("object"), "chat.completion.chunk");
  return json::serialize(chunk.at("choices").at(0).at("delta"));
}

TEST(AnthropicMessageTest, TextThinkingAndToolUseBecomeOneChatCompletion) {
  auto translator = newAnthropicTranslator(200, false, false);
  const std::string body = run(*translator, {kMessage.substr(0, 100), kMessage.substr(100)});
  const json::object answer = json::parse(body).as_object();
  EXPECT_EQ(answer.at("id"), "msg_01Aq9w938a90dw8q");
  EXPECT_EQ(answer.at("object"), "chat.completion");
  EXPECT_TRUE(answer.at("created").is_int64());
  EXPECT_EQ(answer.at("model"), "claude-sonnet-4-5");
  const json::value& choice = answer.at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
  EXPECT_EQ(json::serialize(choice.at("message")),
            R"({"role":"assistant","content":"Let me check that.",)"
            R"("reasoning_content":"The user wants the weather.",)"
            R"("tool_calls":[{"id":"toolu_01A09q90qw90lq917835lq9","type":"function","function":)"
            R"({"name":"get_weather","arguments":)"
            R"("{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}"}}]})");
  EXPECT_EQ(json::serialize(answer.at("usage")),
            R"({"prompt_tokens":2372,"completion_tokens":89,"total_tokens":2461,)"
            R"("prompt_tokens_details":{"cached_tokens":1800}})");
  const TokenUsage usage = translator->usage();
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 2372u);
  EXPECT_EQ(usage.completion_tokens, 89u);
  EXPECT_EQ(usage.cached_prompt_tokens, 1800u);
}

TEST(AnthropicMessageTest, ContentIsNullWhenTheAnswerIsOnlyToolCalls) {
  auto translator = newAnthropicTranslator(200, false, false);
  const std::string body =
      run(*translator, {R"({"id":"m","type":"message","role":"assistant","model":"c","content":[
      {"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"tool_use",
      "usage":{"input_tokens":5,"output_tokens":3}})"});
  const json::value answer = json::parse(body);
  EXPECT_TRUE(answer.at("choices").at(0).at("message").at("content").is_null());
  EXPECT_EQ(answer.at("choices")
                .at(0)
                .at("message")
                .at("tool_calls")
                .at(0)
                .at("function")
                .at("arguments"),
            "{}");
}

TEST(AnthropicMessageTest, StopReasonsBecomeOpenAiFinishReasons) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"end_turn", "stop"},       {"stop_sequence", "stop"},     {"max_tokens", "length"},
      {"tool_use", "tool_calls"}, {"refusal", "content_filter"}, {"pause_turn", "stop"}};
  for (const auto& [stop_reason, finish_reason] : cases) {
    auto translator = newAnthropicTranslator(200, false, false);
    const std::string body =
        run(*translator,
            {std::string(R"({"id":"m","model":"c","content":[{"type":"text","text":"x"}],)") +
             R"("stop_reason":")" + std::string(stop_reason) +
             R"(","usage":{"input_tokens":1,"output_tokens":1}})"});
    EXPECT_EQ(json::parse(body).at("choices").at(0).at("finish_reason"), json::value(finish_reason))
        << stop_reason;
  }
}

TEST(AnthropicMessageTest, AnUnreadableSuccessBodyIsAnUpstreamError) {
  auto translator = newAnthropicTranslator(200, false, false);
  std::string chunk = R"({"id":"m","content":)";
  const Status status = translator->onChunk(chunk, true);
  ASSERT_FALSE(status);
  EXPECT_EQ(toHttpStatus(status.error()), 502u);
}

TEST(AnthropicErrorTest, ErrorBodiesBecomeOpenAiErrorBodiesNamingAnthropicsType) {
  const struct {
    unsigned status;
    std::string_view body, expected;
  } cases[] = {
      {429,
       R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}})",
       R"({"error":{"message":"Number of request tokens has exceeded your per-minute rate limit",)"
       R"("type":"rate_limit_error","param":null,"code":"rate_limit_error"}})"},
      {529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       R"({"error":{"message":"Overloaded","type":"server_error","param":null,)"
       R"("code":"overloaded_error"}})"},
      {400,
       R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}})",
       R"({"error":{"message":"max_tokens: Field required","type":"invalid_request_error",)"
       R"("param":null,"code":"invalid_request_error"}})"},
      {502, "<html>Bad Gateway</html>",
       R"({"error":{"message":"the anthropic backend answered HTTP 502","type":"upstream_error",)"
       R"("param":null,"code":"upstream_error"}})"},
  };
  for (const auto& c : cases) {
    auto translator = newAnthropicTranslator(c.status, false, false);
    EXPECT_EQ(run(*translator, {c.body.substr(0, 7), c.body.substr(7)}), c.expected) << c.body;
    EXPECT_FALSE(translator->usage().reported);
  }
}

TEST(AnthropicStreamTest, EveryEventTypeBecomesChatCompletionChunks) {
  const std::vector<std::string> out = events(stream({kStream}));
  ASSERT_EQ(out.size(), 12u);
  const json::value first = json::parse(out[0]);
  EXPECT_EQ(first.at("id"), "msg_014p7gG3wDgGV9EUtLvnow3U");
  EXPECT_EQ(first.at("model"), "claude-sonnet-4-5");
  EXPECT_TRUE(first.at("choices").at(0).at("finish_reason").is_null());
  EXPECT_EQ(deltaOf(out[0]), R"({"role":"assistant","content":""})");
  EXPECT_EQ(deltaOf(out[1]), R"({"reasoning_content":"Two cities."})");
  EXPECT_EQ(deltaOf(out[2]), "{\"content\":\"Checking \xC3\xA9t\xC3\xA9 \"}");
  EXPECT_EQ(deltaOf(out[3]), R"({"content":"both."})");
  EXPECT_EQ(deltaOf(out[4]),
            R"({"tool_calls":[{"index":0,"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6",)"
            R"("type":"function","function":{"name":"get_weather","arguments":""}}]})");
  EXPECT_EQ(deltaOf(out[5]),
            R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"location\": \"San Fra"}}]})");
  EXPECT_EQ(deltaOf(out[6]),
            R"({"tool_calls":[{"index":0,"function":{"arguments":"ncisco\"}"}}]})");
  EXPECT_EQ(deltaOf(out[7]),
            R"({"tool_calls":[{"index":1,"id":"toolu_02","type":"function","function":)"
            R"({"name":"get_time","arguments":""}}]})")
      << "tool calls are counted apart from content blocks";
  EXPECT_EQ(deltaOf(out[8]),
            R"({"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":\"Europe/Rome\"}"}}]})");
  EXPECT_EQ(deltaOf(out[9]), "{}");
  EXPECT_EQ(json::parse(out[9]).at("choices").at(0).at("finish_reason"), "tool_calls");
  const json::value usage = json::parse(out[10]);
  EXPECT_TRUE(usage.at("choices").as_array().empty());
  EXPECT_EQ(json::serialize(usage.at("usage")),
            R"({"prompt_tokens":2372,"completion_tokens":89,"total_tokens":2461,)"
            R"("prompt_tokens_details":{"cached_tokens":1800}})");
  EXPECT_EQ(out[11], "[DONE]");
}

// For a client that speaks Anthropic, the thinking block's signature is kept (it sends the block
// back on the next turn, and the API checks it); an OpenAI client never sees one.
TEST(AnthropicStreamTest, ThinkingSignaturesAreKeptOnlyForAnAnthropicClient) {
  auto signing = newAnthropicTranslator(200, true, true, /*signatures=*/true);
  const std::vector<std::string> out = events(run(*signing, {kStream}));
  ASSERT_EQ(out.size(), 13u);
  EXPECT_EQ(deltaOf(out[1]), R"({"reasoning_content":"Two cities."})");
  EXPECT_EQ(deltaOf(out[2]),
            R"({"reasoning_signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"})");
  EXPECT_EQ(stream({kStream}).find("reasoning_signature"), std::string::npos);

  auto whole = newAnthropicTranslator(200, false, false, /*signatures=*/true);
  const json::value answer = json::parse(run(*whole, {kMessage}));
  EXPECT_EQ(answer.at("choices").at(0).at("message").at("reasoning_signature"), "EqQBCgIYAh");
}

TEST(AnthropicStreamTest, UsageIsReadFromMessageStartAndMessageDeltaButRelayedOnlyOnRequest) {
  auto translator = newAnthropicTranslator(200, true, /*client_wants_usage=*/false);
  const std::vector<std::string> out = events(run(*translator, {kStream}));
  ASSERT_EQ(out.size(), 11u);
  EXPECT_EQ(deltaOf(out[9]), "{}");
  EXPECT_EQ(out[10], "[DONE]");
  const TokenUsage usage = translator->usage();
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 2372u);
  EXPECT_EQ(usage.completion_tokens, 89u);
  EXPECT_EQ(usage.cached_prompt_tokens, 1800u);
  EXPECT_EQ(usage.streamed_events, 6u);  // the thinking, text and tool-input deltas
}

std::string withoutCreated(const std::string& text) {
  static const std::regex kCreated("\"created\":[0-9]+");
  return std::regex_replace(text, kCreated, "\"created\":0");
}

TEST(AnthropicStreamTest, SplittingTheStreamAtAnyByteGivesTheSameOutput) {
  const std::string whole = withoutCreated(stream({kStream}));
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    ASSERT_EQ(withoutCreated(stream({kStream.substr(0, cut), kStream.substr(cut)})), whole)
        << "cut at " << cut;
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < kStream.size(); ++i) {
    bytes.push_back(kStream.substr(i, 1));
  }
  bytes.push_back("");
  EXPECT_EQ(withoutCreated(stream(bytes)), whole);
}

TEST(AnthropicStreamTest, CrLfLineEndingsGiveTheSameOutput) {
  const std::string crlf = std::regex_replace(std::string(kStream), std::regex("\n"), "\r\n");
  EXPECT_EQ(withoutCreated(stream({crlf})), withoutCreated(stream({kStream})));
}

TEST(AnthropicStreamTest, NeverEmitsHalfAnEvent) {
  auto translator = newAnthropicTranslator(200, true, true);
  const size_t second_event = kStream.find("event: content_block_start");
  std::string chunk(kStream.substr(0, second_event - 1));  // message_start without its blank line
  ASSERT_TRUE(translator->onChunk(chunk, false));
  EXPECT_EQ(chunk, "");
  chunk = "\n";
  ASSERT_TRUE(translator->onChunk(chunk, false));
  EXPECT_EQ(events(chunk).size(), 1u);
}

TEST(AnthropicStreamTest, AnErrorEventMidStreamBecomesAnOpenAiErrorAndEndsTheStream) {
  const size_t cut = kStream.find(
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
      "\"index\":1}");
  const std::string broken = std::string(kStream.substr(0, cut)) + std::string(kOverloadedEvent) +
                             std::string(kStream.substr(cut));
  const std::vector<std::string> out = events(stream({broken}));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(deltaOf(out[3]), R"({"content":"both."})");
  EXPECT_EQ(out[4], R"({"error":{"message":"Overloaded","type":"server_error","param":null,)"
                    R"("code":"overloaded_error"}})");
}

TEST(AnthropicStreamTest, AStreamEndingBeforeMessageStopEndsWithAnError) {
  const size_t cut = kStream.find("event: message_delta");
  const std::vector<std::string> out = events(stream({kStream.substr(0, cut)}));
  ASSERT_EQ(out.size(), 10u);
  EXPECT_NE(out[9].find("ended before message_stop"), std::string::npos);
  EXPECT_EQ(json::parse(out[9]).at("error").at("type"), "upstream_error");
}

TEST(AnthropicStreamTest, AnEventTooLargeToHoldEndsTheStreamWithAnErrorInsteadOfLosingText) {
  const std::string huge =
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
      "\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"" +
      std::string(2 << 20, 'a') + "\"}}\n\n";
  const size_t cut = kStream.find(
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
      "\"index\":1}");
  const std::vector<std::string> out =
      events(stream({kStream.substr(0, cut), huge, kStream.substr(cut)}));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_NE(out[4].find("larger than 1 MiB"), std::string::npos);
}

TEST(AnthropicStreamTest, AnUnreadableEventEndsTheStreamWithAnError) {
  const std::vector<std::string> out =
      events(stream({"event: content_block_delta\ndata: {\"type\":\n\n", kStream}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find("unreadable event"), std::string::npos);
}

}  // namespace
}  // namespace sy::connectors
