// The Anthropic connector's request side: OpenAI chat-completions bodies in, Messages requests out.
// The response side is in anthropic_response_test.cc.
#include "connectors/anthropic.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sy::connectors {
namespace {

namespace json = boost::json;

BackendSpec backendOfKind(BackendKind kind) {
  BackendSpec spec;
  spec.kind = kind;
  return spec;
}

BackendSpec claudeBackend(std::string base_path = "") {
  BackendSpec spec;
  spec.name = "claude";
  spec.kind = BackendKind::Anthropic;
  spec.model = "claude-sonnet-4-5";
  spec.address = {true, "api.anthropic.com", 443, std::move(base_path)};
  spec.max_tokens = 2048;
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

// The Messages body built from an OpenAI body (parsed back), or the error.
Result<json::object> translate(std::string_view openai_body) {
  auto body = json::parse(openai_body).as_object();
  auto request = AnthropicConnector().buildRequest(Endpoint::ChatCompletions, body, claudeBackend(),
                                                   "sk-ant", "r1");
  if (!request) {
    return std::unexpected(request.error());
  }
  return json::parse(request->body).as_object();
}

json::object translated(std::string_view openai_body) {
  auto out = translate(openai_body);
  EXPECT_TRUE(out) << (out ? "" : out.error().message);
  return out ? *out : json::object{};
}

TEST(AnthropicRequestTest, SendsTheKeyAndVersionToTheMessagesPathWithoutRewritingTheBody) {
  const auto original =
      json::parse(R"({"model":"auto","messages":[{"role":"user","content":"hi"}]})").as_object();
  auto body = original;
  AnthropicConnector connector;
  auto request =
      connector.buildRequest(Endpoint::ChatCompletions, body, claudeBackend(), "sk-ant", "req-7");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->target, "/v1/messages");
  EXPECT_EQ(header(*request, "x-api-key"), "sk-ant");
  EXPECT_EQ(header(*request, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(header(*request, "content-type"), "application/json");
  EXPECT_EQ(header(*request, "authorization"), "<absent>");
  EXPECT_EQ(body, original) << "a fallback to an OpenAI backend needs the client's body";
  auto without_key =
      connector.buildRequest(Endpoint::ChatCompletions, body, claudeBackend("/anthropic"), "", "r");
  ASSERT_TRUE(without_key);
  EXPECT_EQ(header(*without_key, "x-api-key"), "<absent>");
  EXPECT_EQ(without_key->target, "/anthropic/v1/messages");
  EXPECT_EQ(anthropicTarget("/proxy/v1"), "/proxy/v1/messages");
}

TEST(AnthropicRequestTest, EmbeddingsAreRefusedWithAClear400) {
  auto body = json::parse(R"({"model":"x","input":"a"})").as_object();
  auto request =
      AnthropicConnector().buildRequest(Endpoint::Embeddings, body, claudeBackend(), "k", "r");
  ASSERT_FALSE(request);
  EXPECT_EQ(toHttpStatus(request.error()), 400u);
  EXPECT_EQ(request.error().code_id, "unsupported_capability");
  EXPECT_NE(request.error().message.find("embeddings"), std::string::npos);
}

TEST(AnthropicRequestTest, SystemAndDeveloperMessagesBecomeTheTopLevelSystemString) {
  auto out = translated(R"({"model":"m","messages":[
      {"role":"system","content":"You are terse."},
      {"role":"user","content":"hi"},
      {"role":"developer","content":[{"type":"text","text":"Answer in French."}]}]})");
  EXPECT_EQ(out["model"], "claude-sonnet-4-5");
  EXPECT_EQ(out["system"], "You are terse.\n\nAnswer in French.");
  EXPECT_EQ(json::serialize(out["messages"]),
            R"([{"role":"user","content":[{"type":"text","text":"hi"}]}])");
}

TEST(AnthropicRequestTest, SystemStaysBlocksInOrderWhenAPartCarriesCacheControl) {
  auto out = translated(R"({"model":"m","messages":[
      {"role":"system","content":[{"type":"text","text":"Long manual."},
                                  {"type":"text","text":"Cached part.",
                                   "cache_control":{"type":"ephemeral","ttl":"1h"}}]},
      {"role":"system","content":"Tail."},
      {"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]}]})");
  EXPECT_EQ(
      json::serialize(out["system"]),
      R"([{"type":"text","text":"Long manual."},)"
      R"({"type":"text","text":"Cached part.","cache_control":{"type":"ephemeral","ttl":"1h"}},)"
      R"({"type":"text","text":"Tail."}])");
  EXPECT_EQ(json::serialize(out["messages"].at(0).at("content")),
            R"([{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}])");
}

TEST(AnthropicRequestTest, ConsecutiveMessagesOfOneRoleAreMergedSoTurnsAlternate) {
  auto out = translated(R"({"model":"m","messages":[
      {"role":"user","content":"one"},{"role":"user","content":"two"},
      {"role":"assistant","content":"three"},{"role":"system","content":"s"},
      {"role":"assistant","content":[{"type":"text","text":"four"}]},
      {"role":"user","content":"five"}]})");
  EXPECT_EQ(
      json::serialize(out["messages"]),
      R"([{"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}]},)"
      R"({"role":"assistant","content":[{"type":"text","text":"three"},{"type":"text","text":"four"}]},)"
      R"({"role":"user","content":[{"type":"text","text":"five"}]}])");
}

