// Response DLP in the client's format: pseudonyms restored and findings redacted in whole
// chat.completion bodies and in SSE streams, with values split across events still handled,
// held text flushed into the finish event (or a synthetic one), and everything else byte-exact.
#include "gateway/server/pipeline/response_dlp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/unit/policies/test_support.h"

namespace sy::server {
namespace {

namespace json = boost::json;
using policies::DlpActionRuleSpec;
using policies::PolicyAction;
using policies::Pseudonymizer;

const policies::DlpEngine& engine() {
  static const auto instance = policies::testing::makeEngine(policies::DlpConfig{});
  return *instance;
}

const policies::DlpPolicy& policy() {
  static const policies::DlpPolicy instance = [] {
    policies::DlpPolicySpec spec;
    spec.response_rules = {
        DlpActionRuleSpec{"emails", {"email"}, "", std::nullopt, PolicyAction::Redact},
        DlpActionRuleSpec{"cards", {"credit_card"}, "", std::nullopt, PolicyAction::Mask},
        DlpActionRuleSpec{"secrets", {"secrets"}, "", std::nullopt, PolicyAction::Redact},
    };
    auto created = policies::DlpPolicy::create(std::move(spec), engine());
    EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().message);
    return std::move(*created);
  }();
  return instance;
}

std::string githubToken() {
  return "ghp_" + policies::testing::fakeToken(policies::testing::kAlnum, 36, 50);
}

// --- building upstream events -----------------------------------------------------------------

json::object chunkObject(json::array choices) {
  return json::object{{"id", "chatcmpl-7"},
                      {"object", "chat.completion.chunk"},
                      {"created", 1700000000},
                      {"model", "gpt-test"},
                      {"choices", std::move(choices)}};
}

std::string event(const json::object& chunk) { return "data: " + json::serialize(chunk) + "\n\n"; }

// One choice's delta {field: text}, with an optional finish_reason.
std::string deltaEvent(std::string_view field, std::string_view text, int64_t index = 0,
                       const char* finish = nullptr) {
  json::object delta{{field, text}};
  json::object choice{{"index", index}, {"delta", std::move(delta)}, {"logprobs", nullptr}};
  choice["finish_reason"] = finish != nullptr ? json::value(finish) : json::value(nullptr);
  return event(chunkObject(json::array{std::move(choice)}));
}

std::string contentEvent(std::string_view text, int64_t index = 0) {
  return deltaEvent("content", text, index);
}

std::string finishEvent(const char* reason = "stop", int64_t index = 0) {
  json::object choice{{"index", index}, {"delta", json::object{}}, {"finish_reason", reason}};
  return event(chunkObject(json::array{std::move(choice)}));
}

std::string toolEvent(int64_t tool, std::string_view arguments, bool first = false) {
  json::object function{{"arguments", arguments}};
  json::object call{{"index", tool}};
  if (first) {
    call["id"] = "call_" + std::to_string(tool);
    call["type"] = "function";
    function = json::object{{"name", "send_mail"}, {"arguments", arguments}};
  }
  call["function"] = std::move(function);
  json::object delta{{"tool_calls", json::array{std::move(call)}}};
  json::object choice{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", nullptr}};
  return event(chunkObject(json::array{std::move(choice)}));
}

const std::string kDone = "data: [DONE]\n\n";

// Feeds each event as its own chunk (the last with end=true) and returns what goes out.
std::vector<std::string> run(ResponseDlp& dlp, const std::vector<std::string>& events) {
  std::vector<std::string> out;
  for (size_t i = 0; i < events.size(); ++i) {
    std::string chunk = events[i];
    dlp.rewriteEvents(chunk, i + 1 == events.size());
    out.push_back(std::move(chunk));
  }
  return out;
}

std::string concat(const std::vector<std::string>& parts) {
  std::string all;
  for (const auto& part : parts) {
    all += part;
  }
  return all;
}

// --- reading what the client gets -------------------------------------------------------------

struct Client {
  std::map<int64_t, std::string> content;
  std::map<int64_t, std::string> refusal;
  std::map<std::pair<int64_t, int64_t>, std::string> arguments;  // (choice, tool call)
  std::vector<std::string> data;                                 // every event's data
  std::vector<json::object> chunks;                              // the JSON ones
  bool done = false;
};

Client read(std::string_view stream) {
  Client client;
  size_t pos = 0;
  while (pos < stream.size()) {
    size_t end = stream.find("\n\n", pos);
    EXPECT_NE(end, std::string_view::npos) << "unterminated event at " << pos;
    if (end == std::string_view::npos) {
      break;
    }
    std::string_view ev = stream.substr(pos, end - pos);
    pos = end + 2;
    if (!ev.starts_with("data: ")) {
      continue;
    }
    std::string_view data = ev.substr(6);
    client.data.emplace_back(data);
    if (data == "[DONE]") {
      client.done = true;
      continue;
    }
    EXPECT_FALSE(client.done) << "event after [DONE]";
    boost::system::error_code ec;
    json::value value = json::parse(data, ec);
    if (ec || !value.is_object() || !value.as_object().contains("choices")) {
      continue;
    }
    client.chunks.push_back(value.as_object());
    for (const json::value& c : value.at("choices").as_array()) {
      const int64_t index = c.at("index").as_int64();
      const json::object& delta = c.at("delta").as_object();
      if (auto* v = delta.if_contains("content"); v && v->is_string()) {
        client.content[index] += v->as_string();
      }
      if (auto* v = delta.if_contains("refusal"); v && v->is_string()) {
        client.refusal[index] += v->as_string();
      }
      if (auto* calls = delta.if_contains("tool_calls")) {
        for (const json::value& call : calls->as_array()) {
          const json::object& fn = call.at("function").as_object();
          if (auto* a = fn.if_contains("arguments")) {
            client.arguments[{index, call.at("index").as_int64()}] += a->as_string();
          }
        }
      }
    }
  }
  return client;
}

// --- non-streamed bodies ----------------------------------------------------------------------

std::string body(const json::object& message) {
  return json::serialize(json::object{
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", "gpt-test"},
      {"choices",
       json::array{json::object{
           {"index", 0}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", "stop"}}}},
      {"usage", json::object{{"prompt_tokens", 9}, {"completion_tokens", 12}}}});
}

json::object messageOf(const std::string& text) {
  return json::parse(text).at("choices").at(0).at("message").as_object();
}

TEST(ResponseDlpTest, IsActiveOnlyWithAnEngineOrPseudonyms) {
  Pseudonymizer empty;
  EXPECT_FALSE(ResponseDlp(nullptr, policy(), nullptr).active());
  EXPECT_FALSE(ResponseDlp(nullptr, policy(), &empty).active());
  EXPECT_TRUE(ResponseDlp(&engine(), policy(), nullptr).active());
  Pseudonymizer one;
  one.tokenFor("EMAIL", "jane@corp.example");
  EXPECT_TRUE(ResponseDlp(nullptr, policy(), &one).active());
}

TEST(ResponseDlpTest, RestoresAPseudonymInABodyKeepingEverythingElse) {
  Pseudonymizer p;
  const std::string token = p.tokenFor("EMAIL", "jane@corp.example");
  ASSERT_EQ(token.size(), 13u);  // "<EMAIL_" + 5 random characters + ">"
  ResponseDlp dlp(nullptr, policy(), &p);
  std::string text = body({{"role", "assistant"}, {"content", "Write to " + token + " today."}});
  const std::string expected =
      body({{"role", "assistant"}, {"content", "Write to jane@corp.example today."}});
  dlp.rewriteBody(text);
  EXPECT_EQ(text, expected);  // same key order, same other fields
  EXPECT_TRUE(dlp.findings().empty());
}

TEST(ResponseDlpTest, RedactsAndMasksABodyPerRuleAndRecordsFindings) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  std::string text = body({{"role", "assistant"},
                           {"content", "Mail bob@example.org, card 4111 1111 1111 1111."},
                           {"refusal", nullptr}});
  dlp.rewriteBody(text);
  const json::object message = messageOf(text);
  EXPECT_EQ(message.at("content").as_string(), "Mail [EMAIL], card ****1111.");
  EXPECT_TRUE(message.at("refusal").is_null());
  ASSERT_EQ(dlp.findings().size(), 2u);
  EXPECT_EQ(dlp.findings()[0].detector_id, "email");
  EXPECT_EQ(dlp.findings()[0].action, PolicyAction::Redact);
  EXPECT_EQ(dlp.findings()[1].detector_id, "credit_card");
  EXPECT_EQ(dlp.findings()[1].action, PolicyAction::Mask);
  EXPECT_LT(text.find("\"choices\""), text.find("\"usage\""));
}

TEST(ResponseDlpTest, LeavesABodyWithoutFindingsByteIdentical) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  // Formatting boost::json would not reproduce: spaces, an exponent, escaped slashes.
  const std::string original =
      "{ \"id\": \"x\", \"choices\": [ {\"index\": 0, \"message\": {\"role\": \"assistant\", "
      "\"content\": \"All good\\/fine, nothing to see.\"}, \"finish_reason\": \"stop\"} ], "
      "\"usage\": {\"cost\": 1.50e-3} }";
  std::string text = original;
  dlp.rewriteBody(text);
  EXPECT_EQ(text, original);
  EXPECT_TRUE(dlp.findings().empty());
}

TEST(ResponseDlpTest, AllowedFindingsAreRecordedButLeaveTheBodyAlone) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const std::string original =
      "{\"choices\": [{\"index\": 0, \"message\": {\"content\": \"Call +1 415 555 0132 now\"}}]}";
  std::string text = original;
  dlp.rewriteBody(text);
  EXPECT_EQ(text, original);
  ASSERT_EQ(dlp.findings().size(), 1u);
  EXPECT_EQ(dlp.findings()[0].detector_id, "phone");
  EXPECT_EQ(dlp.findings()[0].action, PolicyAction::Allow);
}

TEST(ResponseDlpTest, RewritesToolCallArgumentsContentPartsAndNullContentInABody) {
  Pseudonymizer p;
  const std::string token = p.tokenFor("EMAIL", "jane@corp.example");
  ResponseDlp dlp(&engine(), policy(), &p);
  const std::string arguments = R"({"to":")" + token + R"(","cc":"bob@example.org"})";
  std::string text =
      body({{"role", "assistant"},
            {"content", nullptr},
            {"tool_calls",
             json::array{json::object{
                 {"id", "call_1"},
                 {"type", "function"},
                 {"function", json::object{{"name", "send_mail"}, {"arguments", arguments}}}}}}});
  dlp.rewriteBody(text);
  json::object message = messageOf(text);
  EXPECT_TRUE(message.at("content").is_null());
  EXPECT_EQ(message.at("tool_calls").at(0).at("function").at("arguments").as_string(),
            R"({"to":"jane@corp.example","cc":"[EMAIL]"})");
  EXPECT_EQ(message.at("tool_calls").at(0).at("function").at("name").as_string(), "send_mail");

  std::string parts =
      body({{"role", "assistant"},
            {"content", json::array{json::object{{"type", "text"}, {"text", "Hi " + token}},
                                    json::object{{"type", "text"}, {"text", "bob@example.org"}}}}});
  dlp.rewriteBody(parts);
  message = messageOf(parts);
  EXPECT_EQ(message.at("content").at(0).at("text").as_string(), "Hi jane@corp.example");
  EXPECT_EQ(message.at("content").at(1).at("text").as_string(), "[EMAIL]");
}

TEST(ResponseDlpTest, LeavesNonJsonAndErrorBodiesAlone) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  for (std::string original :
       {std::string("not json \"content\" bob@example.org"),
        std::string(R"({"error":{"message":"bad \"content\" bob@example.org","type":"x"}})"),
        std::string(R"({"choices": "content"})"), std::string("")}) {
    std::string text = original;
    dlp.rewriteBody(text);
    EXPECT_EQ(text, original);
  }
}

