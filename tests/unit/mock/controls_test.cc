// The mock's controls: directives, x-mock-* headers, /mock/config, and their effects on the wire
// (latency, error_status, disconnect_after, require_key), plus the command-line parser.
#include "examples/mock_llm/controls.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

#include "tests/unit/mock/mock_test_client.h"

namespace sy::mock::testing {
namespace {

namespace json = boost::json;

TEST(MockDirectiveTest, SeveralDirectivesAnywhereInTheTextAreApplied) {
  Controls c;
  ASSERT_TRUE(applyDirectives(c, "hi mock:error_status=500 and mock:reply_tokens=3."));
  EXPECT_EQ(c.error_status, 500);
  EXPECT_EQ(c.reply_tokens, 3);
  EXPECT_EQ(c.latency_ms, 0);
}

TEST(MockDirectiveTest, TextThatOnlyLooksLikeADirectiveIsIgnored) {
  Controls c;
  ASSERT_TRUE(applyDirectives(c, "mock:unknown=5 mock:latency_ms=abc mock: mock:ttft_ms mock:"));
  EXPECT_EQ(c, Controls{});
}

TEST(MockDirectiveTest, AnOutOfRangeDirectiveIsAnError) {
  Controls c;
  auto status = applyDirectives(c, "mock:error_status=200");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("error_status=200"), std::string::npos);
  EXPECT_FALSE(applyDirectives(c, "mock:latency_ms=-1"));
  EXPECT_TRUE(applyDirectives(c, "mock:disconnect_after=-1"));
}

TEST(MockRuntimeControlsTest, ConfigReplacesGivenKeysAndResetRestoresTheCliDefaults) {
  Controls defaults;
  defaults.reply_tokens = 7;
  RuntimeControls runtime(defaults);
  auto applied = runtime.applyConfig(json::parse(R"({"latency_ms":5,"error_status":503})"));
  ASSERT_TRUE(applied);
  EXPECT_EQ(runtime.snapshot().latency_ms, 5);
  EXPECT_EQ(runtime.snapshot().error_status, 503);
  EXPECT_EQ(runtime.snapshot().reply_tokens, 7);
  ASSERT_TRUE(runtime.applyConfig(json::parse("{}")));
  EXPECT_EQ(runtime.snapshot().latency_ms, 5) << "{} changes nothing";
  ASSERT_TRUE(runtime.applyConfig(json::parse(R"({"error_status":null})")));
  EXPECT_EQ(runtime.snapshot().error_status, 0) << "null restores the default";
  ASSERT_TRUE(runtime.applyConfig(json::parse(R"({"reset":true,"ttft_ms":9})")));
  Controls expected = defaults;
  expected.ttft_ms = 9;
  EXPECT_EQ(runtime.snapshot(), expected) << "reset first, then the other keys";
}

TEST(MockRuntimeControlsTest, AnInvalidConfigChangesNothing) {
  RuntimeControls runtime(Controls{});
  EXPECT_FALSE(runtime.applyConfig(json::parse(R"({"latency_ms":5,"bogus":1})")));
  EXPECT_FALSE(runtime.applyConfig(json::parse(R"({"latency_ms":5,"reply_tokens":"3"})")));
  EXPECT_FALSE(runtime.applyConfig(json::parse(R"({"latency_ms":5,"error_status":99})")));
  EXPECT_FALSE(runtime.applyConfig(json::parse("[1]")));
  EXPECT_EQ(runtime.snapshot(), Controls{});
}

int64_t completionTokens(const HttpResult& result) {
  return result.json().at("usage").at("completion_tokens").as_int64();
}

TEST(MockControlsTest, HeadersOverrideTheRuntimeControlsAndDirectivesOverrideHeaders) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  auto by_header =
      post(port, "/v1/chat/completions", chatBody("hi"), {{"x-mock-reply-tokens", "2"}});
  EXPECT_EQ(completionTokens(by_header), 2);
  auto both = post(port, "/v1/chat/completions", chatBody("hi mock:reply_tokens=6"),
                   {{"x-mock-reply-tokens", "2"}});
  EXPECT_EQ(completionTokens(both), 6);
  auto bad_header =
      post(port, "/v1/chat/completions", chatBody("hi"), {{"x-mock-latency-ms", "soon"}});
  EXPECT_EQ(bad_header.status(), 400u);
  EXPECT_NE(bad_header.json().at("error").at("message").as_string().find("x-mock-latency-ms"),
            json::string::npos);
}

