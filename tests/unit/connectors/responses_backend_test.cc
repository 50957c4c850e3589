// The Responses backend translation: chat-completions bodies in, Responses requests out; recorded
// Responses answers, event streams and error bodies in (OpenAI's published formats), OpenAI chat
// completions, chunks and errors out. Also the OpenAI connector's choice of API per backend.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <regex>

#include "connectors/openai.h"
#include "connectors/responses_backend.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

json::object translate(std::string_view chat) {
  auto out = toResponsesRequest(json::parse(chat).as_object(), "gpt-5");
  EXPECT_TRUE(out) << (out ? "" : out.error().message);
  return out ? *out : json::object{};
}

Error refused(std::string_view chat) {
  auto out = toResponsesRequest(json::parse(chat).as_object(), "gpt-5");
  EXPECT_FALSE(out);
  return out ? Error{} : out.error();
}

TEST(ResponsesRequestTest, AToolRoundTripBecomesInputItemsWithInstructions) {
  const json::object out = translate(R"({
    "model": "auto", "stream": true, "max_completion_tokens": 300, "reasoning_effort": "low",
    "temperature": 0.2, "user": "u-1", "parallel_tool_calls": false,
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
      {"role": "user", "content": [{"type": "text", "text": "Weather in Rome?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO", "detail": "low"}}]},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "22C"},
      {"role": "assistant", "content": "It is 22C."},
      {"role": "user", "content": "Thanks"}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d",
      "parameters": {"type": "object"}, "strict": true}}],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}}
  })");
  EXPECT_EQ(json::serialize(out),
            R"({"model":"gpt-5","instructions":"Be brief.\n\nUse tools.","input":[)"
            R"({"type":"message","role":"user","content":[{"type":"input_text","text":"Weather in Rome?"},)"
            R"({"type":"input_image","image_url":"data:image/png;base64,iVBO","detail":"low"}]},)"
            R"({"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Rome\"}"},)"
            R"({"type":"function_call_output","call_id":"call_1","output":"22C"},)"
            R"({"type":"message","role":"assistant","content":"It is 22C."},)"
            R"({"type":"message","role":"user","content":"Thanks"}],)"
            R"("tools":[{"type":"function","name":"get_weather","description":"d",)"
            R"("parameters":{"type":"object"},"strict":true}],)"
            R"("tool_choice":{"type":"function","name":"get_weather"},"parallel_tool_calls":false,)"
            R"("max_output_tokens":300,"reasoning":{"effort":"low"},"temperature":2E-1,"user":"u-1",)"
            R"("stream":true,"store":false})");
}

TEST(ResponsesRequestTest, ResponseFormatBecomesTextFormat) {
  json::object out = translate(R"({"messages":[{"role":"user","content":"x"}],
    "response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object"},
    "strict":true}},"verbosity":"low","max_tokens":5})");
  EXPECT_EQ(json::serialize(out.at("text")),
            R"({"format":{"name":"w","schema":{"type":"object"},"strict":true,"type":"json_schema"},)"
            R"("verbosity":"low"})");
  EXPECT_EQ(out.at("max_output_tokens"), 5);
  out = translate(R"({"messages":[{"role":"user","content":"x"}],
    "response_format":{"type":"json_object"}})");
  EXPECT_EQ(json::serialize(out.at("text")), R"({"format":{"type":"json_object"}})");
}

TEST(ResponsesRequestTest, SystemMessagesAfterTheFirstTurnStayInPlaceAndStoreFollowsTheClient) {
  const json::object out = translate(R"({"store":true,"messages":[{"role":"user","content":"a"},
    {"role":"system","content":"late"}]})");
  EXPECT_FALSE(out.contains("instructions"));
  EXPECT_EQ(json::serialize(out.at("input").at(1)),
            R"({"type":"message","role":"system","content":"late"})");
  EXPECT_EQ(out.at("store"), true);
}

TEST(ResponsesRequestTest, FieldsWhoseMeaningCannotBeKeptAreRefusedByName) {
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"("n":2)", "n"},
           {R"("stop":["x"])", "stop"},
           {R"("logprobs":true)", "logprobs"},
           {R"("presence_penalty":0.5)", "presence_penalty"},
           {R"("logit_bias":{"1":2})", "logit_bias"},
           {R"("audio":{"voice":"alloy"})", "audio"},
           {R"("modalities":["text","audio"])", "modalities"},
           {R"("functions":[])", "functions"}}) {
    const Error error = refused(R"({"messages":[{"role":"user","content":"x"}],)" + body + "}");
    EXPECT_EQ(error.message, field + ": not supported by responses backends");
    EXPECT_EQ(error.code, ErrorCode::InvalidArgument);
    EXPECT_EQ(error.source, ErrorSource::Downstream);
  }
  // Neutral values of the same fields pass (and are dropped).
  const json::object out = translate(
      R"({"messages":[{"role":"user","content":"x"}],"n":1,"logprobs":false,)"
      R"("presence_penalty":0,"seed":7,"stream_options":{"include_usage":true}})");
  EXPECT_FALSE(out.contains("seed"));
  EXPECT_FALSE(out.contains("stream_options"));
}

TEST(ResponsesRequestTest, MalformedMessagesAreRefusedNamingTheirPlace) {
  EXPECT_EQ(refused(R"({"messages":[]})").message, "messages: must be a non-empty array");
  EXPECT_EQ(refused(R"({"messages":[{"role":"user","content":[{"type":"input_audio"}]}]})")
                .message,
            "messages[0].content[0]: content part type 'input_audio' is not supported by "
            "responses backends");
  EXPECT_EQ(refused(R"({"messages":[{"role":"assistant","tool_calls":[{"type":"function"}]}]})")
                .message,
            "messages[0].tool_calls[0]: a tool call needs an id and a function.name");
  EXPECT_EQ(refused(R"({"messages":[{"role":"tool","content":"x"}]})").message,
            "messages[0].tool_call_id: required for a tool message");
  EXPECT_EQ(refused(R"({"messages":[{"role":"function","content":"x"}]})").message,
            "messages[0].role: 'function' is not supported by responses backends (system, "
            "developer, user, assistant, tool)");
  EXPECT_EQ(refused(R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom"}]})")
                .message,
            "tools[0]: only function tools with a name are supported by responses backends");
}

