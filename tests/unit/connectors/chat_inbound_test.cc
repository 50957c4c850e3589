// The chat-completions surface's field checks: a known field of the wrong kind or out of
// OpenAI's documented range is a 400 naming the field (never its value); what real clients send
// (nulls, stream_options, parallel_tool_calls, n: 1, ...) passes.
#include "connectors/chat_inbound.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace sy::connectors {
namespace {

namespace json = boost::json;

Status check(std::string_view fields) {
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"q"}])";
  body += fields.empty() ? "" : ",";
  body += fields;
  body += "}";
  return checkChatRequest(json::parse(body).as_object());
}

TEST(ChatInboundTest, AcceptsWhatRealClientsSend) {
  EXPECT_TRUE(check(""));
  EXPECT_TRUE(check(R"("temperature":null,"top_p":null,"n":1,"stream":true,
      "stream_options":{"include_usage":true},"parallel_tool_calls":false,"metadata":{"a":"b"},
      "reasoning_effort":"low","seed":42,"stop":["END","STOP"],"presence_penalty":-2,
      "frequency_penalty":2,"logprobs":true,"top_logprobs":20,"user":"u","store":false,
      "tool_choice":"auto","tools":[{"type":"function","function":{"name":"f"}}],
      "response_format":{"type":"json_object"},"max_tokens":null,"logit_bias":{"50256":-100})"));
  EXPECT_TRUE(check(R"("temperature":0,"top_p":1,"stop":"END","n":1.0)"));
  EXPECT_TRUE(check(R"("temperature":2,"tool_choice":{"type":"function","function":{"name":"f"}})"));
  const std::string roles = R"({"model":"m","messages":[{"role":"system","content":"s"},
      {"role":"developer","content":"d"},{"role":"user","content":"q"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function",
       "function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"},
      {"role":"function","name":"f","content":"r"}]})";
  EXPECT_TRUE(checkChatRequest(json::parse(roles).as_object()));
}

TEST(ChatInboundTest, RefusesAKnownFieldOfTheWrongKindOrRangeNamingItsPath) {
  struct Case {
    std::string_view fields;
    std::string_view message;
    std::string_view param;
    std::string_view code;
  };
  const Case cases[] = {
      {R"("temperature":"0.7")", "temperature: must be a number, not a string", "temperature",
       "invalid_type"},
      {R"("temperature":2.5)", "temperature: must be between 0 and 2", "temperature",
       "invalid_value"},
      {R"("top_p":1.5)", "top_p: must be between 0 and 1", "top_p", "invalid_value"},
      {R"("n":0)", "n: must be between 1 and 128", "n", "invalid_value"},
      {R"("n":1.5)", "n: must be an integer, not a number", "n", "invalid_type"},
      {R"("presence_penalty":-3)", "presence_penalty: must be between -2 and 2",
       "presence_penalty", "invalid_value"},
      {R"("frequency_penalty":true)", "frequency_penalty: must be a number, not a boolean",
       "frequency_penalty", "invalid_type"},
      {R"("seed":"42")", "seed: must be an integer, not a string", "seed", "invalid_type"},
      {R"("top_logprobs":21)", "top_logprobs: must be between 0 and 20", "top_logprobs",
       "invalid_value"},
      {R"("logprobs":"yes")", "logprobs: must be a boolean, not a string", "logprobs",
       "invalid_type"},
      {R"("stream":"yes")", "stream: must be a boolean, not a string", "stream", "invalid_type"},
      {R"("stop":5)", "stop: must be a string or an array of strings, not a number", "stop",
       "invalid_type"},
      {R"("stop":["a",1])", "stop: must be a string or an array of strings, not an array", "stop",
       "invalid_type"},
      {R"("stop":["a","b","c","d","e"])", "stop: at most 4 sequences", "stop", "invalid_value"},
      {R"("stream_options":true)", "stream_options: must be an object, not a boolean",
       "stream_options", "invalid_type"},
      {R"("stream_options":{"include_usage":"yes"})",
       "stream_options.include_usage: must be a boolean, not a string",
       "stream_options.include_usage", "invalid_type"},
      {R"("parallel_tool_calls":1)", "parallel_tool_calls: must be a boolean, not a number",
       "parallel_tool_calls", "invalid_type"},
      {R"("user":42)", "user: must be a string, not a number", "user", "invalid_type"},
      {R"("metadata":"secret-ish")", "metadata: must be an object, not a string", "metadata",
       "invalid_type"},
      {R"("tools":{"type":"function"})", "tools: must be an array, not an object", "tools",
       "invalid_type"},
      {R"("tools":["f"])", "tools[0]: must be an object, not a string", "tools[0]",
       "invalid_type"},
      {R"("tool_choice":"sometimes")", "tool_choice: must be none, auto, required or an object",
       "tool_choice", "invalid_value"},
      {R"("response_format":"json")", "response_format: must be an object, not a string",
       "response_format", "invalid_type"},
  };
  for (const Case& c : cases) {
    Status checked = check(c.fields);
    ASSERT_FALSE(checked) << c.fields;
    EXPECT_EQ(checked.error().message, c.message) << c.fields;
    EXPECT_EQ(checked.error().param, c.param) << c.fields;
    EXPECT_EQ(checked.error().code_id, c.code) << c.fields;
    EXPECT_EQ(toHttpStatus(checked.error()), 400u);
  }
}

TEST(ChatInboundTest, RefusesAnUnknownRoleOrANonObjectMessageWithoutEchoingIt) {
  Status role = checkChatRequest(
      json::parse(R"({"model":"m","messages":[{"role":"user","content":"q"},
          {"role":"jane.doe@example.com","content":"q"}]})")
          .as_object());
  ASSERT_FALSE(role);
  EXPECT_EQ(role.error().message,
            "messages[1].role: must be one of system, developer, user, assistant, tool or "
            "function");
  EXPECT_EQ(role.error().param, "messages[1].role");
  EXPECT_EQ(role.error().message.find("jane"), std::string::npos);

  Status message =
      checkChatRequest(json::parse(R"({"model":"m","messages":["hello"]})").as_object());
  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().message, "messages[0]: must be an object, not a string");
  EXPECT_EQ(message.error().param, "messages[0]");

  Status name = checkChatRequest(
      json::parse(R"({"model":"m","messages":[{"role":"user","content":"q","name":7}]})")
          .as_object());
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().param, "messages[0].name");
}

}  // namespace
}  // namespace sy::connectors
