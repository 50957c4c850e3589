// The OpenAI Responses surface, outbound: canonical answers (bodies, streams, in-band errors)
// into Responses objects and event streams, checked against the event shapes of OpenAI's
// published API (the `openai` SDK's ResponseStreamEvent types).
#include "connectors/responses_answer.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <regex>

#include "connectors/responses_inbound.h"
#include "connectors/sse.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

std::vector<SseEvent> events(std::string_view text) {
  SseParser parser;
  return parser.feed(text);
}

std::string encodeStream(std::string_view canonical, const json::object* echo = nullptr) {
  auto encoder = newResponsesEncoder(200, true, "gpt-x", echo);
  std::string chunk(canonical);
  EXPECT_TRUE(encoder->encode(chunk, true));
  return chunk;
}

// Ids are random: the same stream encoded twice differs only in them.
std::string withoutIds(std::string text) {
  static const std::regex kId("(resp|msg|fc|rs|call)_[0-9a-f]{24}");
  static const std::regex kCreated("\"created_at\":[0-9]+");
  text = std::regex_replace(text, kId, "$1_ID");
  return std::regex_replace(text, kCreated, "\"created_at\":0");
}

// Reasoning, text, then two tool calls whose argument deltas interleave, usage, finish.
constexpr std::string_view kChunks =
    "data: {\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"Think.\"}}]}\n\n"
    "data: {\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
    "data: {\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}"
    "\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
    "\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{"
    "\\\"b\\\":\"}}]}}]}"
    "\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}\n\n"
    "data: "
    "{\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
    "\"function\":{\"arguments\":\"2}\"}}]}}]}\n\n"
    "data: {\"id\":\"chatcmpl-7\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
    "\"tool_calls\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-7\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
    "\"completion_tokens\":4,\"total_tokens\":16,\"prompt_tokens_details\":{\"cached_tokens\":2},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\n"
    "data: [DONE]\n\n";

TEST(ResponsesAnswerTest, EncodesAStreamAsResponsesEventsInOrder) {
  const std::string stream = encodeStream(kChunks);
  std::vector<std::string> names;
  uint64_t sequence = 0;
  for (const SseEvent& event : events(stream)) {
    names.push_back(event.event);
    const json::value data = json::parse(event.data);
    EXPECT_EQ(data.at("type").as_string(), event.event);
    EXPECT_EQ(data.at("sequence_number").to_number<uint64_t>(), sequence++) << event.data;
  }
  const std::vector<std::string> expected = {
      "response.created",
      "response.in_progress",
      "response.output_item.added",  // reasoning
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.output_item.added",  // message
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",  // call_a
      "response.output_item.added",  // call_b
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
  };
  EXPECT_EQ(names, expected);
}

