// The Responses backend translators: recorded Responses answers, event streams and error bodies
// in (OpenAI's published formats), OpenAI chat completions, chunks and errors out.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <regex>

#include "connectors/responses_backend.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

// Reasoning, text and two function calls (one with its arguments streamed, one only in its
// `done` item), usage with cached and reasoning tokens.
constexpr std::string_view kResponse = R"({
  "id": "resp_67ccd2bed1ec8190", "object": "response", "created_at": 1741476542,
  "status": "completed", "model": "gpt-5-2025-08-07", "error": null, "incomplete_details": null,
  "output": [
    {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Think."}]},
    {"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
     "content": [{"type": "output_text", "text": "Checking ", "annotations": []},
                 {"type": "output_text", "text": "both.", "annotations": []}]},
    {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_A",
     "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}
  ],
  "usage": {"input_tokens": 120, "input_tokens_details": {"cached_tokens": 64},
            "output_tokens": 40, "output_tokens_details": {"reasoning_tokens": 16},
            "total_tokens": 160}
})";

constexpr std::string_view kStream =
    "event: response.created\n"
    "data: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\","
    "\"object\":\"response\",\"created_at\":1741290958,\"status\":\"in_progress\",\"model\":"
    "\"gpt-5-2025-08-07\",\"output\":[],\"usage\":null}}\n\n"
    "event: response.in_progress\n"
    "data: {\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{\"id\":"
    "\"resp_1\",\"status\":\"in_progress\",\"model\":\"gpt-5-2025-08-07\",\"output\":[]}}\n\n"
    "event: response.output_item.added\n"
    "data: {\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,"
    "\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[]}}\n\n"
    "event: response.reasoning_summary_text.delta\n"
    "data: {\"type\":\"response.reasoning_summary_text.delta\",\"sequence_number\":3,"
    "\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\"Think.\"}\n\n"
    "event: response.output_item.done\n"
    "data: {\"type\":\"response.output_item.done\",\"sequence_number\":4,\"output_index\":0,"
    "\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\","
    "\"text\":\"Think.\"}]}}\n\n"
    "event: response.output_item.added\n"
    "data: {\"type\":\"response.output_item.added\",\"sequence_number\":5,\"output_index\":1,"
    "\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":"
    "\"assistant\",\"content\":[]}}\n\n"
    "event: response.content_part.added\n"
    "data: {\"type\":\"response.content_part.added\",\"sequence_number\":6,\"item_id\":\"msg_1\","
    "\"output_index\":1,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\","
    "\"annotations\":[]}}\n\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"sequence_number\":7,\"item_id\":\"msg_1\","
    "\"output_index\":1,\"content_index\":0,\"delta\":\"Checking \",\"logprobs\":[]}\n\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"sequence_number\":8,\"item_id\":\"msg_1\","
    "\"output_index\":1,\"content_index\":0,\"delta\":\"\\u00e9t\xC3\xA9\",\"logprobs\":[]}\n\n"
    "event: response.output_text.done\n"
    "data: {\"type\":\"response.output_text.done\",\"sequence_number\":9,\"item_id\":\"msg_1\","
    "\"output_index\":1,\"content_index\":0,\"text\":\"Checking \xC3\xA9t\xC3\xA9\"}\n\n"
    "event: response.content_part.done\n"
    "data: {\"type\":\"response.content_part.done\",\"sequence_number\":10,\"item_id\":\"msg_1\","
    "\"output_index\":1,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":"
    "\"Checking \xC3\xA9t\xC3\xA9\",\"annotations\":[]}}\n\n"
    "event: response.output_item.done\n"
    "data: {\"type\":\"response.output_item.done\",\"sequence_number\":11,\"output_index\":1,"
    "\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"role\":"
    "\"assistant\",\"content\":[]}}\n\n"
    "event: response.output_item.added\n"
    "data: {\"type\":\"response.output_item.added\",\"sequence_number\":12,\"output_index\":2,"
    "\"item\":{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_A\",\"name\":"
    "\"get_weather\",\"arguments\":\"\",\"status\":\"in_progress\"}}\n\n"
    "event: response.function_call_arguments.delta\n"
    "data: {\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":13,"
    "\"item_id\":\"fc_1\",\"output_index\":2,\"delta\":\"{\\\"city\\\":\"}\n\n"
    "event: response.function_call_arguments.delta\n"
    "data: {\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":14,"
    "\"item_id\":\"fc_1\",\"output_index\":2,\"delta\":\"\\\"Rome\\\"}\"}\n\n"
    "event: response.function_call_arguments.done\n"
    "data: {\"type\":\"response.function_call_arguments.done\",\"sequence_number\":15,"
    "\"item_id\":\"fc_1\",\"output_index\":2,\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}\n\n"
    "event: response.output_item.done\n"
    "data: {\"type\":\"response.output_item.done\",\"sequence_number\":16,\"output_index\":2,"
    "\"item\":{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_A\",\"name\":"
    "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\",\"status\":\"completed\"}}\n\n"
    "event: response.output_item.added\n"
    "data: {\"type\":\"response.output_item.added\",\"sequence_number\":17,\"output_index\":3,"
    "\"item\":{\"type\":\"function_call\",\"id\":\"fc_2\",\"call_id\":\"call_B\",\"name\":"
    "\"get_time\",\"arguments\":\"\",\"status\":\"in_progress\"}}\n\n"
    "event: response.output_item.done\n"
    "data: {\"type\":\"response.output_item.done\",\"sequence_number\":18,\"output_index\":3,"
    "\"item\":{\"type\":\"function_call\",\"id\":\"fc_2\",\"call_id\":\"call_B\",\"name\":"
    "\"get_time\",\"arguments\":\"{\\\"tz\\\":\\\"UTC\\\"}\",\"status\":\"completed\"}}\n\n"
    "event: response.completed\n"
    "data: {\"type\":\"response.completed\",\"sequence_number\":19,\"response\":{\"id\":"
    "\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-5-2025-08-07\","
    "\"output\":[],\"usage\":{\"input_tokens\":120,\"input_tokens_details\":{\"cached_tokens\":"
    "64},\"output_tokens\":40,\"output_tokens_details\":{\"reasoning_tokens\":16},"
    "\"total_tokens\":160}}}\n\n";

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
  auto translator = newResponsesTranslator(200, true, client_wants_usage);
  return run(*translator, pieces);
}

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

