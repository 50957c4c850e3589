// The OpenAI Responses surface, inbound: client requests into the canonical (OpenAI chat)
// request. Fixtures follow OpenAI's published Responses API shapes (the `openai` SDK's types).
#include "connectors/responses_inbound.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sy::connectors {
namespace {

namespace json = boost::json;

json::object decode(std::string_view text, const json::array* prior = nullptr) {
  auto decoded = responsesToChat(json::parse(text).as_object(), {}, prior);
  EXPECT_TRUE(decoded) << (decoded ? "" : decoded.error().message);
  return decoded ? *decoded : json::object{};
}

std::string messagesOf(std::string_view text) {
  return json::serialize(decode(text).at("messages"));
}

// The refusal's message; its param is checked to be `param`.
std::string decodeError(std::string_view text, std::string_view param = "") {
  auto decoded = responsesToChat(json::parse(text).as_object(), {});
  EXPECT_FALSE(decoded) << text;
  if (decoded) {
    return "";
  }
  EXPECT_EQ(decoded.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(toHttpStatus(decoded.error()), 400u);
  if (!param.empty()) {
    EXPECT_EQ(decoded.error().param, param) << decoded.error().message;
  }
  return decoded.error().message;
}

// Codex sends its sub-agent tools as a `namespace` tool; chat has no namespaces, so each
// function is declared as "<namespace>__<name>" with the namespace's description before its own,
// and an earlier call of one (a function_call naming its namespace) is named the same way.
TEST(ResponsesInboundTest, FlattensNamespaceToolsIntoPrefixedFunctions) {
  auto chat = decode(R"({"model":"m","input":[
      {"type":"function_call","call_id":"call_1","namespace":"agents","name":"spawn",
       "arguments":"{}"},
      {"type":"function_call_output","call_id":"call_1","output":"ok"}],
    "tools":[{"type":"function","name":"exec","parameters":{"type":"object"}},
      {"type":"namespace","name":"agents","description":"Sub-agents.","tools":[
        {"type":"function","name":"spawn","description":"Start one.",
         "parameters":{"type":"object"}},
        {"type":"function","name":"close"}]}]})");
  EXPECT_EQ(json::serialize(chat.at("tools")),
            R"([{"type":"function","function":{"name":"exec","parameters":{"type":"object"}}},)"
            R"({"type":"function","function":{"name":"agents__spawn","description":)"
            R"("Sub-agents.\n\nStart one.","parameters":{"type":"object"}}},)"
            R"({"type":"function","function":{"name":"agents__close","description":"Sub-agents."}}])");
  EXPECT_EQ(json::serialize(chat.at("messages")),
            R"([{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",)"
            R"("function":{"name":"agents__spawn","arguments":"{}"}}]},)"
            R"({"role":"tool","tool_call_id":"call_1","content":"ok"}])");
}

TEST(ResponsesInboundTest, RefusesMalformedNamespaceTools) {
  EXPECT_NE(decodeError(R"({"model":"m","input":"x","tools":[{"type":"namespace","name":"a",
      "tools":[{"type":"namespace","name":"b","tools":[]}]}]})",
                        "tools[0].tools[0]")
                .find("a namespace cannot hold a namespace"),
            std::string::npos);
  EXPECT_NE(decodeError(R"({"model":"m","input":"x","tools":[{"type":"namespace","name":"a",
      "tools":[{"type":"web_search"}]}]})",
                        "tools[0].tools[0]")
                .find("built-in tool"),
            std::string::npos);
  decodeError(R"({"model":"m","input":"x","tools":[{"type":"namespace","name":"a"}]})",
              "tools[0].tools");
  decodeError(R"({"model":"m","input":"x","tools":[{"type":"namespace","name":"a","tools":[],
      "extra":1}]})",
              "tools[0].extra");
  decodeError(R"({"model":"m","input":[{"type":"function_call","call_id":"c","namespace":3,
      "name":"f","arguments":"{}"}]})",
              "input[0].namespace");
}

TEST(ResponsesInboundTest, AStringInputIsOneUserMessageAfterTheInstructions) {
  auto chat = decode(R"({"model":"gpt-4o","instructions":"Be brief.","input":"hi"})");
  EXPECT_EQ(json::serialize(chat.at("messages")),
            R"([{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}])");
  EXPECT_EQ(chat.at("model").as_string(), "gpt-4o");
  EXPECT_FALSE(chat.contains("stream"));
}