TEST(MockControlsTest, OnlyTheLastUserMessageCarriesDirectives) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::string body = R"({"model":"m","messages":[
      {"role":"user","content":"mock:error_status=500"},
      {"role":"assistant","content":"mock:error_status=500"},
      {"role":"user","content":[{"type":"text","text":"part one"},
                                {"type":"text","text":"mock:reply_tokens=2"}]}]})";
  auto result = post(server->port(), "/v1/chat/completions", body);
  ASSERT_EQ(result.status(), 200u);
  EXPECT_EQ(completionTokens(result), 2);
}

TEST(MockControlsTest, MockConfigChangesDefaultsAtRuntimeUntilReset) {
  MockOptions options;
  options.controls.reply_tokens = 4;
  auto server = startMock(options);
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  auto set = post(port, "/mock/config", R"({"reply_tokens":9})");
  ASSERT_EQ(set.status(), 200u);
  EXPECT_EQ(set.json().at("reply_tokens"), 9);
  EXPECT_EQ(completionTokens(post(port, "/v1/chat/completions", chatBody("hi"))), 9);
  EXPECT_EQ(get(port, "/mock/config").json().at("reply_tokens"), 9);
  auto bad = post(port, "/mock/config", R"({"reply_token":9})");
  EXPECT_EQ(bad.status(), 400u);
  ASSERT_EQ(post(port, "/mock/config", R"({"reset":true})").status(), 200u);
  EXPECT_EQ(completionTokens(post(port, "/v1/chat/completions", chatBody("hi"))), 4);
  EXPECT_EQ(server->controls().reply_tokens, 4);
}

TEST(MockControlsTest, ErrorStatusAnswersInOpenAiFormatWithRetryAfterOn429) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  ASSERT_EQ(post(port, "/mock/config", R"({"error_status":429})").status(), 200u);
  auto limited = post(port, "/v1/chat/completions", chatBody("hi"));
  ASSERT_EQ(limited.status(), 429u);
  EXPECT_EQ(limited.header("retry-after"), "1");
  const json::object error = limited.json().at("error").as_object();
  EXPECT_EQ(error.at("code"), "rate_limit_exceeded");
  EXPECT_TRUE(error.at("param").is_null());
  EXPECT_EQ(get(port, "/v1/models").status(), 429u) << "every /v1 request";
  EXPECT_EQ(get(port, "/mock/stats").status(), 200u) << "but not the control endpoints";
  auto server_error = post(port, "/v1/embeddings", R"({"model":"e","input":"x"})",
                           {{"x-mock-error-status", "500"}});
  ASSERT_EQ(server_error.status(), 500u);
  EXPECT_EQ(server_error.json().at("error").at("type"), "server_error");
  EXPECT_EQ(server_error.header("retry-after"), "");
  ASSERT_EQ(post(port, "/mock/config", R"({"error_status":0})").status(), 200u);
  EXPECT_EQ(post(port, "/v1/chat/completions", chatBody("hi")).status(), 200u);
}

TEST(MockControlsTest, ErrorCountLimitsErrorStatusToTheNextRequests) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  ASSERT_EQ(post(port, "/mock/config", R"({"error_status":503,"error_count":2})").status(), 200u);
  EXPECT_EQ(get(port, "/health").status(), 200u) << "a health check takes none of them";
  EXPECT_EQ(post(port, "/v1/chat/completions", chatBody("hi")).status(), 503u);
  EXPECT_EQ(get(port, "/mock/config").json().at("error_count"), 1);
  EXPECT_EQ(post(port, "/v1/embeddings", R"({"model":"e","input":"x"})").status(), 503u);
  EXPECT_EQ(post(port, "/v1/chat/completions", chatBody("hi")).status(), 200u);
  const json::value after = get(port, "/mock/config").json();
  EXPECT_EQ(after.at("error_status"), 0) << "the last counted error turned the control off";
  EXPECT_EQ(after.at("error_count"), 0);
  EXPECT_EQ(server->requestCount(), 3u);
}