TEST(ResponsesAnswerTest, EveryEventHasTheApisFieldsAndStableIds) {
  const auto all = events(encodeStream(kChunks));
  std::map<std::string, std::string> ids;  // output_index -> item id
  std::string response_id;
  for (const SseEvent& event : all) {
    const json::object data = json::parse(event.data).as_object();
    if (const json::value* response = data.if_contains("response")) {
      const std::string id(response->at("id").as_string());
      EXPECT_TRUE(response_id.empty() || id == response_id) << "the response id changed";
      response_id = id;
    }
    if (const json::value* index = data.if_contains("output_index")) {
      const std::string item_id(data.contains("item") ? data.at("item").at("id").as_string()
                                                      : data.at("item_id").as_string());
      auto [at, fresh] = ids.emplace(json::serialize(*index), item_id);
      EXPECT_EQ(at->second, item_id) << "item " << at->first << " changed id in " << event.data;
    }
  }
  EXPECT_TRUE(response_id.starts_with("resp_"));
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_TRUE(ids["0"].starts_with("rs_"));
  EXPECT_TRUE(ids["1"].starts_with("msg_"));
  EXPECT_TRUE(ids["2"].starts_with("fc_"));
  EXPECT_TRUE(ids["3"].starts_with("fc_"));

  // One fixture per event type (ids and created_at normalized).
  std::map<std::string, std::string> first;
  for (const SseEvent& event : all) {
    first.emplace(event.event, withoutIds(event.data));
  }
  EXPECT_EQ(first["response.output_item.added"],
            R"({"type":"response.output_item.added","output_index":0,"item":{"id":"rs_ID",)"
            R"("type":"reasoning","summary":[]},"sequence_number":2})");
  EXPECT_EQ(first["response.reasoning_summary_part.added"],
            R"({"type":"response.reasoning_summary_part.added","item_id":"rs_ID","output_index":0,)"
            R"("summary_index":0,"part":{"type":"summary_text","text":""},"sequence_number":3})");
  EXPECT_EQ(first["response.reasoning_summary_text.delta"],
            R"({"type":"response.reasoning_summary_text.delta","item_id":"rs_ID","output_index":0,)"
            R"("summary_index":0,"delta":"Think.","sequence_number":4})");
  EXPECT_EQ(first["response.reasoning_summary_text.done"],
            R"({"type":"response.reasoning_summary_text.done","item_id":"rs_ID","output_index":0,)"
            R"("summary_index":0,"text":"Think.","sequence_number":5})");
  EXPECT_EQ(
      first["response.reasoning_summary_part.done"],
      R"({"type":"response.reasoning_summary_part.done","item_id":"rs_ID","output_index":0,)"
      R"("summary_index":0,"part":{"type":"summary_text","text":"Think."},"sequence_number":6})");
  EXPECT_EQ(first["response.output_item.done"],
            R"({"type":"response.output_item.done","output_index":0,"item":{"id":"rs_ID",)"
            R"("type":"reasoning","summary":[{"type":"summary_text","text":"Think."}]},)"
            R"("sequence_number":7})");
  EXPECT_EQ(first["response.content_part.added"],
            R"({"type":"response.content_part.added","item_id":"msg_ID","output_index":1,)"
            R"("content_index":0,"part":{"type":"output_text","annotations":[],"text":""},)"
            R"("sequence_number":9})");
  EXPECT_EQ(first["response.output_text.delta"],
            R"({"type":"response.output_text.delta","item_id":"msg_ID","output_index":1,)"
            R"("content_index":0,"delta":"Hel","sequence_number":10})");
  EXPECT_EQ(first["response.output_text.done"],
            R"({"type":"response.output_text.done","item_id":"msg_ID","output_index":1,)"
            R"("content_index":0,"text":"Hello","sequence_number":12})");
  EXPECT_EQ(first["response.content_part.done"],
            R"({"type":"response.content_part.done","item_id":"msg_ID","output_index":1,)"
            R"("content_index":0,"part":{"type":"output_text","annotations":[],"text":"Hello"},)"
            R"("sequence_number":13})");
  EXPECT_EQ(first["response.function_call_arguments.delta"],
            R"({"type":"response.function_call_arguments.delta","item_id":"fc_ID",)"
            R"("output_index":3,"delta":"{\"b\":","sequence_number":17})");
  EXPECT_EQ(first["response.function_call_arguments.done"],
            R"({"type":"response.function_call_arguments.done","item_id":"fc_ID",)"
            R"("output_index":2,"arguments":"{\"a\":1}","sequence_number":20})");
  EXPECT_EQ(withoutIds(all[14].data),
            R"({"type":"response.output_item.done","output_index":1,"item":{"id":"msg_ID",)"
            R"("type":"message","status":"completed","role":"assistant","content":[{"type":)"
            R"("output_text","annotations":[],"text":"Hello"}]},"sequence_number":14})");
  EXPECT_EQ(withoutIds(all[15].data),
            R"({"type":"response.output_item.added","output_index":2,"item":{"id":"fc_ID",)"
            R"("type":"function_call","status":"in_progress","arguments":"","call_id":"call_a",)"
            R"("name":"f"},"sequence_number":15})");
  EXPECT_EQ(withoutIds(all[23].data),
            R"({"type":"response.output_item.done","output_index":3,"item":{"id":"fc_ID",)"
            R"("type":"function_call","status":"completed","arguments":"{\"b\":2}",)"
            R"("call_id":"call_b","name":"g"},"sequence_number":23})");
}