TEST(ResponsesInboundTest, DecodesMessagesWithAndWithoutTheirItemType) {
  EXPECT_EQ(messagesOf(R"({"model":"m","input":[
      {"role":"developer","content":"Rules."},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"one "},
        {"type":"input_text","text":"two"}]},
      {"type":"message","id":"msg_1","status":"completed","role":"assistant",
        "content":[{"type":"output_text","text":"ok","annotations":[]}]},
      {"role":"system","content":[{"type":"input_text","text":"More rules."}]}]})"),
            R"([{"role":"system","content":"Rules."},{"role":"user","content":"one two"},)"
            R"({"role":"assistant","content":"ok"},{"role":"system","content":"More rules."}])");
}

TEST(ResponsesInboundTest, TurnsImagesAndInlineFilesIntoContentParts) {
  EXPECT_EQ(
      messagesOf(R"({"model":"m","input":[{"role":"user","content":[
      {"type":"input_text","text":"What is this?"},
      {"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"low"},
      {"type":"input_file","filename":"a.txt","file_data":"data:text/plain;base64,aGk="}]}]})"),
      R"([{"role":"user","content":[{"type":"text","text":"What is this?"},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}},)"
      R"({"type":"file","file":{"file_data":"data:text/plain;base64,aGk=","filename":"a.txt"}}]}])");
}

TEST(ResponsesInboundTest, TranslatesAFunctionCallRoundTrip) {
  auto chat = decode(R"({"model":"m",
      "tools":[{"type":"function","name":"get_weather","description":"Weather",
        "parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}],
      "tool_choice":{"type":"function","name":"get_weather"},"parallel_tool_calls":false,
      "input":[
        {"role":"user","content":"Weather in Paris and Rome?"},
        {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"think"}]},
        {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
        {"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather",
          "arguments":"{\"city\":\"Paris\"}","status":"completed"},
        {"type":"function_call","call_id":"call_2","name":"get_weather","arguments":"{\"city\":\"Rome\"}"},
        {"type":"function_call_output","call_id":"call_1","output":"18C"},
        {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"21"},
          {"type":"input_text","text":"C"}]}]})");
  EXPECT_EQ(json::serialize(chat.at("tools")),
            R"([{"type":"function","function":{"name":"get_weather","description":"Weather",)"
            R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}},)"
            R"("strict":true}}])");
  EXPECT_EQ(json::serialize(chat.at("tool_choice")),
            R"({"type":"function","function":{"name":"get_weather"}})");
  EXPECT_EQ(chat.at("parallel_tool_calls").as_bool(), false);
  EXPECT_EQ(
      json::serialize(chat.at("messages")),
      R"([{"role":"user","content":"Weather in Paris and Rome?"},)"
      R"({"role":"assistant","content":"Checking.","tool_calls":[)"
      R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},)"
      R"({"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"call_1","content":"18C"},)"
      R"({"role":"tool","tool_call_id":"call_2","content":"21C"}])");
}

TEST(ResponsesInboundTest, AFunctionCallAfterAToolOutputStartsANewAssistantTurn) {
  EXPECT_EQ(messagesOf(R"({"model":"m","input":[
      {"type":"function_call","call_id":"a","name":"f","arguments":"{}"},
      {"type":"function_call_output","call_id":"a","output":"1"},
      {"type":"function_call","call_id":"b","name":"f","arguments":"{}"}]})"),
            R"([{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function",)"
            R"("function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"a",)"
            R"("content":"1"},{"role":"assistant","content":null,"tool_calls":[{"id":"b",)"
            R"("type":"function","function":{"name":"f","arguments":"{}"}}]}])");
}