TEST(MockControlsTest, HealthAnswers200AndHealthStatusFailsItIndependentlyOfChat) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  auto healthy = get(port, "/health");
  ASSERT_EQ(healthy.status(), 200u);
  EXPECT_EQ(healthy.body(), "") << "an empty body, as vLLM answers";
  EXPECT_EQ(post(port, "/health", "").status(), 405u);
  auto set = post(port, "/mock/config", R"({"health_status":503})");
  ASSERT_EQ(set.status(), 200u);
  EXPECT_EQ(set.json().at("health_status"), 503);
  auto failing = get(port, "/health");
  EXPECT_EQ(failing.status(), 503u);
  EXPECT_EQ(failing.body(), "");
  EXPECT_EQ(post(port, "/v1/chat/completions", chatBody("hi")).status(), 200u)
      << "chat still works while health checks fail";
  ASSERT_EQ(post(port, "/mock/config", R"({"health_status":null,"error_status":500})").status(),
            200u);
  EXPECT_EQ(get(port, "/health").status(), 200u) << "error_status leaves /health alone";
  EXPECT_EQ(post(port, "/v1/chat/completions", chatBody("hi")).status(), 500u);
  EXPECT_EQ(get(port, "/health", {{"x-mock-health-status", "500"}}).status(), 500u);
  EXPECT_EQ(get(port, "/health", {{"x-mock-health-status", "abc"}}).status(), 400u);
  EXPECT_EQ(post(port, "/mock/config", R"({"health_status":100})").status(), 400u);
  EXPECT_EQ(get(port, "/mock/stats").json().at("requests"), 2) << "/health is not recorded";
}

TEST(MockControlsTest, LatencyDelaysTheResponseByAtLeastTheGivenTime) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto result = post(server->port(), "/v1/chat/completions", chatBody("x mock:latency_ms=150"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.status(), 200u);
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
}

TEST(MockControlsTest, TtftAndPacingDelayAStreamByAtLeastTheirSum) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const auto start = std::chrono::steady_clock::now();
  // ttft 50 ms, then 5 chunks at 50/s: the last is due 80 ms after the first.
  auto result =
      post(server->port(), "/v1/chat/completions",
           chatBody("x mock:ttft_ms=50 mock:tokens_per_sec=50 mock:reply_tokens=5", true));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.status(), 200u);
  EXPECT_GE(elapsed, std::chrono::milliseconds(130));
  EXPECT_NE(result.body().find("[DONE]"), std::string::npos);
}

TEST(MockControlsTest, DisconnectAfterTruncatesAStreamWithAReset) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  auto result =
      post(server->port(), "/v1/chat/completions", chatBody("x mock:disconnect_after=2", true));
  EXPECT_EQ(result.status(), 200u);
  EXPECT_TRUE(result.error) << "the read must fail";
  const auto events = parseSse(result.body());
  ASSERT_EQ(events.size(), 3u) << "role chunk + 2 content chunks";
  EXPECT_EQ(result.body().find("[DONE]"), std::string::npos);
  EXPECT_EQ(result.body().find("finish_reason\":\"stop"), std::string::npos);
}

TEST(MockControlsTest, DisconnectAfterZeroClosesANonStreamRequestBeforeAnyByte) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::string body = chatBody("x mock:disconnect_after=0");
  boost::system::error_code ec;
  const std::string raw = rawExchange(server->port(),
                                      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                      "Content-Length: " +
                                          std::to_string(body.size()) + "\r\n\r\n" + body,
                                      ec);
  EXPECT_TRUE(raw.empty());
  EXPECT_EQ(ec, boost::asio::error::connection_reset) << ec.message();
}