// --- streams ----------------------------------------------------------------------------------

TEST(ResponseDlpTest, RestoresAPseudonymSplitAcrossEvents) {
  Pseudonymizer p;
  const std::string token = p.tokenFor("EMAIL", "jane@corp.example");
  ResponseDlp dlp(nullptr, policy(), &p);
  const auto out = run(dlp, {contentEvent("Hi " + token.substr(0, 4)),
                             contentEvent(token.substr(4) + " and bye"), finishEvent(), kDone});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3], kDone);
  const Client client = read(concat(out));
  EXPECT_EQ(client.content.at(0), "Hi jane@corp.example and bye");
  EXPECT_EQ(read(out[0]).content.at(0), "Hi ");  // the partial token waits
  EXPECT_EQ(client.data.size(), 4u);             // no event added or dropped
  EXPECT_EQ(concat(out).find("<EMA"), std::string::npos);
}

TEST(ResponseDlpTest, RedactsAnEmailSplitAcrossEventsWithoutEverShowingIt) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const auto out = run(dlp, {contentEvent("Sure, write to bob@exa"), contentEvent("mple.org and "),
                             contentEvent("ask for the invoice."), finishEvent(), kDone});
  const std::string all = concat(out);
  EXPECT_EQ(all.find("bob@"), std::string::npos);
  EXPECT_EQ(all.find("example.org"), std::string::npos);
  const Client client = read(all);
  EXPECT_EQ(client.content.at(0), "Sure, write to [EMAIL] and ask for the invoice.");
  EXPECT_EQ(client.data.size(), 5u);
  ASSERT_EQ(dlp.findings().size(), 1u);
  EXPECT_EQ(dlp.findings()[0].detector_id, "email");
  EXPECT_EQ(dlp.findings()[0].action, PolicyAction::Redact);
}

