// The OpenAI endpoints of the mock over real loopback sockets: shapes, usage, streams, errors.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstring>

#include "tests/unit/mock/mock_test_client.h"

namespace sy::mock::testing {
namespace {

namespace json = boost::json;

MockOptions named(std::string name) {
  MockOptions options;
  options.name = std::move(name);
  return options;
}

TEST(MockChatTest, NonStreamReplyHasTheOpenAiShapeAndConsistentUsage) {
  auto server = startMock(named("vllm-a"));
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/chat/completions", chatBody("hello there"));
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.header("content-type"), "application/json");
  EXPECT_FALSE(result.header("x-request-id").empty());
  const json::object body = result.json().as_object();
  EXPECT_TRUE(body.at("id").as_string().starts_with("chatcmpl-"));
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_GT(body.at("created").as_int64(), 1'600'000'000);
  EXPECT_EQ(body.at("model"), "gpt-test");
  EXPECT_TRUE(body.at("system_fingerprint").as_string().starts_with("fp_"));
  const json::array& choices = body.at("choices").as_array();
  ASSERT_EQ(choices.size(), 1u);
  const json::object& choice = choices[0].as_object();
  EXPECT_EQ(choice.at("index"), 0);
  EXPECT_TRUE(choice.at("logprobs").is_null());
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  const json::object& message = choice.at("message").as_object();
  EXPECT_EQ(message.at("role"), "assistant");
  EXPECT_TRUE(message.at("refusal").is_null());
  EXPECT_TRUE(message.at("content").as_string().starts_with("Hello from vllm-a."));
  const json::object& usage = body.at("usage").as_object();
  // Two messages: "be brief" (8 bytes) + "hello there" (11 bytes) -> ceil(19/4) + 2*3 = 11.
  EXPECT_EQ(usage.at("prompt_tokens"), 11);
  EXPECT_EQ(usage.at("completion_tokens"), 20);
  EXPECT_EQ(usage.at("total_tokens"), 31);
}

TEST(MockChatTest, ReplyTextFollowsTheDocumentedTokenScheme) {
  auto server = startMock(named("srv"));
  ASSERT_NE(server, nullptr);
  auto five = post(server->port(), "/v1/chat/completions", chatBody("x mock:reply_tokens=5"));
  EXPECT_EQ(five.json().at("choices").at(0).at("message").at("content"),
            "Hello from srv. lorem ipsum");
  auto one = post(server->port(), "/v1/chat/completions", chatBody("x mock:reply_tokens=1"));
  EXPECT_EQ(one.json().at("choices").at(0).at("message").at("content"), "Hello");
  auto zero = post(server->port(), "/v1/chat/completions", chatBody("x mock:reply_tokens=0"));
  EXPECT_EQ(zero.json().at("choices").at(0).at("message").at("content"), "");
  EXPECT_EQ(zero.json().at("usage").at("completion_tokens"), 0);
}

TEST(MockChatTest, TheGradeControlAnswersAsADifficultyJudge) {
  auto server = startMock(named("judge"));
  ASSERT_NE(server, nullptr);
  auto complex = post(server->port(), "/v1/chat/completions", chatBody("x mock:grade=2"));
  EXPECT_EQ(complex.json().at("choices").at(0).at("message").at("content"), "complex");
  EXPECT_EQ(complex.json().at("usage").at("completion_tokens"), 1);
  auto routine = post(server->port(), "/v1/chat/completions", chatBody("x mock:grade=1"));
  EXPECT_EQ(routine.json().at("choices").at(0).at("message").at("content"), "routine");
  EXPECT_EQ(post(server->port(), "/v1/chat/completions", chatBody("x mock:grade=3")).status(),
            400u);
}

TEST(MockChatTest, MaxTokensBelowReplyTokensTruncatesWithFinishReasonLength) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result =
      post(server->port(), "/v1/chat/completions", chatBody("hi", false, "\"max_tokens\":4"));
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.json().at("choices").at(0).at("finish_reason"), "length");
  EXPECT_EQ(result.json().at("usage").at("completion_tokens"), 4);
}

// Returns the JSON payloads of the `data:` events, without the final [DONE].
std::vector<json::value> streamChunks(const HttpResult& result, bool& saw_done) {
  std::vector<json::value> chunks;
  saw_done = false;
  for (const SseEvent& event : parseSse(result.body())) {
    if (event.data == "[DONE]") {
      saw_done = true;
      continue;
    }
    EXPECT_FALSE(saw_done) << "event after [DONE]";
    chunks.push_back(json::parse(event.data));
  }
  return chunks;
}