std::string withoutCreated(const std::string& text) {
  static const std::regex kCreated("\"created\":[0-9]+");
  return std::regex_replace(text, kCreated, "\"created\":0");
}

TEST(ResponsesBodyTest, OutputItemsBecomeOneChatCompletionWithUsage) {
  auto translator = newResponsesTranslator(200, false, false);
  const json::value answer = json::parse(run(*translator, {kResponse.substr(0, 100),
                                                           kResponse.substr(100)}));
  EXPECT_EQ(answer.at("id"), "resp_67ccd2bed1ec8190");
  EXPECT_EQ(answer.at("object"), "chat.completion");
  EXPECT_EQ(answer.at("created"), 1741476542);
  EXPECT_EQ(answer.at("model"), "gpt-5-2025-08-07");
  const json::value& choice = answer.at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
  EXPECT_EQ(json::serialize(choice.at("message")),
            R"({"role":"assistant","content":"Checking both.","refusal":null,)"
            R"("reasoning_content":"Think.","tool_calls":[{"id":"call_A","type":"function",)"
            R"("function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]})");
  EXPECT_EQ(json::serialize(answer.at("usage")),
            R"({"prompt_tokens":120,"completion_tokens":40,"total_tokens":160,)"
            R"("prompt_tokens_details":{"cached_tokens":64},)"
            R"("completion_tokens_details":{"reasoning_tokens":16}})");
  const TokenUsage usage = translator->usage();
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 120u);
  EXPECT_EQ(usage.completion_tokens, 40u);
  EXPECT_EQ(usage.cached_prompt_tokens, 64u);
}

TEST(ResponsesBodyTest, OnlyToolCallsGiveNullContentAndIncompleteGivesLength) {
  auto tools = newResponsesTranslator(200, false, false);
  json::value answer = json::parse(run(*tools, {R"({"id":"r","status":"completed","output":[
    {"type":"function_call","call_id":"c","name":"f","arguments":""}]})"}));
  EXPECT_TRUE(answer.at("choices").at(0).at("message").at("content").is_null());
  EXPECT_EQ(answer.at("choices").at(0).at("message").at("tool_calls").at(0).at("function").at(
                "arguments"),
            "{}");
  for (const auto& [reason, finish] : {std::pair{"max_output_tokens", "length"},
                                       std::pair{"content_filter", "content_filter"}}) {
    auto incomplete = newResponsesTranslator(200, false, false);
    answer = json::parse(run(*incomplete, {R"({"id":"r","status":"incomplete",)"
                                           R"("incomplete_details":{"reason":")" +
                                               std::string(reason) +
                                               R"("},"output":[{"type":"message","content":[)"
                                               R"({"type":"output_text","text":"Hel"}]}]})"}));
    EXPECT_EQ(answer.at("choices").at(0).at("finish_reason"), finish);
    EXPECT_EQ(answer.at("choices").at(0).at("message").at("content"), "Hel");
  }
}