TEST(ResponseDlpTest, RedactsASecretFedInSmallPieces) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const std::string secret = githubToken();
  const std::string text =
      "The deploy token is " + secret + " and it expires soon. " + std::string(300, '.') + " Done.";
  std::vector<std::string> events;
  for (size_t i = 0; i < text.size(); i += 5) {
    events.push_back(contentEvent(text.substr(i, 5)));
  }
  events.push_back(finishEvent());
  events.push_back(kDone);
  const auto out = run(dlp, events);
  ASSERT_EQ(out.size(), events.size());
  const std::string all = concat(out);
  EXPECT_EQ(all.find(secret.substr(0, 12)), std::string::npos);
  EXPECT_EQ(all.find(secret.substr(20)), std::string::npos);
  const Client client = read(all);
  EXPECT_EQ(client.content.at(0), "The deploy token is [GITHUB_TOKEN] and it expires soon. " +
                                      std::string(300, '.') + " Done.");
  ASSERT_EQ(dlp.findings().size(), 1u);
  EXPECT_EQ(dlp.findings()[0].detector_id, "secret.github_token");
}

TEST(ResponseDlpTest, FlushesHeldTextIntoTheFinishReasonEvent) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const auto out = run(dlp, {contentEvent("Short answer."), finishEvent("stop"), kDone});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(read(out[0]).content.at(0), "");  // held back, but the event is kept
  const Client finish = read(out[1]);
  ASSERT_EQ(finish.chunks.size(), 1u);
  EXPECT_EQ(finish.content.at(0), "Short answer.");
  const json::object& choice = finish.chunks[0].at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
  EXPECT_EQ(out[2], kDone);
}