TEST(AnthropicRequestTest, ToolCallsBecomeToolUseAndToolMessagesOneUserTurnOfResults) {
  auto out = translated(R"({"model":"m","messages":[
      {"role":"user","content":"Weather in Paris and Rome?"},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
        {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"18C"},
      {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"21C"}]},
      {"role":"user","content":"Thanks"}]})");
  const json::array& messages = out["messages"].as_array();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(json::serialize(messages[1]),
            R"({"role":"assistant","content":[)"
            R"({"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},)"
            R"({"type":"tool_use","id":"call_2","name":"get_weather","input":{"city":"Rome"}}]})");
  EXPECT_EQ(
      json::serialize(messages[2]),
      R"({"role":"user","content":[)"
      R"({"type":"tool_result","tool_use_id":"call_1","content":"18C"},)"
      R"({"type":"tool_result","tool_use_id":"call_2","content":[{"type":"text","text":"21C"}]},)"
      R"({"type":"text","text":"Thanks"}]})");
}

TEST(AnthropicRequestTest, ToolResultsComeFirstInTheirUserTurn) {
  auto out = translated(R"({"model":"m","messages":[
      {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":""}}]},
      {"role":"user","content":"also this"},
      {"role":"tool","tool_call_id":"c","content":"done"}]})");
  EXPECT_EQ(json::serialize(out["messages"].at(0).at("content")),
            R"([{"type":"tool_use","id":"c","name":"f","input":{}}])");
  EXPECT_EQ(json::serialize(out["messages"].at(1).at("content")),
            R"([{"type":"tool_result","tool_use_id":"c","content":"done"},)"
            R"({"type":"text","text":"also this"}])");
}

TEST(AnthropicRequestTest, ToolArgumentsThatAreNotAJsonObjectAre400NamingTheMessage) {
  for (const std::string_view arguments : {R"("{\"city\":")", R"("[1,2]")", R"("42")"}) {
    auto out = translate(std::string(R"({"model":"m","messages":[{"role":"user","content":"x"},
        {"role":"assistant","tool_calls":[{"id":"c","type":"function",
         "function":{"name":"f","arguments":)") +
                         std::string(arguments) + "}}]}]}");
    ASSERT_FALSE(out) << arguments;
    EXPECT_EQ(toHttpStatus(out.error()), 400u);
    EXPECT_EQ(out.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(out.error().message.rfind("messages[1].tool_calls[0].function.arguments: ", 0), 0u)
        << out.error().message;
  }
}

TEST(AnthropicRequestTest, DataUrlImagesBecomeBase64SourcesAndHttpUrlsUrlSources) {
  auto out = translated(R"({"model":"m","messages":[{"role":"user","content":[
      {"type":"text","text":"What is this?"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},
      {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]})");
  EXPECT_EQ(
      json::serialize(out["messages"].at(0).at("content")),
      R"([{"type":"text","text":"What is this?"},)"
      R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},)"
      R"({"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}])");
  auto bad = translate(R"({"model":"m","messages":[{"role":"user","content":[
      {"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("messages[0].content[0].image_url: ", 0), 0u);
  auto audio = translate(R"({"model":"m","messages":[{"role":"user","content":[
      {"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}]})");
  ASSERT_FALSE(audio);
  EXPECT_EQ(toHttpStatus(audio.error()), 400u);
}

TEST(AnthropicRequestTest, ToolsToolChoiceAndParallelToolCallsAreMapped) {
  const std::string tools = R"("tools":[{"type":"function","function":{"name":"get_weather",
      "description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
      {"type":"function","function":{"name":"now"}}])";
  auto out = translated(R"({"model":"m","messages":[{"role":"user","content":"x"}],)" + tools +
                        R"(,"parallel_tool_calls":false})");
  EXPECT_EQ(json::serialize(out["tools"]),
            R"([{"name":"get_weather","description":"Current weather","input_schema":)"
            R"({"type":"object","properties":{"city":{"type":"string"}}}},)"
            R"({"name":"now","input_schema":{"type":"object"}}])");
  EXPECT_EQ(json::serialize(out["tool_choice"]),
            R"({"type":"auto","disable_parallel_tool_use":true})");
  const std::pair<std::string_view, std::string_view> choices[] = {
      {R"("auto")", R"({"type":"auto"})"},
      {R"("none")", R"({"type":"none"})"},
      {R"("required")", R"({"type":"any"})"},
      {R"({"type":"function","function":{"name":"now"}})", R"({"type":"tool","name":"now"})"}};
  for (const auto& [choice, expected] : choices) {
    auto with_choice = translated(R"({"model":"m","messages":[{"role":"user","content":"x"}],)" +
                                  tools + R"(,"tool_choice":)" + std::string(choice) + "}");
    EXPECT_EQ(json::serialize(with_choice["tool_choice"]), expected) << choice;
  }
  auto other = translate(R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "tools":[{"type":"web_search"}]})");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message.rfind("tools[0]: ", 0), 0u);
}

TEST(AnthropicRequestTest, MaxTokensComesFromTheClientElseFromTheBackend) {
  const std::string messages = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_EQ(translated("{" + messages + "}")["max_tokens"], 2048);
  EXPECT_EQ(translated("{" + messages + R"(,"max_tokens":77})")["max_tokens"], 77);
  EXPECT_EQ(
      translated("{" + messages + R"(,"max_tokens":77,"max_completion_tokens":99})")["max_tokens"],
      99);
  auto zero = translate("{" + messages + R"(,"max_tokens":0})");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "max_tokens: must be a positive integer");
}