TEST(ResponsesBodyTest, AFailedResponseIsAnUpstreamErrorRetryableOnlyWhenTransient) {
  auto server = newResponsesTranslator(200, false, false);
  std::string chunk = R"({"id":"r","status":"failed","output":[],)"
                      R"("error":{"code":"server_error","message":"The model failed."}})";
  Status status = server->onChunk(chunk, true);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::UpstreamError);
  EXPECT_TRUE(status.error().retryable);
  EXPECT_EQ(status.error().message, "the responses backend failed the response (server_error)");

  auto prompt = newResponsesTranslator(200, false, false);
  chunk = R"({"id":"r","status":"failed","output":[],)"
          R"("error":{"code":"invalid prompt: <secret>","message":"x"}})";
  status = prompt->onChunk(chunk, true);
  ASSERT_FALSE(status);
  EXPECT_FALSE(status.error().retryable);
  EXPECT_EQ(status.error().message, "the responses backend failed the response (upstream_error)")
      << "an upstream code that is not a plain identifier is not repeated";
}

TEST(ResponsesBodyTest, AnUnreadableSuccessBodyIsAnUpstreamError) {
  auto translator = newResponsesTranslator(200, false, false);
  std::string chunk = "<html>";
  const Status status = translator->onChunk(chunk, true);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::UpstreamError);
}

TEST(ResponsesErrorTest, OpenAiErrorBodiesPassAndOthersBecomeOne) {
  const std::string upstream =
      R"({"error":{"message":"Rate limit reached","type":"requests","param":null,)"
      R"("code":"rate_limit_exceeded"}})";
  auto rate = newResponsesTranslator(429, false, false);
  EXPECT_EQ(run(*rate, {upstream}), upstream);
  auto gateway = newResponsesTranslator(502, true, false);
  EXPECT_EQ(run(*gateway, {"<html>bad gateway</html>"}),
            openAiErrorBody("the responses backend answered HTTP 502", 502, "upstream_error"));
}

TEST(ResponsesStreamTest, EveryEventTypeBecomesChatCompletionChunks) {
  const std::vector<std::string> out = events(stream({kStream}));
  ASSERT_EQ(out.size(), 12u);
  const json::value first = json::parse(out[0]);
  EXPECT_EQ(first.at("id"), "resp_1");
  EXPECT_EQ(first.at("model"), "gpt-5-2025-08-07");
  EXPECT_EQ(deltaOf(out[0]), R"({"role":"assistant","content":""})");
  EXPECT_EQ(deltaOf(out[1]), R"({"reasoning_content":"Think."})");
  EXPECT_EQ(deltaOf(out[2]), R"({"content":"Checking "})");
  EXPECT_EQ(deltaOf(out[3]), "{\"content\":\"\xC3\xA9t\xC3\xA9\"}");
  EXPECT_EQ(deltaOf(out[4]),
            R"({"tool_calls":[{"index":0,"id":"call_A","type":"function",)"
            R"("function":{"name":"get_weather","arguments":""}}]})");
  EXPECT_EQ(deltaOf(out[5]), R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})");
  EXPECT_EQ(deltaOf(out[6]), R"({"tool_calls":[{"index":0,"function":{"arguments":"\"Rome\"}"}}]})");
  EXPECT_EQ(deltaOf(out[7]),
            R"({"tool_calls":[{"index":1,"id":"call_B","type":"function",)"
            R"("function":{"name":"get_time","arguments":""}}]})");
  EXPECT_EQ(deltaOf(out[8]),
            R"({"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":\"UTC\"}"}}]})")
      << "arguments only in the done item are relayed once";
  EXPECT_EQ(deltaOf(out[9]), "{}");
  EXPECT_EQ(json::parse(out[9]).at("choices").at(0).at("finish_reason"), "tool_calls");
  const json::value usage = json::parse(out[10]);
  EXPECT_TRUE(usage.at("choices").as_array().empty());
  EXPECT_EQ(json::serialize(usage.at("usage")),
            R"({"prompt_tokens":120,"completion_tokens":40,"total_tokens":160,)"
            R"("prompt_tokens_details":{"cached_tokens":64},)"
            R"("completion_tokens_details":{"reasoning_tokens":16}})");
  EXPECT_EQ(out[11], "[DONE]");
}