TEST(ResponseDlpTest, FlushesIntoAFinishEventThatAlsoCarriesContent) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const auto out = run(
      dlp, {contentEvent("Hello "), deltaEvent("content", "bob@example.org", 0, "stop"), kDone});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(read(out[1]).content.at(0), "Hello [EMAIL]");
  EXPECT_EQ(out[2], kDone);
}

TEST(ResponseDlpTest, RewritesAChunkSpreadOverSeveralDataLines) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  std::string chunk =
      "id: 7\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"mail bob@example.org\"},\n"
      "data: \"finish_reason\":\"stop\"}]}\n\n";
  dlp.rewriteEvents(chunk, true);
  EXPECT_TRUE(chunk.starts_with("id: 7\ndata: {"));
  EXPECT_EQ(std::count(chunk.begin(), chunk.end(), '\n'), 3);  // one data line now
  EXPECT_EQ(read(chunk.substr(6)).content.at(0), "mail [EMAIL]");
}

TEST(ResponseDlpTest, WithoutFinishReasonEmitsOneSyntheticEventBeforeDone) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const auto out = run(dlp, {contentEvent("Reach bob@"), contentEvent("example.org"), kDone});
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[2].ends_with(kDone));
  const Client last = read(out[2]);
  ASSERT_EQ(last.chunks.size(), 1u);
  EXPECT_EQ(last.content.at(0), "Reach [EMAIL]");
  const json::object& chunk = last.chunks[0];
  EXPECT_EQ(chunk.at("id").as_string(), "chatcmpl-7");
  EXPECT_EQ(chunk.at("object").as_string(), "chat.completion.chunk");
  EXPECT_EQ(chunk.at("created").as_int64(), 1700000000);
  EXPECT_EQ(chunk.at("model").as_string(), "gpt-test");
  EXPECT_TRUE(read(concat(out)).done);
}