TEST(AnthropicRequestTest, SamplingStopStreamAndUserAreMappedAndOpenAiOnlyFieldsDropped) {
  auto out = translated(R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "temperature":0.3,"top_p":0.9,"top_k":40,"stop":"END","stream":true,
      "stream_options":{"include_usage":true},"user":"u-42","n":1,"seed":7,"logprobs":false,
      "top_logprobs":null,"frequency_penalty":0.5,"presence_penalty":0.1,"logit_bias":{"1":2},
      "store":false,"metadata":{"k":"v"},"service_tier":"auto","reasoning_effort":"low",
      "response_format":{"type":"text"},"prompt_cache_key":"k1","vendor_extra":1})");
  EXPECT_EQ(json::serialize(out),
            R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":)"
            R"([{"type":"text","text":"x"}]}],"max_tokens":2048,"stop_sequences":["END"],)"
            R"("temperature":3E-1,"top_p":9E-1,"top_k":40,"stream":true,)"
            R"("metadata":{"user_id":"u-42"}})");
  EXPECT_EQ(json::serialize(translated(R"({"messages":[{"role":"user","content":"x"}],
      "stop":["a","b"]})")["stop_sequences"]),
            R"(["a","b"])");
}

TEST(AnthropicRequestTest, FieldsThatWouldChangeTheAnswerAreRefusedWith400) {
  const std::string_view bodies[] = {
      R"("n":2)",
      R"("response_format":{"type":"json_object"})",
      R"("response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}})",
      R"("functions":[{"name":"f"}])",
      R"("audio":{"voice":"alloy","format":"wav"})",
      R"("modalities":["text","audio"])"};
  for (const std::string_view field : bodies) {
    auto out =
        translate(R"({"messages":[{"role":"user","content":"x"}],)" + std::string(field) + "}");
    ASSERT_FALSE(out) << field;
    EXPECT_EQ(toHttpStatus(out.error()), 400u) << field;
    EXPECT_EQ(out.error().code_id, "unsupported_parameter") << field;
    EXPECT_NE(out.error().message.find("anthropic"), std::string::npos) << field;
  }
}