TEST(ResponsesAnswerTest, TheStreamOpensAndClosesWithTheWholeResponse) {
  const json::object echo =
      responsesEcho(json::parse(R"({"instructions":"I","temperature":0.5})").as_object(), {});
  const auto all = events(encodeStream(kChunks, &echo));
  const json::value created = json::parse(all[0].data).at("response");
  EXPECT_EQ(withoutIds(json::serialize(created)),
            R"({"id":"resp_ID","object":"response","created_at":0,"status":"in_progress",)"
            R"("background":false,"error":null,"incomplete_details":null,"model":"gpt-x",)"
            R"("output":[],"usage":null,"instructions":"I","max_output_tokens":null,)"
            R"("metadata":{},"parallel_tool_calls":true,"previous_response_id":null,)"
            R"("reasoning":{"effort":null,"summary":null},"service_tier":"default",)"
            R"("store":false,"temperature":5E-1,"text":{"format":{"type":"text"}},)"
            R"("tool_choice":"auto","tools":[],"top_p":1E0,"truncation":"disabled","user":null})");
  const json::value completed = json::parse(all.back().data).at("response");
  EXPECT_EQ(completed.at("status").as_string(), "completed");
  EXPECT_EQ(completed.at("id"), created.at("id"));
  EXPECT_EQ(json::serialize(completed.at("usage")),
            R"({"input_tokens":12,"input_tokens_details":{"cached_tokens":2},"output_tokens":4,)"
            R"("output_tokens_details":{"reasoning_tokens":1},"total_tokens":16})");
  const json::array& output = completed.at("output").as_array();
  ASSERT_EQ(output.size(), 4u);
  EXPECT_EQ(output[1].at("content").at(0).at("text").as_string(), "Hello");
  EXPECT_EQ(output[2].at("arguments").as_string(), "{\"a\":1}");
  EXPECT_EQ(output[3].at("arguments").as_string(), "{\"b\":2}");
  EXPECT_EQ(output[3].at("status").as_string(), "completed");
}

TEST(ResponsesAnswerTest, GivesTheSameEventsWhereverTheCanonicalStreamIsSplit) {
  const std::string expected = withoutIds(encodeStream(kChunks));
  for (size_t split = 1; split < kChunks.size(); ++split) {
    auto encoder = newResponsesEncoder(200, true, "gpt-x", nullptr);
    std::string first(kChunks.substr(0, split));
    std::string second(kChunks.substr(split));
    ASSERT_TRUE(encoder->encode(first, false));
    ASSERT_TRUE(encoder->encode(second, true));
    ASSERT_EQ(withoutIds(first + second), expected) << "split at " << split;
  }
}

TEST(ResponsesAnswerTest, AnAnswerCutAtTheOutputCapIsIncomplete) {
  const std::string stream = encodeStream(
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}"
      "\n\ndata: [DONE]\n\n");
  const auto all = events(stream);
  EXPECT_EQ(all.back().event, "response.incomplete");
  const json::value response = json::parse(all.back().data).at("response");
  EXPECT_EQ(response.at("status").as_string(), "incomplete");
  EXPECT_EQ(json::serialize(response.at("incomplete_details")),
            R"({"reason":"max_output_tokens"})");
  EXPECT_EQ(response.at("output").at(0).at("status").as_string(), "incomplete");
  EXPECT_EQ(json::parse(all[all.size() - 2].data).at("item").at("status").as_string(),
            "incomplete");
}