TEST(ResponseDlpTest, FlushesAtTheEndOfAStreamWithoutDone) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const auto out = run(dlp, {contentEvent("Reach bob@"), contentEvent("example.org today")});
  const Client client = read(concat(out));
  EXPECT_EQ(client.content.at(0), "Reach [EMAIL] today");
  EXPECT_EQ(client.data.size(), 3u);  // two events and the synthetic one
}

TEST(ResponseDlpTest, PassesEverythingElseThroughByteExact) {
  Pseudonymizer p;
  p.tokenFor("EMAIL", "jane@corp.example");
  ResponseDlp dlp(&engine(), policy(), &p);
  const std::vector<std::string> others = {
      ": keep-alive\n\n",
      "event: ping\ndata: {}\n\n",
      "data: {\"error\":{\"message\":\"bad \\\"content\\\" for "
      "bob@example.org\",\"type\":\"x\"}}\n\n",
      "data: not json \"content\" bob@example.org\n\n",
      "data: {\"content\": \"bob@example.org\"\n\n",
      "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
      "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n",
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},"
      "\"finish_reason\":null}]}\n\n",
  };
  // One chunk per event, and all of them in one chunk.
  for (const std::string& original : others) {
    std::string chunk = original;
    dlp.rewriteEvents(chunk, false);
    EXPECT_EQ(chunk, original);
  }
  std::string all = concat(others);
  const std::string original_all = all;
  dlp.rewriteEvents(all, true);
  EXPECT_EQ(all, original_all);
  EXPECT_TRUE(dlp.findings().empty());
}

TEST(ResponseDlpTest, PassesOtherEventsThroughWhileRewritingTheirNeighbours) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const std::string usage =
      "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"total_tokens\":3}}"
      "\n\n";
  std::string chunk = ": keep-alive\n\n" + contentEvent("mail bob@example.org") +
                      "event: note\ndata: not json\n\n" + finishEvent() + usage + kDone;
  dlp.rewriteEvents(chunk, true);
  EXPECT_TRUE(chunk.starts_with(": keep-alive\n\n"));
  EXPECT_NE(chunk.find("event: note\ndata: not json\n\n"), std::string::npos);
  EXPECT_TRUE(chunk.ends_with(usage + kDone));
  EXPECT_EQ(read(chunk).content.at(0), "mail [EMAIL]");
}