TEST(ResponsesStreamTest, UsageIsReadFromTheFinalEventButRelayedOnlyOnRequest) {
  auto translator = newResponsesTranslator(200, true, /*client_wants_usage=*/false);
  const std::vector<std::string> out = events(run(*translator, {kStream}));
  ASSERT_EQ(out.size(), 11u);
  EXPECT_EQ(out[10], "[DONE]");
  const TokenUsage usage = translator->usage();
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 120u);
  EXPECT_EQ(usage.completion_tokens, 40u);
  EXPECT_EQ(usage.cached_prompt_tokens, 64u);
  EXPECT_EQ(usage.streamed_events, 6u);  // reasoning, two text and three argument deltas
}

TEST(ResponsesStreamTest, SplittingTheStreamAtAnyByteGivesTheSameOutput) {
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
  const std::string crlf = std::regex_replace(std::string(kStream), std::regex("\n"), "\r\n");
  EXPECT_EQ(withoutCreated(stream({crlf})), whole);
}

TEST(ResponsesStreamTest, NeverEmitsHalfAnEvent) {
  auto translator = newResponsesTranslator(200, true, true);
  const size_t second_event = kStream.find("event: response.in_progress");
  std::string chunk(kStream.substr(0, second_event - 1));
  ASSERT_TRUE(translator->onChunk(chunk, false));
  EXPECT_EQ(chunk, "");
  chunk = "\n";
  ASSERT_TRUE(translator->onChunk(chunk, false));
  EXPECT_EQ(events(chunk).size(), 1u);
}

TEST(ResponsesStreamTest, IncompleteEndsWithLengthAndRefusalsAreRelayed) {
  const std::string incomplete =
      "data: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"m\"}}\n\n"
      "data: {\"type\":\"response.refusal.delta\",\"output_index\":0,\"delta\":\"No.\"}\n\n"
      "data: {\"type\":\"response.incomplete\",\"response\":{\"id\":\"r\",\"status\":"
      "\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"usage\":{"
      "\"input_tokens\":3,\"output_tokens\":7}}}\n\n";
  const std::vector<std::string> out = events(stream({incomplete}, false));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(deltaOf(out[1]), R"({"refusal":"No."})");
  EXPECT_EQ(json::parse(out[2]).at("choices").at(0).at("finish_reason"), "length");
  EXPECT_EQ(out[3], "[DONE]");
}

TEST(ResponsesStreamTest, ErrorsAndFailedResponsesEndTheStreamWithAnOpenAiError) {
  const std::string head(kStream.substr(0, kStream.find("event: response.output_item.added")));
  const std::vector<std::string> failed = events(stream(
      {head + "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":"
              "\"resp_1\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":"
              "\"The model failed.\"}}}\n\n" + "data: {\"type\":\"response.output_text.delta\","
              "\"delta\":\"after\"}\n\n"}));
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[1], openAiErrorBody("The model failed.", 500, "server_error"));

  const std::vector<std::string> error = events(stream(
      {head + "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\","
              "\"message\":\"Slow down.\",\"param\":null,\"sequence_number\":2}\n\n"}));
  ASSERT_EQ(error.size(), 2u);
  EXPECT_EQ(error[1], openAiErrorBody("Slow down.", 429, "rate_limit_exceeded"));
}

TEST(ResponsesStreamTest, AStreamCutShortOrUnreadableEndsWithAnError) {
  const std::string head(kStream.substr(0, kStream.find("event: response.output_item.added")));
  std::vector<std::string> out = events(stream({head}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1], openAiErrorBody("the responses backend's stream ended before "
                                    "response.completed",
                                    502, "upstream_error"));
  out = events(stream({head + "data: {not json\n\n"}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1],
            openAiErrorBody("the responses backend sent an unreadable event", 502,
                            "upstream_error"));
  std::string big = "data: {\"type\":\"response.output_text.delta\",\"delta\":\"";
  big.append(2 << 20, 'a');
  big += "\"}\n\n";
  out = events(stream({head, big}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[1].find("larger than 1 MiB"), std::string::npos);
}

}  // namespace
}  // namespace sy::connectors