TEST(ResponsesAnswerTest, AStreamCutShortIsClosedAsItStands) {
  auto encoder = newResponsesEncoder(200, true, "m", nullptr);
  std::string chunk =
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n";
  ASSERT_TRUE(encoder->encode(chunk, false));
  EXPECT_EQ(events(chunk).back().event, "response.output_text.delta");
  std::string rest;
  ASSERT_TRUE(encoder->encode(rest, true));
  std::vector<std::string> names;
  for (const SseEvent& event : events(rest)) {
    names.push_back(event.event);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.completed"}));
}

TEST(ResponsesAnswerTest, AnInBandErrorFailsTheResponse) {
  const std::string stream = encodeStream(
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: {\"error\":{\"message\":\"backend 'a' broke off the stream\","
      "\"type\":\"upstream_error\"}}\n\n");
  const auto all = events(stream);
  EXPECT_EQ(all.back().event, "response.failed");
  const json::value response = json::parse(all.back().data).at("response");
  EXPECT_EQ(response.at("status").as_string(), "failed");
  EXPECT_EQ(json::serialize(response.at("error")),
            R"({"code":"server_error","message":"backend 'a' broke off the stream"})");
  EXPECT_EQ(response.at("output").at(0).at("status").as_string(), "incomplete");
  EXPECT_EQ(json::parse(all.back().data).at("sequence_number").as_int64(),
            static_cast<int64_t>(all.size() - 1));
}

TEST(ResponsesAnswerTest, StreamsARefusalAsARefusalPart) {
  const auto all = events(encodeStream(
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"No.\"}}]}\n\n"
      "data: [DONE]\n\n"));
  std::vector<std::string> names;
  for (const SseEvent& event : all) {
    names.push_back(event.event);
  }
  EXPECT_EQ(names[4], "response.refusal.delta");
  EXPECT_EQ(names[5], "response.refusal.done");
  EXPECT_EQ(json::serialize(json::parse(all[6].data).at("part")),
            R"({"type":"refusal","refusal":"No."})");
}

TEST(ResponsesAnswerTest, StreamedTextSurvivesEscapingByteForByte) {
  const std::string text =
      "quote \" backslash \\ newline \n tab \t bell \x07 \xc3\xa9 \xf0\x9f\x99\x82 </script>";
  json::object chunk{
      {"id", "c"},
      {"choices", json::array{json::object{{"index", 0}, {"delta", {{"content", text}}}}}}};
  const std::string stream =
      encodeStream("data: " + json::serialize(chunk) + "\n\ndata: [DONE]\n\n");
  std::string seen;
  for (const SseEvent& event : events(stream)) {
    if (event.event == "response.output_text.delta") {
      seen += json::parse(event.data).at("delta").as_string();
    }
  }
  EXPECT_EQ(seen, text);
}

TEST(ResponsesAnswerTest, EncodesACompletionAsAResponse) {
  auto encoder = newResponsesEncoder(200, false, "gpt-x", nullptr);
  std::string body =
      R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{)"
      R"("role":"assistant","content":"Hi","reasoning_content":"Hm.","tool_calls":[{"id":"call_1",)"
      R"("type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],)"
      R"("usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})";
  std::string first = body.substr(0, 20);
  std::string rest = body.substr(20);
  ASSERT_TRUE(encoder->encode(first, false));
  EXPECT_EQ(first, "");
  ASSERT_TRUE(encoder->encode(rest, true));
  EXPECT_EQ(
      withoutIds(rest),
      R"({"id":"resp_ID","object":"response","created_at":0,"status":"completed",)"
      R"("background":false,"error":null,"incomplete_details":null,"model":"gpt-x","output":[)"
      R"({"id":"rs_ID","type":"reasoning","summary":[{"type":"summary_text","text":"Hm."}]},)"
      R"({"id":"msg_ID","type":"message","status":"completed","role":"assistant","content":[)"
      R"({"type":"output_text","text":"Hi","annotations":[]}]},)"
      R"({"id":"fc_ID","type":"function_call","status":"completed","arguments":"{}",)"
      R"("call_id":"call_1","name":"f"}],"usage":{"input_tokens":5,"input_tokens_details":)"
      R"({"cached_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},)"
      R"("total_tokens":8},"instructions":null,"max_output_tokens":null,"metadata":{},)"
      R"("parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,)"
      R"("summary":null},"service_tier":"default","store":false,"temperature":1E0,"text":)"
      R"({"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1E0,)"
      R"("truncation":"disabled","user":null})");
}

// A call of "<namespace>__<name>" goes back to the client as the namespaced function it
// declared (responses_params.h); a name the request did not declare so stays as it is.
TEST(ResponsesAnswerTest, NamespacedCallsGoBackWithTheirNamespace) {
  const json::object echo = responsesEcho(
      json::parse(R"({"model":"m","input":"x","tools":[{"type":"namespace","name":"agents",
          "tools":[{"type":"function","name":"spawn"}]}]})")
          .as_object(),
      {});
  std::string body =
      R"({"id":"c","object":"chat.completion","choices":[{"index":0,"message":{)"
      R"("role":"assistant","content":null,"tool_calls":[)"
      R"({"id":"call_1","type":"function","function":{"name":"agents__spawn","arguments":"{}"}},)"
      R"({"id":"call_2","type":"function","function":{"name":"agents__other","arguments":"{}"}}]},)"
      R"("finish_reason":"tool_calls"}]})";
  auto encoder = newResponsesEncoder(200, false, "gpt-x", &echo);
  ASSERT_TRUE(encoder->encode(body, true));
  const json::value response = json::parse(body);
  const json::array& output = response.at("output").as_array();
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[0].at("namespace").as_string(), "agents");
  EXPECT_EQ(output[0].at("name").as_string(), "spawn");
  EXPECT_FALSE(output[1].as_object().contains("namespace"));
  EXPECT_EQ(output[1].at("name").as_string(), "agents__other");

  const std::string stream = encodeStream(
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
      "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"agents__spawn\","
      "\"arguments\":\"{}\"}}]}}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
      "\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
      &echo);
  size_t items = 0;
  for (const SseEvent& event : events(stream)) {
    if (event.event == "response.output_item.added" || event.event == "response.output_item.done") {
      const json::value data = json::parse(event.data);
      const json::object& item = data.at("item").as_object();
      EXPECT_EQ(item.at("namespace").as_string(), "agents") << event.data;
      EXPECT_EQ(item.at("name").as_string(), "spawn") << event.data;
      ++items;
    }
  }
  EXPECT_EQ(items, 2u);
}