TEST(AnthropicRequestTest, MalformedMessagesAre400NamingTheIndex) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"([])", "messages: must be a non-empty array"},
      {R"([{"role":"user","content":"x"},{"role":"function","content":"y"}])",
       "messages[1].role: 'function' is not supported"},
      {R"([{"role":"tool","content":"y"}])", "messages[0].tool_call_id: required"},
      {R"([{"role":"user","content":42}])", "messages[0].content: must be a string"},
      {R"([{"role":"system","content":[{"type":"image_url","image_url":"https://x/y.png"}]}])",
       "messages[0].content[0]: content part type 'image_url'"},
  };
  for (const auto& [messages, prefix] : cases) {
    auto out = translate(R"({"messages":)" + std::string(messages) + "}");
    ASSERT_FALSE(out) << messages;
    EXPECT_EQ(toHttpStatus(out.error()), 400u);
    EXPECT_EQ(out.error().message.rfind(prefix, 0), 0u) << out.error().message;
  }
}

// An Anthropic client's request passes through: the same body with the backend's model, the
// output cap and the thinking budget kept valid under it, and only the betas the gateway knows.
TEST(AnthropicNativeTest, PassesTheClientsBodyThroughWithTheBackendsModelAndCap) {
  const AnthropicConnector connector;
  EXPECT_TRUE(connector.speaks(Surface::Anthropic));
  EXPECT_FALSE(connector.speaks(Surface::OpenAi));
  json::object body = json::parse(R"({"model":"claude-x","max_tokens":8000,"top_k":3,
      "thinking":{"type":"enabled","budget_tokens":4000},"stream":true,
      "messages":[{"role":"user","content":"hi"}]})")
                          .as_object();
  NativeRequest native{.request_id = "r1",
                       .output_cap = 2000,
                       .beta = "interleaved-thinking-2025-05-14, files-api-2025-04-14,oauth-x",
                       .without_thinking = false};
  auto request = connector.buildNative(Surface::Anthropic, body, claudeBackend(), "sk-ant", native);
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->target, "/v1/messages");
  EXPECT_EQ(request->body, R"({"model":"claude-sonnet-4-5","max_tokens":2000,"top_k":3,)"
                           R"("thinking":{"type":"enabled","budget_tokens":1999},"stream":true,)"
                           R"("messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(header(*request, "anthropic-beta"), "interleaved-thinking-2025-05-14");
  EXPECT_EQ(header(*request, "x-api-key"), "sk-ant");
  EXPECT_EQ(header(*request, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(header(*request, "accept"), "text/event-stream");
  auto again = connector.buildNative(Surface::Anthropic, body, claudeBackend(), "sk-ant", native);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, request->body) << "idempotent: a retry sends the same";

  native.output_cap = 1000;  // no budget fits under it (Anthropic's least is 1024)
  json::object small = json::parse(R"({"model":"c","max_tokens":4000,
      "thinking":{"type":"enabled","budget_tokens":2000},"messages":[]})")
                           .as_object();
  auto capped = connector.buildNative(Surface::Anthropic, small, claudeBackend(), "", native);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->body,
            R"({"model":"claude-sonnet-4-5","max_tokens":1000,"thinking":{"type":"disabled"},)"
            R"("messages":[]})");
  EXPECT_EQ(header(*capped, "x-api-key"), "<absent>");
}

TEST(AnthropicNativeTest, WithoutThinkingLeavesOutThinkingBlocksAndTheSetting) {
  json::object body = json::parse(R"({"model":"c","max_tokens":100,
      "thinking":{"type":"enabled","budget_tokens":1024},"messages":[
      {"role":"user","content":"a"},
      {"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},
                                     {"type":"text","text":"b"}]},
      {"role":"assistant","content":[{"type":"redacted_thinking","data":"x"}]},
      {"role":"user","content":"c"}]})")
                          .as_object();
  auto request = AnthropicConnector().buildNative(
      Surface::Anthropic, body, claudeBackend(), "",
      {.request_id = "r", .output_cap = 0, .beta = "", .without_thinking = true});
  ASSERT_TRUE(request);
  EXPECT_EQ(
      request->body,
      R"({"model":"claude-sonnet-4-5","max_tokens":100,"messages":[)"
      R"({"role":"user","content":"a"},{"role":"assistant","content":[{"type":"text","text":"b"}]},)"
      R"({"role":"user","content":"c"}]})");
  EXPECT_TRUE(body.contains("thinking")) << "the client's body keeps its members (DLP positions)";
}

TEST(AnthropicNativeTest, OtherConnectorsDoNotSpeakTheAnthropicApi) {
  auto openai = makeConnector(backendOfKind(BackendKind::OpenAi));
  ASSERT_TRUE(openai);
  EXPECT_FALSE((*openai)->speaks(Surface::Anthropic));
  json::object body;
  EXPECT_FALSE((*openai)->buildNative(Surface::Anthropic, body, claudeBackend(), "", {}));
}

}  // namespace
}  // namespace sy::connectors