TEST(ResponsesInboundTest, MapsSettingsOntoTheCanonicalRequest) {
  auto chat = decode(R"({"model":"m","input":"q","max_output_tokens":300,"temperature":0.2,
      "top_p":0.9,"reasoning":{"effort":"high","summary":"auto"},"metadata":{"team":"x"},
      "user":"u1","service_tier":"flex","prompt_cache_key":"k","safety_identifier":"s",
      "stream":true,"store":true,"truncation":"auto","include":["reasoning.encrypted_content"],
      "client_metadata":{"x-codex-turn-metadata":"{}","root_turn_id":"t1"},
      "background":false,"max_tool_calls":3,"top_logprobs":0,
      "stream_options":{"include_obfuscation":false},"previous_response_id":null,
      "text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object"},
        "strict":true,"description":"d"},"verbosity":"low"}})");
  EXPECT_EQ(json::serialize(chat),
            R"({"model":"m","messages":[{"role":"user","content":"q"}],"verbosity":"low",)"
            R"("response_format":{"type":"json_schema","json_schema":{"name":"answer",)"
            R"("schema":{"type":"object"},"description":"d","strict":true}},)"
            R"("reasoning_effort":"high","temperature":2E-1,"top_p":9E-1,"max_tokens":300,)"
            R"("user":"u1","service_tier":"flex","prompt_cache_key":"k","safety_identifier":"s",)"
            R"("metadata":{"team":"x"},"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(
      json::serialize(decode(R"({"model":"m","input":"q","text":{"format":{"type":"json_object"}},
      "tool_choice":"required"})")),
      R"({"model":"m","messages":[{"role":"user","content":"q"}],)"
      R"("tool_choice":"required","response_format":{"type":"json_object"}})");
}

TEST(ResponsesInboundTest, PriorTurnsGoBeforeTheInputAndInstructionsStayFirst) {
  const json::array prior = json::parse(R"([
      {"role":"user","content":[{"type":"input_text","text":"first"}]},
      {"type":"function_call","id":"fc_1","call_id":"c1","name":"f","arguments":"{}","status":"completed"}])")
                                .as_array();
  auto chat = decode(R"({"model":"m","instructions":"I","previous_response_id":"resp_1",
      "input":[{"type":"function_call_output","call_id":"c1","output":"done"}]})",
                     &prior);
  EXPECT_EQ(json::serialize(chat.at("messages")),
            R"([{"role":"system","content":"I"},{"role":"user","content":"first"},)"
            R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
            R"("function":{"name":"f","arguments":"{}"}}]},)"
            R"({"role":"tool","tool_call_id":"c1","content":"done"}])");
}

TEST(ResponsesInboundTest, PreviousResponseIdWithoutAResponseStoreIsAClear400) {
  EXPECT_EQ(decodeError(R"({"model":"m","input":"q","previous_response_id":"resp_1"})",
                        "previous_response_id"),
            "previous_response_id requires the response store; it is not enabled by this "
            "gateway's policy");
  EXPECT_EQ(decodeError(R"({"model":"m","input":[{"type":"item_reference","id":"msg_1"}]})",
                        "input[0]"),
            "input[0]: item_reference items are not supported; send the item itself, or "
            "continue a stored conversation with previous_response_id");
}

TEST(ResponsesInboundTest, RefusesBuiltInToolsNamingThem) {
  for (std::string_view type :
       {"web_search_preview", "web_search_preview_2025_03_11", "file_search", "code_interpreter",
        "computer_use_preview", "mcp", "image_generation", "local_shell", "custom"}) {
    const std::string request =
        R"({"model":"m","input":"q","tools":[{"type":")" + std::string(type) + R"("}]})";
    EXPECT_EQ(decodeError(request, "tools[0]"),
              "tools[0]: the built-in tool '" + std::string(type) +
                  "' is not supported: the gateway passes built-in OpenAI tools through only when "
                  "its policy sets responses.builtin_tools: allow (and then only to OpenAI "
                  "Responses backends); declare function tools");
  }
  EXPECT_EQ(decodeError(R"({"model":"m","input":"q","tool_choice":{"type":"web_search_preview"}})",
                        "tool_choice"),
            "tool_choice: the built-in tool 'web_search_preview' is not supported: the gateway "
            "passes built-in OpenAI tools through only when its policy sets "
            "responses.builtin_tools: allow (and then only to OpenAI Responses backends); "
            "declare function tools");
}

TEST(ResponsesInboundTest, BuiltInToolsAllowedAreLeftOutOfTheCanonicalRequest) {
  const json::object request =
      json::parse(R"({"model":"m","input":"q","tools":[{"type":"web_search","search_context_size":"low"},)"
                  R"({"type":"function","name":"f","parameters":{"type":"object"}}],)"
                  R"("tool_choice":{"type":"web_search"}})")
          .as_object();
  EXPECT_TRUE(usesBuiltInTools(request));
  auto decoded = responsesToChat(request, {}, nullptr, {.builtin_tools = true});
  ASSERT_TRUE(decoded) << decoded.error().message;
  const json::array& tools = decoded->at("tools").as_array();
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools[0].at("function").at("name"), "f");
  EXPECT_FALSE(decoded->contains("tool_choice"));
  EXPECT_FALSE(usesBuiltInTools(json::parse(R"({"model":"m","input":"q","tools":[{"type":"function","name":"f"}]})")
                                    .as_object()));
}