TEST(ResponseDlpTest, RestoresAndRedactsToolCallArgumentsAcrossEvents) {
  Pseudonymizer p;
  const std::string token = p.tokenFor("EMAIL", "jane@corp.example");
  ResponseDlp dlp(&engine(), policy(), &p);
  const auto out = run(dlp, {toolEvent(0, "", true), toolEvent(0, R"({"to":")" + token.substr(0, 4)),
                             toolEvent(0, token.substr(4) + R"(","cc":"bob@exa)"),
                             toolEvent(0, R"(mple.org"})"),
                             toolEvent(1, R"({"q":"x"})", true), finishEvent("tool_calls"), kDone});
  ASSERT_EQ(out.size(), 7u);
  const std::string all = concat(out);
  EXPECT_EQ(all.find("bob@"), std::string::npos);
  const Client client = read(all);
  EXPECT_EQ(client.arguments.at({0, 0}), R"({"to":"jane@corp.example","cc":"[EMAIL]"})");
  EXPECT_EQ(client.arguments.at({0, 1}), R"({"q":"x"})");
  // Call 0 is complete before call 1 starts: its held tail comes in call 1's first event,
  // in an entry before call 1's.
  const Client upto_second = read(out[0] + out[1] + out[2] + out[3] + out[4]);
  EXPECT_EQ(upto_second.arguments.at({0, 0}), client.arguments.at({0, 0}));
  const Client second = read(out[4]);
  EXPECT_FALSE(second.arguments.at({0, 0}).empty());
  const json::array& calls =
      second.chunks[0].at("choices").at(0).at("delta").at("tool_calls").as_array();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].at("index").as_int64(), 0);
  EXPECT_EQ(calls[1].at("index").as_int64(), 1);
  EXPECT_EQ(calls[1].at("id").as_string(), "call_1");
}

TEST(ResponseDlpTest, FlushesHeldToolArgumentsIntoTheFinishEvent) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const auto out = run(dlp, {toolEvent(0, "", true), toolEvent(0, R"({"city":"Paris"})"),
                             finishEvent("tool_calls"), kDone});
  const Client finish = read(out[2]);
  EXPECT_EQ(finish.arguments.at({0, 0}), R"({"city":"Paris"})");
  const json::object& choice = finish.chunks[0].at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("finish_reason").as_string(), "tool_calls");
  EXPECT_EQ(choice.at("delta").at("tool_calls").at(0).at("index").as_int64(), 0);
}

TEST(ResponseDlpTest, RedactsTheRefusalField) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  const auto out = run(dlp, {deltaEvent("refusal", "I will not mail bob@"),
                             deltaEvent("refusal", "example.org."), finishEvent(), kDone});
  EXPECT_EQ(read(concat(out)).refusal.at(0), "I will not mail [EMAIL].");
}

TEST(ResponseDlpTest, RedactsReasoningStreamedAndInABody) {
  ResponseDlp stream(&engine(), policy(), nullptr);
  const auto out = run(stream, {deltaEvent("reasoning_content", "The user is bob@"),
                                deltaEvent("reasoning_content", "example.org, so"),
                                deltaEvent("content", "Done."), finishEvent(), kDone});
  const std::string all = concat(out);
  EXPECT_EQ(all.find("example.org"), std::string::npos) << all;
  EXPECT_NE(all.find("[EMAIL]"), std::string::npos) << all;

  ResponseDlp whole(&engine(), policy(), nullptr);
  std::string text = body(json::object{{"role", "assistant"},
                                       {"content", "Done."},
                                       {"reasoning_content", "mail bob@example.org"},
                                       {"reasoning", "or carol@example.org"}});
  whole.rewriteBody(text);
  const json::object message = messageOf(text);
  EXPECT_EQ(message.at("reasoning_content"), "mail [EMAIL]");
  EXPECT_EQ(message.at("reasoning"), "or [EMAIL]");
}

TEST(ResponseDlpTest, KeepsChoicesIndependent) {
  Pseudonymizer p;
  const std::string token = p.tokenFor("EMAIL", "jane@corp.example");
  ResponseDlp dlp(&engine(), policy(), &p);
  const auto out =
      run(dlp, {contentEvent("A: bob@ex", 0), contentEvent("B: " + token.substr(0, 6), 1),
                contentEvent("ample.org", 0), contentEvent(token.substr(6) + " ok", 1),
                finishEvent("stop", 0),
                contentEvent(" more", 1), finishEvent("length", 1), kDone});
  ASSERT_EQ(out.size(), 8u);
  const Client client = read(concat(out));
  EXPECT_EQ(client.content.at(0), "A: [EMAIL]");
  EXPECT_EQ(client.content.at(1), "B: jane@corp.example ok more");
  // Choice 0's finish carries only choice 0's text.
  const Client first_finish = read(out[4]);
  EXPECT_EQ(first_finish.content.at(0), "A: [EMAIL]");
  EXPECT_EQ(first_finish.content.count(1), 0u);
}