BackendSpec responsesOnly() {
  BackendSpec spec;
  spec.name = "gpt";
  spec.model = "gpt-5";
  spec.address.base_path = "/v1";
  spec.apis = ServedApis{.chat_completions = false, .responses = true};
  return spec;
}

TEST(ResponsesConnectorTest, ABackendServingOnlyResponsesGetsAResponsesRequest) {
  const BackendSpec spec = responsesOnly();
  auto connector = makeConnector(spec);
  ASSERT_TRUE(connector);
  json::object body = json::parse(R"({"model":"auto","stream":true,
    "messages":[{"role":"user","content":"hi"}]})").as_object();
  auto request = (*connector)->buildRequest(Endpoint::ChatCompletions, body, spec, "sk-1", "rid");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->target, "/v1/responses");
  EXPECT_EQ(request->api, UpstreamApi::Responses);
  EXPECT_EQ(request->body,
            R"({"model":"gpt-5","input":[{"type":"message","role":"user","content":"hi"}],)"
            R"("stream":true,"store":false})");
  const std::vector<std::pair<std::string, std::string>> headers{
      {"content-type", "application/json"},
      {"accept", "text/event-stream"},
      {"x-request-id", "rid"},
      {"authorization", "Bearer sk-1"}};
  EXPECT_EQ(request->headers, headers);
  EXPECT_FALSE(body.contains("stream_options")) << "the canonical body is left as it was";
}

TEST(ResponsesConnectorTest, AResponsesClientsBodyPassesThroughWithModelCapAndNoStore) {
  BackendSpec spec;
  spec.name = "cloud";
  spec.model = "gpt-5";
  spec.apis = {.chat_completions = false, .responses = true};
  const OpenAiConnector connector(spec.apis);
  ASSERT_TRUE(connector.speaks(Surface::Responses));
  EXPECT_FALSE(connector.speaks(Surface::Anthropic));
  EXPECT_FALSE(OpenAiConnector().speaks(Surface::Responses));  // chat only: translated

  json::object body = json::parse(R"({"model":"auto","input":"hi","stream":true,
      "max_output_tokens":900,"metadata":{"k":"v"},"tools":[{"type":"web_search"}]})")
                          .as_object();
  const auto capTo = [](uint32_t cap, std::string_view request_id = "") {
    NativeRequest native;
    native.request_id = request_id;
    native.output_cap = cap;
    return native;
  };
  auto request = connector.buildNative(Surface::Responses, body, spec, "sk-up", capTo(500, "r1"));
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->target, "/v1/responses");
  EXPECT_EQ(request->api, UpstreamApi::Responses);
  EXPECT_EQ(json::parse(request->body),
            json::parse(R"({"model":"gpt-5","input":"hi","stream":true,"max_output_tokens":500,
                "metadata":{"k":"v"},"tools":[{"type":"web_search"}],"store":false})"));
  const auto has = [&](std::string_view name, std::string_view value) {
    for (const auto& [n, v] : request->headers) {
      if (n == name && v == value) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("accept", "text/event-stream"));
  EXPECT_TRUE(has("authorization", "Bearer sk-up"));
  EXPECT_TRUE(has("x-request-id", "r1"));
  // Idempotent; a cap above the client's own bound keeps it; no bound gets the cap.
  auto again = connector.buildNative(Surface::Responses, body, spec, "", capTo(800));
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body).at("max_output_tokens"), 500);
  json::object unbounded = json::parse(R"({"model":"m","input":"hi"})").as_object();
  auto capped = connector.buildNative(Surface::Responses, unbounded, spec, "", capTo(64));
  ASSERT_TRUE(capped);
  EXPECT_EQ(json::parse(capped->body).at("max_output_tokens"), 64);
  EXPECT_FALSE(json::parse(capped->body).as_object().contains("stream"));
}

TEST(ResponsesConnectorTest, ABackendServingChatKeepsChatAndEmbeddingsStayEmbeddings) {
  BackendSpec spec = responsesOnly();
  spec.apis.chat_completions = true;
  auto both = makeConnector(spec);
  json::object body = json::parse(R"({"messages":[{"role":"user","content":"hi"}]})").as_object();
  auto request = (*both)->buildRequest(Endpoint::ChatCompletions, body, spec, "", "rid");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->target, "/v1/chat/completions");
  EXPECT_EQ(request->api, UpstreamApi::Default);

  spec.apis.chat_completions = false;
  auto only = makeConnector(spec);
  json::object input = json::parse(R"({"input":"text"})").as_object();
  request = (*only)->buildRequest(Endpoint::Embeddings, input, spec, "", "rid");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->target, "/v1/embeddings");
}

TEST(ResponsesConnectorTest, AnUntranslatableRequestIsAClientError) {
  const BackendSpec spec = responsesOnly();
  auto connector = makeConnector(spec);
  json::object body = json::parse(R"({"messages":[{"role":"user","content":"x"}],"n":3})")
                          .as_object();
  auto request = (*connector)->buildRequest(Endpoint::ChatCompletions, body, spec, "", "rid");
  ASSERT_FALSE(request);
  EXPECT_EQ(toHttpStatus(request.error()), 400u);
}

}  // namespace
}  // namespace sy::connectors