TEST(ResponsesInboundTest, InlinePriorItemsPrependsTheStoredTurnsAndDropsTheId) {
  json::object request =
      json::parse(R"({"model":"m","input":"and now?","previous_response_id":"resp_1"})").as_object();
  const json::object unchanged = request;
  inlinePriorItems(request, nullptr);
  EXPECT_EQ(request, unchanged);
  const json::array prior =
      json::parse(R"([{"role":"user","content":"hi"},{"type":"message","role":"assistant",)"
                  R"("content":[{"type":"output_text","text":"hello"}]}])")
          .as_array();
  inlinePriorItems(request, &prior);
  EXPECT_FALSE(request.contains("previous_response_id"));
  EXPECT_EQ(json::serialize(request.at("input")),
            R"([{"role":"user","content":"hi"},{"type":"message","role":"assistant",)"
            R"("content":[{"type":"output_text","text":"hello"}]},{"role":"user","content":"and now?"}])");
  // What passes through decodes as the conversation the decoder saw with `prior`.
  auto inlined = responsesToChat(request, {});
  auto seen = responsesToChat(unchanged, {}, &prior);
  ASSERT_TRUE(inlined && seen);
  EXPECT_EQ(*inlined, *seen);
}

TEST(ResponsesInboundTest, RefusesWhatItDoesNotKnowInsteadOfPassingItOn) {
  struct Case {
    std::string_view request;
    std::string_view message;
    std::string_view param;
  };
  const Case cases[] = {
      {R"({"model":"m","input":"q","seed":1})", "request: unsupported field 'seed'", "seed"},
      {R"({"model":"m","input":"q","Secret-Key-123":1})",
       "request: unsupported field (a name that is not shown)", "request"},
      {R"({"model":"m"})", "input: must be a string or an array of input items", "input"},
      {R"({"model":"m","input":[{"type":"web_search_call","id":"ws_1"}]})",
       "input[0]: unsupported input item type 'web_search_call'", "input[0]"},
      {R"({"model":"m","input":[{"type":"computer_call_output","call_id":"c"}]})",
       "input[0]: unsupported input item type 'computer_call_output'", "input[0]"},
      {R"({"model":"m","input":[{"role":"user","content":"q","name":"x"}]})",
       "input[0]: unsupported field 'name'", "input[0].name"},
      {R"({"model":"m","input":[{"role":"tool","content":"q"}]})",
       "input[0].role: must be user, assistant, system or developer, not 'tool'", "input[0].role"},
      {R"({"model":"m","input":[{"role":"user","content":[{"type":"input_audio","data":"x"}]}]})",
       "input[0].content[0]: unsupported content part type 'input_audio'", "input[0].content[0]"},
      {R"({"model":"m","input":[{"role":"assistant","content":[{"type":"input_image","image_url":"u"}]}]})",
       "input[0].content[0]: assistant messages hold text parts only, not 'input_image'",
       "input[0].content[0]"},
      {R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]})",
       "input[0].content[0].file_id: files stored at OpenAI are not supported; send the image as "
       "image_url (a URL or a data URL)",
       "input[0].content[0].file_id"},
      {R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"file_1"}]}]})",
       "input[0].content[0]: only files sent inline (file_data) are supported",
       "input[0].content[0]"},
      {R"({"model":"m","input":[{"type":"function_call","call_id":"c","name":"f"}]})",
       "input[0].arguments: must be a string (missing)", "input[0].arguments"},
      {R"({"model":"m","input":[{"type":"function_call_output","call_id":"c",
          "output":[{"type":"input_image","image_url":"u"}]}]})",
       "input[0].output[0]: unsupported tool output part 'input_image' (only input_text)",
       "input[0].output[0]"},
      {R"({"model":"m","input":"q","tools":[{"type":"function","name":"f","extra":1}]})",
       "tools[0]: unsupported field 'extra'", "tools[0].extra"},
      {R"({"model":"m","input":"q","tools":[{"type":"hologram"}]})",
       "tools[0]: unsupported tool type 'hologram'", "tools[0]"},
      {R"({"model":"m","input":"q","tool_choice":"sometimes"})",
       "tool_choice: must be auto, none, required or a function", "tool_choice"},
      {R"({"model":"m","input":"q","tool_choice":{"type":"allowed_tools","mode":"auto"}})",
       "tool_choice: unsupported type 'allowed_tools' (use a function)", "tool_choice"},
      {R"({"model":"m","input":"q","text":{"format":{"type":"grammar"}}})",
       "text.format.type: must be text, json_object or json_schema", "text.format.type"},
      {R"({"model":"m","input":"q","text":{"format":{"type":"json_schema","name":"a"}}})",
       "text.format.schema: must be an object (a JSON schema)", "text.format.schema"},
      {R"({"model":"m","input":"q","reasoning":{"effort":"high","budget":5}})",
       "reasoning: unsupported field 'budget'", "reasoning.budget"},
      {R"({"model":"m","input":"q","metadata":{"a":1}})", "metadata: must be an object of strings",
       "metadata"},
      {R"({"model":"m","input":"q","client_metadata":{"turn":1}})",
       "client_metadata: must be an object of strings", "client_metadata"},
      {R"({"model":"m","input":"q","background":true})",
       "background: background responses are not supported", "background"},
      {R"({"model":"m","input":"q","include":["everything"]})",
       "include: unsupported value 'everything'", "include"},
      {R"({"model":"m","input":"q","truncation":"middle"})", "truncation: must be auto or disabled",
       "truncation"},
      {R"({"model":"m","input":"q","top_logprobs":5})",
       "top_logprobs: log probabilities are not supported", "top_logprobs"},
      {R"({"model":"m","input":"q","prompt":{"id":"pmpt_1"}})",
       "prompt: prompts and conversations stored at OpenAI are not supported", "prompt"},
      {R"({"model":"m","input":"q","conversation":"conv_1"})",
       "conversation: prompts and conversations stored at OpenAI are not supported",
       "conversation"},
      {R"({"model":"m","input":"q","instructions":["a"]})", "instructions: must be a string",
       "instructions"},
      {R"({"model":"m","input":"q","max_output_tokens":0})",
       "max_output_tokens: must be a positive integer", "max_output_tokens"},
      {R"({"model":"m","input":"q","temperature":"0.5"})",
       "temperature: must be a number, not a string", "temperature"},
      {R"({"model":"m","input":"q","temperature":2.5})", "temperature: must be between 0 and 2",
       "temperature"},
      {R"({"model":"m","input":"q","top_p":-0.1})", "top_p: must be between 0 and 1", "top_p"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(decodeError(c.request, c.param), c.message) << c.request;
  }
}

