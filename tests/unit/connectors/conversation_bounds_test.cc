// The conversation bounds: messages, content parts and tools counted the same way on every
// surface (a Responses conversation's stored turns included), exactly at a bound passes, one
// more is a 400 naming the limit and the count in the surface's terms, never the content.
#include "connectors/conversation_bounds.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace sy::connectors {
namespace {

namespace json = boost::json;

ConversationSize measure(Surface surface, std::string_view body,
                         const json::array* prior = nullptr) {
  return measureConversation(surface, json::parse(body).as_object(), prior);
}

TEST(ConversationBoundsTest, CountsChatMessagesTheirPartsToolCallsAndTools) {
  const ConversationSize size = measure(Surface::OpenAi, R"({"model":"m","messages":[
      {"role":"system","content":"s"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"u"}}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}],
      "tools":[{"type":"function","function":{"name":"f"}}],"functions":[{"name":"g"}]})");
  EXPECT_EQ(size.messages, 3u);
  EXPECT_EQ(size.content_parts, 3u);
  EXPECT_EQ(size.tools, 2u);
}

TEST(ConversationBoundsTest, CountsAnthropicSystemBlocksAndToolResultBlocks) {
  const ConversationSize size = measure(Surface::Anthropic, R"({"model":"m","max_tokens":8,
      "system":[{"type":"text","text":"A"},{"type":"text","text":"B"}],
      "messages":[{"role":"user","content":"q"},
        {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t",
          "content":[{"type":"text","text":"r"},{"type":"text","text":"s"}]}]}],
      "tools":[{"name":"f","input_schema":{"type":"object"}}]})");
  EXPECT_EQ(size.messages, 3u);
  EXPECT_EQ(size.content_parts, 2u + 1u + 1u + 2u);
  EXPECT_EQ(size.tools, 1u);
}

TEST(ConversationBoundsTest, CountsResponsesItemsWithTheStoredConversationAndNamespaceTools) {
  const json::array prior = json::parse(R"([{"role":"user","content":"earlier"},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"a"}]}])")
                                .as_array();
  const ConversationSize size = measure(Surface::Responses, R"({"model":"m","input":[
      {"role":"user","content":[{"type":"input_text","text":"q"}]},
      {"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"r"}]}],
      "tools":[{"type":"namespace","name":"n","tools":[{"type":"function","name":"a"},
        {"type":"function","name":"b"}]}]})",
                                        &prior);
  EXPECT_EQ(size.messages, 4u);
  EXPECT_EQ(size.content_parts, 3u);
  EXPECT_EQ(size.tools, 3u);
  EXPECT_EQ(measure(Surface::Responses, R"({"model":"m","input":"q"})").messages, 1u);
}

TEST(ConversationBoundsTest, ValuesOfAnotherKindCountNothingForTheDecoderToRefuse) {
  const ConversationSize size =
      measure(Surface::OpenAi, R"({"model":"m","messages":"q","tools":7})");
  EXPECT_EQ(size.messages, 0u);
  EXPECT_EQ(size.tools, 0u);
}

TEST(ConversationBoundsTest, ExactlyAtEachBoundPassesAndOneMoreIsA400NamingLimitAndCount) {
  const ConversationBounds bounds{3, 5, 2};
  EXPECT_TRUE(checkConversation(Surface::OpenAi, {3, 5, 2}, bounds));

  Status messages = checkConversation(Surface::OpenAi, {4, 0, 0}, bounds);
  ASSERT_FALSE(messages);
  EXPECT_EQ(toHttpStatus(messages.error()), 400u);
  EXPECT_EQ(messages.error().code_id, "too_many_messages");
  EXPECT_EQ(messages.error().param, "messages");
  EXPECT_EQ(messages.error().message,
            "This request carries 4 messages, more than this gateway's limit of 3 "
            "(server.limits.max_messages).");

  Status items = checkConversation(Surface::Responses, {4, 0, 0}, bounds);
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().param, "input");
  EXPECT_EQ(items.error().message,
            "This request carries 4 input items, more than this gateway's limit of 3 "
            "(server.limits.max_messages).");

  Status parts = checkConversation(Surface::Anthropic, {1, 6, 0}, bounds);
  ASSERT_FALSE(parts);
  EXPECT_EQ(parts.error().code_id, "too_many_content_parts");
  EXPECT_EQ(parts.error().param, "messages");

  Status tools = checkConversation(Surface::Responses, {1, 1, 3}, bounds);
  ASSERT_FALSE(tools);
  EXPECT_EQ(tools.error().code_id, "too_many_tools");
  EXPECT_EQ(tools.error().param, "tools");
  EXPECT_EQ(tools.error().message,
            "This request carries 3 tools, more than this gateway's limit of 2 "
            "(server.limits.max_tools).");
}

// A chat body of `n` messages padded past kPrecheckMinBytes (the padding is one long string).
std::string bodyWith(std::string_view list_key, size_t n, std::string_view element) {
  std::string body = R"({"model":"m","pad":")" + std::string(kPrecheckMinBytes, 'x') + R"(",")" +
                     std::string(list_key) + R"(":[)";
  for (size_t i = 0; i < n; ++i) {
    body += i == 0 ? "" : ",";
    body += element;
  }
  return body + "]}";
}

// The event-parser precheck refuses what checkConversation would, before the body is built,
// and passes everything else (including what it does not count, and invalid JSON) on to it.
TEST(ConversationBoundsTest, PrecheckRefusesLongListsBeforeTheyAreParsed) {
  const ConversationBounds bounds{100, 1000, 10};
  const std::string message = R"({"role":"user","content":"a"})";
  EXPECT_TRUE(precheckConversation(Surface::OpenAi, bodyWith("messages", 100, message), bounds));
  Status refused = precheckConversation(Surface::OpenAi, bodyWith("messages", 101, message), bounds);
  ASSERT_FALSE(refused);
  EXPECT_EQ(toHttpStatus(refused.error()), 400u);
  EXPECT_EQ(refused.error().code_id, "too_many_messages");
  EXPECT_EQ(refused.error().param, "messages");
  EXPECT_EQ(refused.error().message,
            "This request carries more than 100 messages, over this gateway's limit of 100 "
            "(server.limits.max_messages).");
  EXPECT_FALSE(
      precheckConversation(Surface::Anthropic, bodyWith("messages", 5000, message), bounds));
  Status items = precheckConversation(Surface::Responses, bodyWith("input", 101, message), bounds);
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().param, "input");

  // Elements of any kind count, as in measureConversation; nested lists and other keys do not.
  EXPECT_FALSE(precheckConversation(Surface::OpenAi, bodyWith("messages", 101, "{}"), bounds));
  EXPECT_TRUE(precheckConversation(
      Surface::OpenAi, bodyWith("messages", 1, "[" + bodyWith("messages", 200, "{}") + "]"),
      bounds));
  EXPECT_TRUE(precheckConversation(Surface::OpenAi, bodyWith("other", 200, message), bounds));
  EXPECT_TRUE(precheckConversation(Surface::OpenAi, bodyWith("input", 200, message), bounds));
  // Small bodies and bodies with few objects are not read at all; invalid JSON is the parser's.
  EXPECT_TRUE(precheckConversation(Surface::OpenAi, R"({"messages":[{},{},{}]})",
                                   ConversationBounds{2, 2, 2}));
  std::string truncated = bodyWith("messages", 50, message);
  truncated.resize(truncated.size() - 3);
  EXPECT_TRUE(precheckConversation(Surface::OpenAi, truncated + std::string(100, '{'), bounds));
}

}  // namespace
}  // namespace sy::connectors
