// The forward phase in-process: the real Pipeline (begin + finish, every phase) on a policy
// loaded from YAML, with a scripted FakeUpstream instead of sockets and a recording Downstream
// instead of a client. Failover inside a tier, fallback tiers, "fallback never widens exposure",
// the DLP transform per destination, budget downgrade, and no retry once bytes reached the
// client. The same behaviours run end to end against the mock in tests/e2e/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/server/pipeline/pipeline.h"
#include "policies/keys.h"
#include "tests/unit/server/fake_upstream.h"

namespace sy::server {
namespace {

constexpr std::string_view kCard = "4111 1111 1111 1111";
constexpr std::string_view kEmail = "jane.doe@example.com";

// The client as the pipeline sees it: everything written, in order.
class RecordingDownstream final : public Downstream {
 public:
  unsigned status = 0;
  http::fields headers;
  std::string body;    // a whole response's body, or a stream's chunks joined
  size_t answers = 0;  // responses and stream heads written: the client must see exactly one
  size_t chunks = 0;
  bool ended = false;  // a stream's last chunk was written

  // sy::server::Downstream
  net::awaitable<error_code> writeResponse(http::response<http::string_body>& response) override {
    ++answers;
    status = response.result_int();
    headers = static_cast<const http::fields&>(response);
    body = response.body();
    co_return error_code{};
  }
  net::awaitable<error_code> writeHead(http::response<http::empty_body>& head) override {
    ++answers;
    status = head.result_int();
    headers = static_cast<const http::fields&>(head);
    co_return error_code{};
  }
  net::awaitable<error_code> writeChunk(std::string_view data) override {
    ++chunks;
    body += data;
    co_return error_code{};
  }
  net::awaitable<error_code> writeLastChunk() override {
    ended = true;
    co_return error_code{};
  }

  std::string route() const { return std::string(headers["x-switchyard-route"]); }
  // The assistant's text of a non-streamed OpenAI answer.
  std::string content() const {
    const boost::json::value parsed = boost::json::parse(body);
    const boost::json::object& choice =
        parsed.as_object().at("choices").as_array().at(0).as_object();
    return std::string(choice.at("message").as_object().at("content").as_string());
  }
};

struct Answer {
  RecordingDownstream client;
  StreamEnd stream_end = StreamEnd::Complete;
};

// One worker's pipeline on `yaml`, forwarding through `upstream`. With `limits`, the policy's
// state store (SQLite, at a path unique to the test) enforces its limits and budgets.
class InProcessGateway {
 public:
  explicit InProcessGateway(const std::string& yaml, bool limits = false)
      : snapshots_(build(yaml)),
        store_(limits ? openStore(*snapshots_.get()) : nullptr),
        shared_{snapshots_, metrics_, store_.get(), nullptr, &states_},
        worker_(io_.get_executor(), shared_),
        pipeline_(worker_, upstream) {
    states_.setPolicy(snapshots_.get()->config().resilience.selection);
  }
  ~InProcessGateway() {
    if (store_) {
      store_->flush();
      store_.reset();
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::error_code ignored;
        std::filesystem::remove(store_path_ + suffix, ignored);
      }
    }
  }

  // POST /v1/chat/completions, run through begin() and finish() to the end.
  Answer chat(std::string_view model, std::string_view text, bool stream = false,
              std::string_view key = "") {
    boost::json::object message;
    message["role"] = "user";
    message["content"] = text;
    boost::json::array messages;
    messages.push_back(std::move(message));
    boost::json::object body;
    body["model"] = model;
    body["messages"] = std::move(messages);
    if (stream) {
      body["stream"] = true;
    }
    return post("/v1/chat/completions", body, key);
  }

  // POST /v1/responses with `text` as the input.
  Answer responses(std::string_view model, std::string_view text) {
    boost::json::object body;
    body["model"] = model;
    body["input"] = text;
    return post("/v1/responses", body, "");
  }