TEST(ResponseDlpTest, HandlesCrlfEventsAndEventsSplitAcrossChunks) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  std::string first = contentEvent("Reach bob@example.org");
  first.replace(first.size() - 2, 2, "\r\n\r\n");
  std::string finish = finishEvent();
  std::string a = first + finish.substr(0, 20);
  std::string b = finish.substr(20) + kDone;
  dlp.rewriteEvents(a, false);
  EXPECT_TRUE(a.ends_with("\r\n\r\n"));  // the incomplete event waits
  dlp.rewriteEvents(b, true);
  std::string all = a + b;
  EXPECT_EQ(all.find("bob@"), std::string::npos);
  for (size_t at; (at = all.find("\r\n")) != std::string::npos;) {
    all.replace(at, 2, "\n");
  }
  EXPECT_EQ(read(all).content.at(0), "Reach [EMAIL]");
}

TEST(ResponseDlpTest, GivesTheSameTextWhereverTheChunksAreCut) {
  Pseudonymizer p;
  const std::string token = p.tokenFor("EMAIL", "jane@corp.example");
  const std::string stream = contentEvent("To " + token + ", cc bob@exa") + ": ping\n\n" +
                             contentEvent("mple.org: done.") + finishEvent() + kDone;
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    ResponseDlp dlp(&engine(), policy(), &p);
    std::string a = stream.substr(0, cut);
    std::string b = stream.substr(cut);
    dlp.rewriteEvents(a, false);
    dlp.rewriteEvents(b, true);
    const Client client = read(a + b);
    ASSERT_EQ(client.content.at(0), "To jane@corp.example, cc [EMAIL]: done.") << "cut at " << cut;
    ASSERT_TRUE(client.done) << "cut at " << cut;
  }
}

TEST(ResponseDlpTest, RedactsWhatAScanBoundLeftUnexaminedWhateverTheRules) {
  policies::DlpConfig config;
  config.max_matches_per_pattern = 2;
  const auto capped = policies::testing::makeEngine(config);
  policies::DlpPolicySpec spec;
  spec.response_rules = {
      DlpActionRuleSpec{"phones-only", {"phone"}, "", std::nullopt, PolicyAction::Redact}};
  auto created = policies::DlpPolicy::create(std::move(spec), *capped);
  ASSERT_TRUE(created.has_value());
  ResponseDlp dlp(capped.get(), *created, nullptr);
  std::string text =
      body({{"role", "assistant"}, {"content", "a@b.example c@d.example e@f.example g@h.example"}});
  dlp.rewriteBody(text);
  EXPECT_EQ(messageOf(text).at("content").as_string(), "a@b.example c@d.example [SCAN_LIMIT]");
  ASSERT_FALSE(dlp.findings().empty());
  EXPECT_EQ(dlp.findings().back().detector_id, policies::kScanLimitDetectorId);
  EXPECT_EQ(dlp.findings().back().action, PolicyAction::Redact);
}

TEST(ResponseDlpTest, RecordsEveryFindingWithItsAction) {
  ResponseDlp dlp(&engine(), policy(), nullptr);
  run(dlp, {contentEvent("Card 4111 1111 1111 1111, mail bob@example.org, call "),
            contentEvent("+1 415 555 0132."), finishEvent(), kDone});
  std::vector<std::pair<std::string, PolicyAction>> seen;
  for (const ResponseFinding& f : dlp.findings()) {
    seen.emplace_back(f.detector_id, f.action);
  }
  EXPECT_EQ(seen,
            (std::vector<std::pair<std::string, PolicyAction>>{{"credit_card", PolicyAction::Mask},
                                                               {"email", PolicyAction::Redact},
                                                               {"phone", PolicyAction::Allow}}));
}

TEST(ResponseDlpTest, DoesNothingWhenInactive) {
  ResponseDlp dlp(nullptr, policy(), nullptr);
  std::string chunk = contentEvent("bob@example.org");
  const std::string original = chunk;
  dlp.rewriteEvents(chunk, true);
  EXPECT_EQ(chunk, original);
}

}  // namespace
}  // namespace sy::server