TEST(ResponsesAnswerTest, ALengthFinishIsAnIncompleteResponse) {
  const json::value response = json::parse(chatCompletionToResponse(
      R"({"choices":[{"message":{"role":"assistant","content":"Hi"},"finish_reason":"length"}]})",
      "m", nullptr));
  EXPECT_EQ(response.at("status").as_string(), "incomplete");
  EXPECT_EQ(response.at("incomplete_details").at("reason").as_string(), "max_output_tokens");
  EXPECT_EQ(response.at("output").at(0).at("status").as_string(), "incomplete");
}

// The final-response hook (surface.h): called once with the response object the client is about
// to receive, which it may amend, for bodies and for each way a stream ends.
std::vector<json::object> finalResponses(bool event_stream, std::string canonical,
                                         std::string& out) {
  auto encoder = newResponsesEncoder(200, event_stream, "m", nullptr);
  std::vector<json::object> seen;
  encoder->setFinalResponseHook([&seen](json::object& response) {
    seen.push_back(response);
    response["store"] = true;  // the amendment the client must see
  });
  out = std::move(canonical);
  EXPECT_TRUE(encoder->encode(out, true));
  return seen;
}

TEST(ResponsesAnswerTest, TheFinalResponseHookSeesAndAmendsTheBodyTheClientGets) {
  std::string body;
  const auto seen = finalResponses(
      false,
      R"({"choices":[{"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]})",
      body);
  ASSERT_EQ(seen.size(), 1u);
  json::object sent = json::parse(body).as_object();
  EXPECT_EQ(sent.at("store"), true);
  sent["store"] = false;
  EXPECT_EQ(sent, seen[0]) << "the hook saw the response exactly as sent, but for its amendment";
  EXPECT_EQ(seen[0].at("status").as_string(), "completed");

  std::string unreadable;
  EXPECT_TRUE(finalResponses(false, "not a completion", unreadable).empty());
  EXPECT_NE(unreadable.find("upstream_error"), std::string::npos);
}

TEST(ResponsesAnswerTest, TheFinalResponseHookSeesTheStreamsLastResponseOnly) {
  std::string stream;
  auto seen = finalResponses(true, std::string(kChunks), stream);
  ASSERT_EQ(seen.size(), 1u);
  const auto all = events(stream);
  EXPECT_EQ(all.back().event, "response.completed");
  const json::value completed = json::parse(all.back().data).at("response");
  EXPECT_EQ(completed.at("store"), true);
  EXPECT_EQ(json::parse(all[0].data).at("response").at("store"), false)
      << "response.created is written before the answer's end";
  EXPECT_EQ(completed.at("output"), seen[0].at("output"));
  EXPECT_EQ(completed.at("id"), seen[0].at("id"));

  seen = finalResponses(
      true,
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: {\"error\":{\"message\":\"broke\",\"type\":\"upstream_error\"}}\n\n",
      stream);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].at("status").as_string(), "failed");
  EXPECT_EQ(events(stream).back().event, "response.failed");
}

TEST(ResponsesAnswerTest, ErrorsKeepOpenAisShape) {
  EXPECT_EQ(newResponsesEncoder(429, false, "m", nullptr), nullptr);
  EXPECT_EQ(newResponsesEncoder(500, true, "m", nullptr), nullptr);
  EXPECT_EQ(chatCompletionToResponse("not json", "m", nullptr),
            R"({"error":{"message":"The upstream answer could not be read.","type":)"
            R"("upstream_error","param":null,"code":"upstream_error"}})");
  Error error{ErrorCode::InvalidArgument, ErrorSource::Downstream, "previous_response_id: no",
              false, "invalid_request_error"};
  error.param = "previous_response_id";
  EXPECT_EQ(errorBody(Surface::Responses, error),
            R"({"error":{"message":"previous_response_id: no","type":"invalid_request_error",)"
            R"("param":"previous_response_id","code":"invalid_request_error"}})");
  EXPECT_EQ(streamErrorEvent(Surface::Responses, error),
            "event: error\ndata: {\"type\":\"error\",\"code\":\"invalid_request_error\","
            "\"message\":\"previous_response_id: no\",\"param\":\"previous_response_id\","
            "\"sequence_number\":0}\n\n");
  EXPECT_EQ(toString(Surface::Responses), "responses");
}

}  // namespace
}  // namespace sy::connectors
