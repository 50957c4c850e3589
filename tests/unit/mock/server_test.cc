// The mock server's HTTP behaviour: /mock/* endpoints, routing errors, keep-alive, limits, io
// threads, and the switchyard-mock process itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <thread>

#include "tests/unit/mock/mock_test_client.h"

extern char** environ;

namespace sy::mock::testing {
namespace {

namespace json = boost::json;

TEST(MockServerTest, LastRequestReturnsTheExactBodyBytesAndNoContentBeforeAnyRequest) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  EXPECT_EQ(get(port, "/mock/last-request").status(), 204u);
  const std::string body =
      "{ \"model\" : \"m\",\n  \"messages\":[{\"role\":\"user\",\"content\":\"caf\xc3\xa9\"}] }";
  ASSERT_EQ(post(port, "/v1/chat/completions", body, {{"X-Custom", "Yes"}}).status(), 200u);
  auto last = get(port, "/mock/last-request");
  ASSERT_EQ(last.status(), 200u);
  EXPECT_EQ(last.header("content-type"), "application/json");
  EXPECT_EQ(last.body(), body);
  auto headers = get(port, "/mock/last-request-headers");
  EXPECT_EQ(headers.json().at("x-custom"), "Yes") << "names are lowercased";
  EXPECT_EQ(std::string_view(headers.json().at("content-length").as_string()),
            std::to_string(body.size()));
  EXPECT_EQ(get(port, "/mock/last-request").body(), body) << "/mock requests are not recorded";
}

TEST(MockServerTest, StatsCountsOnlyV1Requests) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  post(port, "/v1/chat/completions", chatBody("a"));
  get(port, "/v1/models");
  post(port, "/v1/chat/completions", "{broken");
  get(port, "/mock/config");
  EXPECT_EQ(get(port, "/mock/stats").json(), json::parse(R"({"requests":3})"));
  EXPECT_EQ(server->requestCount(), 3u);
}

TEST(MockServerTest, UnknownPathsGet404AndWrongMethodsGet405) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  auto missing = post(port, "/v1/nothing", "{}");
  ASSERT_EQ(missing.status(), 404u);
  EXPECT_EQ(missing.json().at("error").at("message"), "Invalid URL (POST /v1/nothing)");
  EXPECT_EQ(get(port, "/x").status(), 404u);
  EXPECT_EQ(get(port, "/").status(), 200u) << "clients probe the base URL";
  auto wrong = get(port, "/v1/chat/completions");
  ASSERT_EQ(wrong.status(), 405u);
  EXPECT_EQ(wrong.header("allow"), "POST");
  EXPECT_EQ(get(port, "/v1/messages").json().at("type"), "error") << "Anthropic format";
  EXPECT_EQ(post(port, "/v1/models", "{}").status(), 405u);
}

TEST(MockServerTest, KeepAliveServesManyRequestsOnOneConnectionAndHonoursConnectionClose) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  TestClient client(server->port());
  for (int i = 0; i < 20; ++i) {
    const bool stream = i % 2 == 1;
    auto result = client.send(http::verb::post, "/v1/chat/completions", chatBody("hi", stream));
    ASSERT_EQ(result.status(), 200u) << i;
    ASSERT_FALSE(result.error) << result.error.message();
    EXPECT_TRUE(result.response.keep_alive());
  }
  auto last = client.send(http::verb::get, "/v1/models", {}, {{"connection", "close"}});
  EXPECT_EQ(last.status(), 200u);
  EXPECT_FALSE(last.response.keep_alive());
  auto after = client.send(http::verb::get, "/v1/models");
  EXPECT_TRUE(after.error) << "the server closed the connection";
}

TEST(MockServerTest, AnOversizedBodyGets413) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  boost::system::error_code ec;
  const std::string raw = rawExchange(server->port(),
                                      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                      "Content-Length: 67108865\r\n\r\n{",
                                      ec);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 413 ")) << raw;
}

TEST(MockServerTest, ExpectContinueGetsAnInterimResponse) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const std::string body = chatBody("hi");
  boost::system::error_code ec;
  const std::string raw = rawExchange(server->port(),
                                      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                      "Expect: 100-continue\r\nConnection: close\r\n"
                                      "Content-Length: " +
                                          std::to_string(body.size()) + "\r\n\r\n" + body,
                                      ec);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")) << raw;
}

TEST(MockServerTest, SeveralIoThreadsServeConcurrentClients) {
  MockOptions options;
  options.threads = 3;
  auto server = startMock(options);
  ASSERT_NE(server, nullptr);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&, c] {
      TestClient client(server->port());
      for (int i = 0; i < 10; ++i) {
        auto result =
            client.send(http::verb::post, "/v1/chat/completions", chatBody("hi", (c + i) % 2 == 0));
        ok += result.status() == 200u && !result.error ? 1 : 0;
      }
    });
  }
  for (std::thread& t : clients) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 60);
  EXPECT_EQ(server->requestCount(), 60u);
}

TEST(MockServerTest, StartFailsWithAClearErrorWhenThePortIsTaken) {
  auto first = startMock();
  ASSERT_NE(first, nullptr);
  MockOptions options;
  options.port = first->port();
  auto second = MockServer::start(options);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::Unavailable);
  EXPECT_NE(second.error().message.find(std::to_string(first->port())), std::string::npos);
}

TEST(MockServerTest, StopIsIdempotentAndRefusesNewConnections) {
  auto server = startMock();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  server->stop();
  server->stop();
  server.reset();
  boost::system::error_code ec;
  rawExchange(port, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", ec);
  EXPECT_EQ(ec, boost::asio::error::connection_refused) << ec.message();
}

// Runs switchyard-mock with `args`; returns its pid and a FILE* on its stdout.
pid_t spawnMock(std::vector<std::string> args, FILE*& out) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  args.insert(args.begin(), SWITCHYARD_MOCK_BIN);
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  out = fdopen(fds[0], "r");
  return pid;
}

int waitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(MockCliTest, TheBinaryPrintsOneReadinessLineServesAndExitsCleanlyOnSigterm) {
  FILE* out = nullptr;
  const pid_t pid = spawnMock({"--port", "0", "--name", "proc-mock", "--reply-tokens", "3"}, out);
  ASSERT_GT(pid, 0);
  char line[256] = {};
  ASSERT_NE(std::fgets(line, sizeof(line), out), nullptr);
  const json::value ready = json::parse(line);
  EXPECT_EQ(ready.at("msg"), "listening");
  EXPECT_EQ(ready.at("name"), "proc-mock");
  EXPECT_EQ(ready.at("tls"), false);
  const auto port = static_cast<uint16_t>(ready.at("port").as_int64());
  auto result = post(port, "/v1/chat/completions", chatBody("hi"));
  EXPECT_EQ(result.json().at("choices").at(0).at("message").at("content"), "Hello from proc-mock.");
  kill(pid, SIGTERM);
  EXPECT_EQ(waitExit(pid), 0);
  std::fclose(out);
}

TEST(MockCliTest, TheBinaryExitsWithStatusTwoOnAnInvalidFlag) {
  FILE* out = nullptr;
  const pid_t pid = spawnMock({"--port", "0", "--name", "x", "--latency-ms", "-5"}, out);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitExit(pid), 2);
  std::fclose(out);
}

}  // namespace
}  // namespace sy::mock::testing