  // POSTs `body` to `target`, run through begin() and finish() to the end.
  Answer post(std::string_view target, const boost::json::object& body, std::string_view key) {
    http::request<http::string_body> request{http::verb::post, target, 11};
    request.set(http::field::host, "gateway");
    request.set(http::field::content_type, "application/json");
    if (!key.empty()) {
      request.set(http::field::authorization, "Bearer " + std::string(key));
    }
    request.body() = boost::json::serialize(body);
    request.prepare_payload();
    Answer answer;
    RequestContext ctx;
    ctx.started_at = std::chrono::steady_clock::now();
    bool done = false;
    std::exception_ptr thrown;
    net::co_spawn(
        io_,
        [&]() -> net::awaitable<void> {
          if (co_await pipeline_.begin(request, false, answer.client, ctx)) {
            co_await pipeline_.finish(answer.client, ctx);
          }
        },
        [&](std::exception_ptr e) {
          thrown = e;
          done = true;
        });
    while (!done) {
      io_.run_one();  // the worker's deadline sweeper keeps the context busy: run until done
    }
    if (thrown) {
      std::rethrow_exception(thrown);
    }
    answer.stream_end = ctx.stream_end;
    return answer;
  }

  router::BackendStatus backend(std::string_view name) { return states_.state(name).status(); }
  // The value of one counter child in the metrics text (`series`: name{labels} as exported,
  // labels sorted by name), or -1 when it was never created.
  double counter(std::string_view series) const {
    const std::string text = metrics_.serialize();
    const size_t at = text.find("\n" + std::string(series) + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
  }

  FakeUpstream upstream;

 private:
  static std::shared_ptr<const config::Snapshot> build(const std::string& yaml) {
    auto config = config::loadConfigString(yaml, "policy.yaml");
    if (!config) {
      for (const auto& error : config.error()) {
        ADD_FAILURE() << error.str();
      }
      std::abort();
    }
    auto snapshot = config::Snapshot::build(std::move(*config), 1);
    if (!snapshot) {
      for (const auto& error : snapshot.error()) {
        ADD_FAILURE() << error.str();
      }
      std::abort();
    }
    return *snapshot;
  }

  std::unique_ptr<LimitStore> openStore(const config::Snapshot& snapshot) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    store_path_ = (std::filesystem::temp_directory_path() /
                   ("sy_forward_" + std::to_string(::getpid()) + "_" + info->name() + ".db"))
                      .string();
    policies::StateConfig state = snapshot.config().state;
    state.sqlite_path = store_path_;
    auto store = makeLocalLimitStore(state);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  net::io_context io_{1};
  observability::GatewayMetrics metrics_;
  router::BackendStates states_;
  config::SnapshotHolder snapshots_;
  std::string store_path_;
  std::unique_ptr<LimitStore> store_;
  SharedState shared_;
  WorkerState worker_;
  Pipeline pipeline_;
};

// A policy with `backends` (backend() lines) and the `rest`. Backoff of 1 ms: retries do not slow
// the tests down. Of two idle backends, the one with the larger weight is always tried first
// (P2C keeps the lower load per weight), so failover order is deterministic.
std::string policy(std::string_view backends, std::string_view rest) {
  return "server: {access_log: false}\n"
         "resilience: {retries: {max_attempts: 3, backoff: 1ms, max_backoff: 1ms}}\n"
         "backends:\n" +
         std::string(backends) + std::string(rest);
}

std::string backend(std::string_view name, std::string_view location, uint32_t weight = 1,
                    std::string_view cost = "{input_per_mtok: 0, output_per_mtok: 0}") {
  return "  - {name: " + std::string(name) +
         ", url: 'http://127.0.0.1:9', model: " + std::string(name) +
         "-model, location: " + std::string(location) + ", weight: " + std::to_string(weight) +
         ", cost: " + std::string(cost) + "}\n";
}

// --- failover inside a tier ----------------------------------------------------------------

TEST(ForwardTest, FailsOverInsideTheTierWhenTheFirstBackendAnswers503) {
  InProcessGateway gateway(policy(backend("a", "self-hosted", 10) + backend("b", "self-hosted"),
                                  "tiers:\n  pair: {backends: [a, b]}\nauth: {anonymous: true}\n"));
  gateway.upstream.script("a", {FakeReply::error(503)});
  gateway.upstream.script("b", {FakeReply::answer("from b")});

  const Answer answer = gateway.chat("pair", "hello");

  EXPECT_EQ(answer.client.status, 200u) << answer.client.body;
  EXPECT_EQ(answer.client.answers, 1u) << "the client sees one answer, not the 503";
  EXPECT_EQ(answer.client.content(), "from b");
  EXPECT_EQ(answer.client.route().substr(0, 27), "tier=pair; backend=b; model");
  EXPECT_EQ(gateway.upstream.sentTo("a").size(), 1u);
  EXPECT_EQ(gateway.upstream.sentTo("b").size(), 1u);
  EXPECT_EQ(gateway.upstream.sent()[0].backend, "a");
  EXPECT_EQ(gateway.upstream.sentTo("b")[0].target, "/v1/chat/completions");
  // The breaker saw both outcomes.
  EXPECT_EQ(gateway.backend("a").consecutive_failures, 1u);
  EXPECT_EQ(gateway.backend("b").consecutive_failures, 0u);
  EXPECT_EQ(gateway.upstream.released(), 1u) << "b's answer was read whole: reusable";
  EXPECT_EQ(gateway.counter(R"(switchyard_upstream_retries_total{backend="a",reason="status"})"),
            1);
}

TEST(ForwardTest, FailsOverInsideTheTierOnAConnectErrorOrATimeout) {
  for (const FakeReply& failure : {FakeReply::refused(), FakeReply::timeout()}) {
    InProcessGateway gateway(policy(backend("a", "self-hosted", 10) + backend("b", "self-hosted"),
                                    "tiers:\n  pair: {backends: [a, b]}\n"
                                    "auth: {anonymous: true}\n"));
    gateway.upstream.script("a", {failure});
    gateway.upstream.script("b", {FakeReply::answer("from b")});

    const Answer answer = gateway.chat("pair", "hello");

    EXPECT_EQ(answer.client.status, 200u) << answer.client.body;
    EXPECT_EQ(answer.client.answers, 1u);
    EXPECT_EQ(answer.client.content(), "from b");
    ASSERT_EQ(gateway.upstream.sent().size(), 2u);
    EXPECT_EQ(gateway.upstream.sent()[0].backend, "a");
    EXPECT_FALSE(gateway.upstream.sent()[0].delivered);
    EXPECT_EQ(gateway.backend("a").consecutive_failures, 1u);
    const std::string reason =
        failure.failure == FakeReply::Failure::Refused ? "unreachable" : "timeout";
    EXPECT_EQ(gateway.counter("switchyard_upstream_retries_total{backend=\"a\",reason=\"" +
                              reason + "\"}"),
              1);
  }
}

TEST(ForwardTest, RelaysTheLastTrysErrorAsIsWhenEveryTryFailed) {
  InProcessGateway gateway(policy(backend("a", "self-hosted", 10) + backend("b", "self-hosted"),
                                  "tiers:\n  pair: {backends: [a, b]}\nauth: {anonymous: true}\n"));
  gateway.upstream.script("a", {FakeReply::error(503)});
  gateway.upstream.script("b", {FakeReply::error(503)});

  const Answer answer = gateway.chat("pair", "hello");

  // max_attempts: 3 tries over the tier, the last one's 503 goes to the client unchanged.
  EXPECT_EQ(answer.client.status, 503u);
  EXPECT_EQ(answer.client.answers, 1u);
  EXPECT_EQ(gateway.upstream.sent().size(), 3u);
}

// --- fallback tiers ------------------------------------------------------------------------

TEST(ForwardTest, TriesTheFallbackTierOnceTheRoutesTierIsExhausted) {
  InProcessGateway gateway(
      policy(backend("a", "self-hosted") + backend("b", "self-hosted"),
             "tiers:\n  primary: {backends: [a]}\n  backup: {backends: [b]}\n"
             "routing:\n  - {name: with-backup, route: primary, fallback: [backup]}\n"
             "auth: {anonymous: true}\n"));
  gateway.upstream.script("a", {FakeReply::error(502)});
  gateway.upstream.script("b", {FakeReply::answer("from the backup tier")});

  const Answer answer = gateway.chat("auto", "hello");

  EXPECT_EQ(answer.client.status, 200u) << answer.client.body;
  EXPECT_EQ(answer.client.answers, 1u);
  EXPECT_EQ(answer.client.content(), "from the backup tier");
  EXPECT_EQ(answer.client.route().substr(0, 31), "tier=backup; backend=b; model=b");
  // A tier of one backend is retried up to max_attempts before the fallback tier.
  EXPECT_EQ(gateway.upstream.sentTo("a").size(), 3u);
  EXPECT_EQ(gateway.upstream.sentTo("b").size(), 1u);
  EXPECT_EQ(gateway.upstream.sent().back().backend, "b");
  // Two retries inside the tier (the third try is not one after the tier's last), one fallback.
  EXPECT_EQ(gateway.counter(R"(switchyard_upstream_retries_total{backend="a",reason="status"})"),
            2);
  EXPECT_EQ(gateway.counter(R"(switchyard_fallbacks_total{from_tier="primary",to_tier="backup"})"),
            1);
}

TEST(ForwardTest, AClientErrorIsNotRetriedNorSentToTheFallbackTier) {
  InProcessGateway gateway(
      policy(backend("a", "self-hosted") + backend("b", "self-hosted"),
             "tiers:\n  primary: {backends: [a]}\n  backup: {backends: [b]}\n"
             "routing:\n  - {name: with-backup, route: primary, fallback: [backup]}\n"
             "auth: {anonymous: true}\n"));
  gateway.upstream.script("a", {FakeReply::error(400)});

  const Answer answer = gateway.chat("auto", "hello");

  EXPECT_EQ(answer.client.status, 400u);
  EXPECT_EQ(gateway.upstream.sent().size(), 1u);
  EXPECT_TRUE(gateway.upstream.sentTo("b").empty());
  EXPECT_EQ(gateway.counter(R"(switchyard_upstream_retries_total{backend="a",reason="status"})"),
            -1);
  EXPECT_EQ(gateway.counter(R"(switchyard_fallbacks_total{from_tier="primary",to_tier="backup"})"),
            -1);
}

// --- fallback never widens exposure --------------------------------------------------------

constexpr std::string_view kCardsStayHome =
    "dlp:\n  actions:\n"
    "    - {name: cards-stay-home, detectors: [credit_card], destination: external, "
    "action: block}\n";

TEST(ForwardTest, ARequestDlpKeepsHomeIsA503WhenTheSelfHostedBackendsFailAndNeverLeaves) {
  InProcessGateway gateway(
      policy(backend("local", "self-hosted", 10) + backend("cloud", "external"),
             "tiers:\n  mixed: {backends: [local, cloud]}\nauth: {anonymous: true}\n" +
                 std::string(kCardsStayHome)));
  gateway.upstream.script("local", {FakeReply::refused()});
  gateway.upstream.script("cloud", {FakeReply::answer("the cloud would have answered")});

  const Answer answer = gateway.chat("mixed", "Charge " + std::string(kCard) + " please");

  EXPECT_EQ(answer.client.status, 503u) << answer.client.body;
  EXPECT_EQ(answer.client.answers, 1u);
  EXPECT_EQ(answer.client.body.find("1111"), std::string::npos) << answer.client.body;
  EXPECT_TRUE(gateway.upstream.sentTo("cloud").empty()) << "the external backend saw nothing";
  EXPECT_EQ(gateway.upstream.sentTo("local").size(), 3u);  // retried, never widened
}

TEST(ForwardTest, TheSameFailureSendsACleanRequestToTheExternalBackend) {
  // The control for the test above: without the card, the external backend is a candidate.
  InProcessGateway gateway(
      policy(backend("local", "self-hosted", 10) + backend("cloud", "external"),
             "tiers:\n  mixed: {backends: [local, cloud]}\nauth: {anonymous: true}\n" +
                 std::string(kCardsStayHome)));
  gateway.upstream.script("local", {FakeReply::refused()});
  gateway.upstream.script("cloud", {FakeReply::answer("from the cloud")});

  const Answer answer = gateway.chat("mixed", "Nothing sensitive here");

  EXPECT_EQ(answer.client.status, 200u) << answer.client.body;
  EXPECT_EQ(answer.client.content(), "from the cloud");
  EXPECT_EQ(gateway.upstream.sentTo("cloud").size(), 1u);
}

// --- the DLP transform is applied per destination -----------------------------------------

constexpr std::string_view kEmailsPseudonymized =
    "dlp:\n  actions:\n"
    "    - {name: emails-pseudonymized, detectors: [email], destination: external, "
    "action: pseudonymize}\n";

bool isPseudonymized(const std::string& sent) {
  return sent.starts_with("Write to <EMAIL_") && sent.ends_with("> today.") &&
         sent.find(kEmail) == std::string::npos;
}

TEST(ForwardTest, FailingOverFromExternalToSelfHostedSendsTheOriginals) {
  InProcessGateway gateway(
      policy(backend("cloud", "external", 10) + backend("local", "self-hosted"),
             "tiers:\n  mixed: {backends: [cloud, local]}\nauth: {anonymous: true}\n" +
                 std::string(kEmailsPseudonymized)));
  gateway.upstream.script("cloud", {FakeReply::error(503)});
  gateway.upstream.script("local", {FakeReply::echoing()});
  const std::string text = "Write to " + std::string(kEmail) + " today.";

  const Answer answer = gateway.chat("mixed", text);

  ASSERT_EQ(answer.client.status, 200u) << answer.client.body;
  ASSERT_EQ(gateway.upstream.sent().size(), 2u);
  EXPECT_EQ(gateway.upstream.sent()[0].backend, "cloud");
  EXPECT_TRUE(isPseudonymized(gateway.upstream.sent()[0].lastMessageText()))
      << gateway.upstream.sent()[0].lastMessageText();
  EXPECT_EQ(gateway.upstream.sent()[1].backend, "local");
  EXPECT_EQ(gateway.upstream.sent()[1].lastMessageText(), text);
  EXPECT_EQ(answer.client.content(), text);
}

TEST(ForwardTest, FailingOverFromSelfHostedToExternalPseudonymizesAndRestoresTheAnswer) {
  InProcessGateway gateway(
      policy(backend("local", "self-hosted", 10) + backend("cloud", "external"),
             "tiers:\n  mixed: {backends: [local, cloud]}\nauth: {anonymous: true}\n" +
                 std::string(kEmailsPseudonymized)));
  gateway.upstream.script("local", {FakeReply::error(503)});
  gateway.upstream.script("cloud", {FakeReply::echoing()});
  const std::string text = "Write to " + std::string(kEmail) + " today.";

  const Answer answer = gateway.chat("mixed", text);

  ASSERT_EQ(answer.client.status, 200u) << answer.client.body;
  ASSERT_EQ(gateway.upstream.sent().size(), 2u);
  EXPECT_EQ(gateway.upstream.sent()[0].backend, "local");
  EXPECT_EQ(gateway.upstream.sent()[0].lastMessageText(), text);
  EXPECT_EQ(gateway.upstream.sent()[1].backend, "cloud");
  EXPECT_TRUE(isPseudonymized(gateway.upstream.sent()[1].lastMessageText()))
      << gateway.upstream.sent()[1].lastMessageText();
  // The cloud echoed the pseudonym; the client gets its own address back.
  EXPECT_EQ(answer.client.content(), text);
  EXPECT_EQ(answer.client.body.find("<EMAIL"), std::string::npos);
}

// A Responses client: its body passes through to the backend serving /v1/responses,
// pseudonymized for that external destination; when that backend fails, the self-hosted chat-only
// backend gets the canonical request translated from the client's body with the originals.
TEST(ForwardTest, AResponsesBodyPassesThroughAndFailsOverTranslatedWithTheOriginals) {
  InProcessGateway gateway(policy(
      "  - {name: cloud, url: 'http://127.0.0.1:9', model: cloud-model, location: external, "
      "weight: 10, api: responses}\n"
      "  - {name: local, url: 'http://127.0.0.1:9', model: local-model, location: self-hosted, "
      "api: chat}\n",
      "tiers:\n  mixed: {backends: [cloud, local]}\nauth: {anonymous: true}\n" +
          std::string(kEmailsPseudonymized)));
  gateway.upstream.script("cloud", {FakeReply::error(503)});
  gateway.upstream.script("local", {FakeReply::echoing()});
  const std::string text = "Write to " + std::string(kEmail) + " today.";

  const Answer answer = gateway.responses("mixed", text);

  ASSERT_EQ(answer.client.status, 200u) << answer.client.body;
  ASSERT_EQ(gateway.upstream.sent().size(), 2u);
  const SentRequest& passed = gateway.upstream.sent()[0];
  EXPECT_EQ(passed.backend, "cloud");
  EXPECT_EQ(passed.target, "/v1/responses");
  const boost::json::object native = boost::json::parse(passed.body).as_object();
  EXPECT_EQ(native.at("model"), "cloud-model");
  EXPECT_EQ(native.at("store"), false);
  EXPECT_FALSE(native.contains("messages"));
  EXPECT_TRUE(isPseudonymized(std::string(native.at("input").as_string()))) << passed.body;
  const SentRequest& translated = gateway.upstream.sent()[1];
  EXPECT_EQ(translated.backend, "local");
  EXPECT_EQ(translated.target, "/v1/chat/completions");
  EXPECT_EQ(translated.lastMessageText(), text);
  EXPECT_NE(answer.client.body.find(R"("object":"response")"), std::string::npos);
  EXPECT_NE(answer.client.body.find(text), std::string::npos) << answer.client.body;
}

// responses.builtin_tools: allow: a request with a built-in tool goes only to a backend that runs
// it (kind openai serving /v1/responses), never to the tier's others, even when they come first.
TEST(ForwardTest, BuiltInToolsAreRoutedOnlyToAnOpenAiResponsesBackend) {
  InProcessGateway gateway(policy(
      "  - {name: local, url: 'http://127.0.0.1:9', model: local-model, location: self-hosted, "
      "weight: 10, api: chat}\n"
      "  - {name: cloud, url: 'http://127.0.0.1:9', model: cloud-model, location: external, "
      "api: responses}\n",
      "tiers:\n  mixed: {backends: [local, cloud]}\n  home: {backends: [local]}\n"
      "auth: {anonymous: true}\nresponses: {builtin_tools: allow}\n"));
  gateway.upstream.script("cloud", {FakeReply::error(503)});
  const boost::json::object body =
      boost::json::parse(R"({"model":"mixed","input":"news?","tools":[{"type":"web_search"}]})")
          .as_object();

  Answer answer = gateway.post("/v1/responses", body, "");

  EXPECT_EQ(answer.client.status, 503u) << "the cloud's 503, not a try on local";
  const size_t tries = gateway.upstream.sent().size();
  ASSERT_GE(tries, 1u);
  EXPECT_EQ(gateway.upstream.sentTo("cloud").size(), tries) << "every retry on cloud";
  EXPECT_NE(gateway.upstream.sent()[0].body.find(R"("tools":[{"type":"web_search"}])"),
            std::string::npos);

  boost::json::object home = body;
  home["model"] = "home";
  answer = gateway.post("/v1/responses", home, "");
  EXPECT_EQ(answer.client.status, 400u);
  EXPECT_NE(answer.client.body.find("supports built-in OpenAI tools"), std::string::npos)
      << answer.client.body;
  EXPECT_EQ(gateway.upstream.sent().size(), tries) << "nothing left for the chat-only tier";
}

// --- budget downgrade ----------------------------------------------------------------------

// A key with a 0.05 USD daily budget. A request reserves about (20 prompt + 50 output) tokens:
// ~0.07 USD on `dear` (1000 USD per million tokens), nothing on `cheap`.
std::string budgetPolicy(const std::string& key_hash, bool downgrade) {
  return policy(backend("cheap", "self-hosted") +
                    backend("dear", "external", 1, "{input_per_mtok: 1000, output_per_mtok: 1000}"),
                "tiers:\n  local: {backends: [cheap]}\n  frontier: {backends: [dear]}\n"
                "keys:\n  - {id: spender, hash: '" +
                    key_hash +
                    "', limits: {budget_usd: {day: 0.05}}}\n"
                    "limits: {default_max_tokens: 50, min_output_tokens: 50" +
                    (downgrade ? ", on_budget_exhausted: downgrade, downgrade_tier: local" : "") +
                    "}\n");
}

TEST(ForwardTest, ASpentBudgetDowngradesTheRequestToTheCheaperTier) {
  const auto key = policies::generateKey("spender");
  ASSERT_TRUE(key);
  InProcessGateway gateway(budgetPolicy(policies::hashKey(*key, ""), true), /*limits=*/true);
  gateway.upstream.script("cheap", {FakeReply::answer("from the cheap tier")});

  const Answer answer = gateway.chat("frontier", "Say hello to everyone.", false, *key);

  EXPECT_EQ(answer.client.status, 200u) << answer.client.body;
  EXPECT_EQ(answer.client.content(), "from the cheap tier");
  EXPECT_EQ(answer.client.route().substr(0, 26), "tier=local; backend=cheap;");
  EXPECT_EQ(gateway.upstream.sentTo("cheap").size(), 1u);
  EXPECT_TRUE(gateway.upstream.sentTo("dear").empty());
}

TEST(ForwardTest, WithoutDowngradeASpentBudgetIsA429AndNothingIsSent) {
  const auto key = policies::generateKey("spender");
  ASSERT_TRUE(key);
  InProcessGateway gateway(budgetPolicy(policies::hashKey(*key, ""), false), /*limits=*/true);

  const Answer answer = gateway.chat("frontier", "Say hello to everyone.", false, *key);

  EXPECT_EQ(answer.client.status, 429u) << answer.client.body;
  EXPECT_NE(answer.client.body.find("budget_exceeded"), std::string::npos) << answer.client.body;
  EXPECT_TRUE(gateway.upstream.sent().empty());
}

// --- no retry once bytes reached the client ------------------------------------------------

TEST(ForwardTest, AStreamThatBreaksMidwayIsNotReplayedOnAnotherBackend) {
  InProcessGateway gateway(policy(backend("a", "self-hosted", 10) + backend("b", "self-hosted"),
                                  "tiers:\n  pair: {backends: [a, b]}\nauth: {anonymous: true}\n"));
  FakeReply broken = FakeReply::stream({"Hel", "lo"});
  broken.chunks.pop_back();  // no [DONE]: the connection resets after two events
  broken.failure = FakeReply::Failure::BreakStream;
  gateway.upstream.script("a", {broken});
  gateway.upstream.script("b", {FakeReply::stream({"from b"})});

  const Answer answer = gateway.chat("pair", "hello", /*stream=*/true);

  EXPECT_EQ(answer.client.status, 200u);
  EXPECT_EQ(answer.client.answers, 1u);
  EXPECT_NE(answer.client.body.find(R"("content":"Hel")"), std::string::npos) << answer.client.body;
  EXPECT_NE(answer.client.body.find(R"("error")"), std::string::npos)
      << "the break is reported in-band: " << answer.client.body;
  EXPECT_TRUE(answer.client.ended);
  EXPECT_EQ(answer.stream_end, StreamEnd::UpstreamBroke);
  EXPECT_EQ(gateway.upstream.sent().size(), 1u);
  EXPECT_TRUE(gateway.upstream.sentTo("b").empty()) << "nothing is retried once bytes went out";
  EXPECT_EQ(gateway.upstream.released(), 0u) << "a broken stream's connection is not reused";
}

TEST(ForwardTest, ACompleteStreamIsRelayedWholeAndItsConnectionReleased) {
  InProcessGateway gateway(policy(backend("a", "self-hosted"),
                                  "tiers:\n  one: {backends: [a]}\nauth: {anonymous: true}\n"));
  gateway.upstream.script("a", {FakeReply::stream({"Hel", "lo"})});

  const Answer answer = gateway.chat("one", "hello", /*stream=*/true);

  EXPECT_EQ(answer.client.status, 200u);
  EXPECT_EQ(answer.client.headers[http::field::content_type], "text/event-stream; charset=utf-8");
  EXPECT_NE(answer.client.body.find("[DONE]"), std::string::npos) << answer.client.body;
  EXPECT_TRUE(answer.client.ended);
  EXPECT_EQ(answer.stream_end, StreamEnd::Complete);
  EXPECT_EQ(gateway.upstream.chunksRead(), 3u);
  EXPECT_EQ(gateway.upstream.released(), 1u);
}

}  // namespace
}  // namespace sy::server