TEST(MockControlsTest, ResetPermilleResetsThatShareOfRequestsBeforeAnyByte) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::string body = chatBody("x mock:reset_permille=1000");
  boost::system::error_code ec;
  const std::string raw = rawExchange(server->port(),
                                      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                      "Content-Length: " +
                                          std::to_string(body.size()) + "\r\n\r\n" + body,
                                      ec);
  EXPECT_TRUE(raw.empty());
  EXPECT_EQ(ec, boost::asio::error::connection_reset) << ec.message();
  EXPECT_EQ(post(server->port(), "/v1/chat/completions", chatBody("x mock:reset_permille=0"))
                .status(),
            200u);
}

TEST(MockControlsTest, StallPermilleDelaysThatShareOfHeadsByStallMs) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const auto started = std::chrono::steady_clock::now();
  auto stalled = post(server->port(), "/v1/chat/completions",
                      chatBody("x mock:stall_permille=1000 mock:stall_ms=300"));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(stalled.status(), 200u);
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  const auto quick_start = std::chrono::steady_clock::now();
  EXPECT_EQ(post(server->port(), "/v1/chat/completions", chatBody("x mock:stall_ms=300")).status(),
            200u);
  EXPECT_LT(std::chrono::steady_clock::now() - quick_start, std::chrono::milliseconds(300))
      << "stall_ms alone stalls nothing";
}

TEST(MockControlsTest, RequireKeyNeedsTheBearerKeyOnOpenAiPaths) {
  MockOptions options;
  options.require_key = "sk-test";
  auto server = startMock(options);
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  auto missing = post(port, "/v1/chat/completions", chatBody("hi"));
  ASSERT_EQ(missing.status(), 401u);
  EXPECT_EQ(missing.json().at("error").at("type"), "invalid_request_error");
  auto wrong = get(port, "/v1/models", {{"authorization", "Bearer sk-nope"}});
  ASSERT_EQ(wrong.status(), 401u);
  EXPECT_EQ(wrong.json().at("error").at("code"), "invalid_api_key");
  EXPECT_EQ(post(port, "/v1/embeddings", R"({"model":"e","input":"x"})", {{"x-api-key", "sk-test"}})
                .status(),
            401u);
  EXPECT_EQ(
      post(port, "/v1/chat/completions", chatBody("hi"), {{"authorization", "Bearer sk-test"}})
          .status(),
      200u);
}

Result<MockOptions> parse(std::vector<std::string_view> args) { return parseMockArgs(args); }

TEST(MockCliTest, ParsesEveryFlagInBothSpellings) {
  auto options = parse({"--port",
                        "0",
                        "--name=vllm-a",
                        "--host",
                        "0.0.0.0",
                        "--threads",
                        "4",
                        "--latency-ms",
                        "10",
                        "--ttft-ms=20",
                        "--tokens-per-sec",
                        "30",
                        "--reply-tokens",
                        "40",
                        "--error-status",
                        "503",
                        "--disconnect-after",
                        "5",
                        "--require-key",
                        "k",
                        "--tls-cert",
                        "c.pem",
                        "--tls-key",
                        "k.pem"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->name, "vllm-a");
  EXPECT_EQ(options->host, "0.0.0.0");
  EXPECT_EQ(options->threads, 4);
  EXPECT_EQ(options->controls, (Controls{10, 20, 30, 40, 503, 5}));
  EXPECT_EQ(options->require_key, "k");
  EXPECT_EQ(options->tls_key_file, "k.pem");
}

TEST(MockCliTest, RejectsUnknownFlagsMissingValuesAndOutOfRangeControls) {
  EXPECT_EQ(parse({"--port", "0", "--name", "a", "--bogus", "1"}).error().message,
            "--bogus: unknown flag");
  EXPECT_EQ(parse({"--port", "0", "--name"}).error().message, "--name: missing value");
  EXPECT_EQ(parse({"--name", "a"}).error().message, "--port: is required");
  EXPECT_FALSE(parse({"--port", "70000", "--name", "a"}));
  EXPECT_FALSE(parse({"--port", "0", "--name", "a", "--error-status", "200"}));
  EXPECT_FALSE(parse({"--port", "0", "--name", "a", "--tls-cert", "c.pem"}));
}

}  // namespace
}  // namespace sy::mock::testing