TEST(MockChatTest, StreamSendsRoleChunkThenOneChunkPerTokenThenFinishAndDone) {
  auto server = startMock(named("s"));
  ASSERT_NE(server, nullptr);
  auto result =
      post(server->port(), "/v1/chat/completions", chatBody("go mock:reply_tokens=4", true));
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(result.header("transfer-encoding"), "chunked");
  bool saw_done = false;
  auto chunks = streamChunks(result, saw_done);
  EXPECT_TRUE(saw_done);
  ASSERT_EQ(chunks.size(), 6u);  // role + 4 tokens + finish
  std::string text;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const json::object& chunk = chunks[i].as_object();
    EXPECT_EQ(chunk.at("object"), "chat.completion.chunk");
    EXPECT_EQ(chunk.at("id"), chunks[0].at("id"));
    EXPECT_EQ(chunk.at("model"), "gpt-test");
    EXPECT_FALSE(chunk.contains("usage"));
    const json::object& choice = chunk.at("choices").at(0).as_object();
    const json::object& delta = choice.at("delta").as_object();
    if (i == 0) {
      EXPECT_EQ(delta.at("role"), "assistant");
      EXPECT_EQ(delta.at("content"), "");
    } else if (i + 1 < chunks.size()) {
      EXPECT_TRUE(choice.at("finish_reason").is_null());
      text += delta.at("content").as_string();
    } else {
      EXPECT_TRUE(delta.empty());
      EXPECT_EQ(choice.at("finish_reason"), "stop");
    }
  }
  EXPECT_EQ(text, "Hello from s. lorem");
}

TEST(MockChatTest, StreamWithIncludeUsageHasNullUsageOnEveryChunkAndAFinalUsageChunk) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result =
      post(server->port(), "/v1/chat/completions",
           chatBody("go mock:reply_tokens=3", true, "\"stream_options\":{\"include_usage\":true}"));
  bool saw_done = false;
  auto chunks = streamChunks(result, saw_done);
  EXPECT_TRUE(saw_done);
  ASSERT_EQ(chunks.size(), 6u);  // role + 3 tokens + finish + usage
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_TRUE(chunks[i].at("usage").is_null()) << i;
  }
  const json::object& last = chunks.back().as_object();
  EXPECT_TRUE(last.at("choices").as_array().empty());
  EXPECT_EQ(last.at("usage").at("completion_tokens"), 3);
  EXPECT_EQ(last.at("usage").at("total_tokens").as_int64(),
            last.at("usage").at("prompt_tokens").as_int64() + 3);
}

TEST(MockChatTest, EachStreamEventIsWrittenAsItsOwnHttpChunk) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::string body = chatBody("go mock:reply_tokens=3", true);
  const std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  boost::system::error_code ec;
  const std::string raw = rawExchange(server->port(), request, ec);
  const size_t head_end = raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(raw.substr(0, head_end).find("connection: close"), std::string::npos);
  bool complete = false;
  auto chunks = decodeChunks(std::string_view(raw).substr(head_end + 4), complete);
  EXPECT_TRUE(complete);
  ASSERT_EQ(chunks.size(), 6u);  // role + 3 tokens + finish + [DONE]
  for (const std::string& chunk : chunks) {
    EXPECT_TRUE(chunk.starts_with("data: ")) << chunk;
    EXPECT_TRUE(chunk.ends_with("\n\n")) << chunk;
    EXPECT_EQ(chunk.find("\n\n"), chunk.size() - 2) << "more than one event in a chunk";
  }
  EXPECT_EQ(chunks.back(), "data: [DONE]\n\n");
}

TEST(MockChatTest, MalformedJsonGets400InOpenAiErrorFormat) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result = post(server->port(), "/v1/chat/completions", "{\"model\": \"x\", ");
  ASSERT_EQ(result.status(), 400u);
  const json::object error = result.json().at("error").as_object();
  EXPECT_TRUE(error.at("message").as_string().starts_with("We could not parse the JSON body"));
  EXPECT_EQ(error.at("type"), "invalid_request_error");
  EXPECT_TRUE(error.at("param").is_null());
  EXPECT_TRUE(error.at("code").is_null());
}

TEST(MockChatTest, MissingMessagesOrModelGets400NamingTheParameter) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto no_messages = post(server->port(), "/v1/chat/completions", R"({"model":"m"})");
  ASSERT_EQ(no_messages.status(), 400u);
  EXPECT_EQ(no_messages.json().at("error").at("param"), "messages");
  EXPECT_EQ(no_messages.json().at("error").at("code"), "missing_required_parameter");
  auto no_model = post(server->port(), "/v1/chat/completions",
                       R"({"messages":[{"role":"user","content":"x"}]})");
  ASSERT_EQ(no_model.status(), 400u);
  EXPECT_EQ(no_model.json().at("error").at("param"), "model");
}