TEST(ResponsesInboundTest, EchoesTheSettingsAsSentWithTheApisDefaults) {
  const json::object echo =
      responsesEcho(json::parse(R"({"model":"m","input":"q","instructions":"I","temperature":0.5,
          "tools":[{"type":"function","name":"f","parameters":null,"strict":null}],
          "metadata":{"a":"b"},"store":true})")
                        .as_object(),
                    {});
  EXPECT_EQ(json::serialize(echo),
            R"({"instructions":"I","max_output_tokens":null,"metadata":{"a":"b"},)"
            R"("parallel_tool_calls":true,"previous_response_id":null,)"
            R"("reasoning":{"effort":null,"summary":null},"service_tier":"default",)"
            R"("store":false,"temperature":5E-1,"text":{"format":{"type":"text"}},)"
            R"("tool_choice":"auto","tools":[{"type":"function","name":"f","parameters":null,)"
            R"("strict":null}],"top_p":1E0,"truncation":"disabled","user":null})");
}


TEST(ResponsesInboundTest, AcceptsNullAndBoundarySamplingValues) {
  auto chat = decode(R"({"model":"m","input":"q","temperature":null,"top_p":1})");
  EXPECT_FALSE(chat.contains("temperature"));
  EXPECT_EQ(chat.at("top_p").as_int64(), 1);
  EXPECT_EQ(decode(R"({"model":"m","input":"q","temperature":2})").at("temperature").as_int64(), 2);
}

}  // namespace
}  // namespace sy::connectors