TEST(MockModelsTest, ModelsListsTheOneModelNamedAfterTheServer) {
  auto server = startMock(named("vllm-b"));
  ASSERT_NE(server, nullptr);
  auto result = get(server->port(), "/v1/models");
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(result.json(), json::parse(R"({"object":"list","data":[{"id":"vllm-b-model",
      "object":"model","created":0,"owned_by":"vllm-b"}]})"));
}

double norm(const json::array& vec) {
  double sum = 0;
  for (const json::value& x : vec) {
    sum += x.to_number<double>() * x.to_number<double>();
  }
  return std::sqrt(sum);
}

TEST(MockEmbeddingsTest, FloatEmbeddingsAreDeterministicUnitVectorsOfTheRequestedSize) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::string body = R"({"model":"emb","input":["alpha","beta"],"dimensions":8})";
  auto first = post(server->port(), "/v1/embeddings", body);
  auto second = post(server->port(), "/v1/embeddings", body);
  ASSERT_EQ(first.status(), 200u);
  EXPECT_EQ(first.body(), second.body());
  const json::object obj = first.json().as_object();
  EXPECT_EQ(obj.at("object"), "list");
  EXPECT_EQ(obj.at("model"), "emb");
  const json::array& data = obj.at("data").as_array();
  ASSERT_EQ(data.size(), 2u);
  for (size_t i = 0; i < data.size(); ++i) {
    EXPECT_EQ(data[i].at("object"), "embedding");
    EXPECT_EQ(data[i].at("index").as_int64(), static_cast<int64_t>(i));
    ASSERT_EQ(data[i].at("embedding").as_array().size(), 8u);
    EXPECT_NEAR(norm(data[i].at("embedding").as_array()), 1.0, 1e-5);
  }
  EXPECT_NE(data[0].at("embedding"), data[1].at("embedding"));
  // "alpha" = 2 tokens, "beta" = 1 token (ceil(bytes / 4)).
  EXPECT_EQ(obj.at("usage"), json::parse(R"({"prompt_tokens":3,"total_tokens":3})"));
}

TEST(MockEmbeddingsTest, DefaultsToSixteenDimensionsAndAcceptsTokenArrays) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto text = post(server->port(), "/v1/embeddings", R"({"model":"e","input":"hello"})");
  EXPECT_EQ(text.json().at("data").at(0).at("embedding").as_array().size(), 16u);
  auto tokens = post(server->port(), "/v1/embeddings", R"({"model":"e","input":[[1,2,3],[4]]})");
  ASSERT_EQ(tokens.status(), 200u);
  EXPECT_EQ(tokens.json().at("data").as_array().size(), 2u);
  EXPECT_EQ(tokens.json().at("usage").at("prompt_tokens"), 4);
  auto empty = post(server->port(), "/v1/embeddings", R"({"model":"e","input":[]})");
  EXPECT_EQ(empty.status(), 400u);
  EXPECT_EQ(empty.json().at("error").at("param"), "input");
}

std::vector<float> decodeBase64Floats(std::string_view text) {
  auto value = [](char c) -> uint32_t {
    return static_cast<uint32_t>(
        std::strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", c) -
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  };
  std::string bytes;
  for (size_t i = 0; i + 4 <= text.size(); i += 4) {
    uint32_t v = value(text[i]) << 18 | value(text[i + 1]) << 12;
    bytes += static_cast<char>(v >> 16);
    if (text[i + 2] != '=') {
      v |= value(text[i + 2]) << 6;
      bytes += static_cast<char>((v >> 8) & 0xff);
    }
    if (text[i + 3] != '=') {
      v |= value(text[i + 3]);
      bytes += static_cast<char>(v & 0xff);
    }
  }
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);  // little-endian host (x86-64, arm64)
  return out;
}

TEST(MockEmbeddingsTest, Base64EncodingDecodesToTheSameLittleEndianFloats) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto floats =
      post(server->port(), "/v1/embeddings", R"({"model":"e","input":"same text","dimensions":5})");
  auto base64 = post(server->port(), "/v1/embeddings",
                     R"({"model":"e","input":"same text","dimensions":5,)"
                     R"("encoding_format":"base64"})");
  ASSERT_EQ(base64.status(), 200u);
  const json::array expected = floats.json().at("data").at(0).at("embedding").as_array();
  const auto decoded =
      decodeBase64Floats(base64.json().at("data").at(0).at("embedding").as_string());
  ASSERT_EQ(decoded.size(), 5u);
  for (size_t i = 0; i < decoded.size(); ++i) {
    EXPECT_FLOAT_EQ(decoded[i], static_cast<float>(expected[i].to_number<double>()));
  }
}

}  // namespace
}  // namespace sy::mock::testing
