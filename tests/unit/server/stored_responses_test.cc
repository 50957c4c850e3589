// The request-path side of stored Responses conversations (stored_responses.h): whether an answer
// is to be stored, the conversation a stored answer continues, the final-response hook that
// decides what is stored (completed answers within the size bound) and what the answer says, and
// the previous_response_id loader over a real SQLite store: its own key's turns, 404 for another
// key's or an unknown id, the policy's 400 with the store off.
#include "gateway/server/pipeline/stored_responses.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>

#include "gateway/config/config.h"
#include "observability/metrics.h"

namespace sy::server {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::shared_ptr<const config::Snapshot> snapshot(const std::string& responses) {
  auto config = config::loadConfigString(
      "auth: {anonymous: true}\n"
      "backends:\n"
      "  - {name: home, url: http://h, model: llama}\n"
      "tiers:\n"
      "  local: {backends: [home]}\n"
      "routing:\n"
      "  - {name: default, route: local}\n" +
          responses,
      "policy.yaml");
  EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().front().str());
  if (!config) {
    return nullptr;
  }
  auto built = config::Snapshot::build(std::move(*config), 1, false);
  EXPECT_TRUE(built.has_value());
  return built ? *built : nullptr;
}

policies::Principal keyed(std::string id) {
  policies::Principal principal;
  principal.key_id = std::move(id);
  return principal;
}

class StoredResponsesTest : public ::testing::Test {
 protected:
  StoredResponsesTest() {
    db_path_ = (std::filesystem::temp_directory_path() /
                ("sy_stored_responses_" + std::to_string(::getpid()) + ".db"))
                   .string();
    std::filesystem::remove(db_path_);
    policies::StateConfig state;
    state.sqlite_path = db_path_;
    auto store = makeSqliteResponseStore(state);
    EXPECT_TRUE(store.has_value());
    store_ = std::move(*store);
    ctx_.config = snapshot("responses: {store: true, max_bytes_per_response: 2048}\n");
    ctx_.principal = &alice_;
  }
  ~StoredResponsesTest() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::error_code ignored;
      std::filesystem::remove(db_path_ + suffix, ignored);
    }
  }

  // Runs `task` on io_ until it completes.
  template <class T>
  T run(net::awaitable<T> task) {
    std::optional<T> result;
    net::co_spawn(
        io_, [&]() -> net::awaitable<void> { result.emplace(co_await std::move(task)); },
        net::detached);
    io_.restart();
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!result && std::chrono::steady_clock::now() < give_up) {
      io_.run_one_for(100ms);
    }
    if (!result) {
      ADD_FAILURE() << "operation did not complete within 10 s";
      std::abort();
    }
    return std::move(*result);
  }

  // storeAnswer, run to its end.
  void store() { run(storeThenTrue()); }
  net::awaitable<bool> storeThenTrue() {
    co_await storeAnswer(ctx_, store_.get(), metrics_);
    co_return true;
  }

  void body(std::string_view text) { ctx_.body = json::parse(text).as_object(); }

  static json::object completed(std::string_view id, std::string_view text) {
    return json::object{
        {"id", id},
        {"object", "response"},
        {"status", "completed"},
        {"store", true},
        {"output",
         json::array{json::object{
             {"type", "message"},
             {"role", "assistant"},
             {"content", json::array{json::object{{"type", "output_text"}, {"text", text}}}}}}}};
  }

  net::io_context io_{1};
  std::string db_path_;
  std::unique_ptr<ResponseStore> store_;
  observability::GatewayMetrics metrics_;
  policies::Principal alice_ = keyed("alice");
  policies::Principal bob_ = keyed("bob");
  RequestContext ctx_;
};

TEST_F(StoredResponsesTest, AnswersAreStoredUnlessThePolicyTheKeyOrTheClientSaysNo) {
  body(R"({"model":"m","input":"hi"})");
  EXPECT_TRUE(willStoreAnswer(ctx_, store_.get()));
  EXPECT_FALSE(willStoreAnswer(ctx_, nullptr)) << "no store running";
  body(R"({"model":"m","input":"hi","store":false})");
  EXPECT_FALSE(willStoreAnswer(ctx_, store_.get())) << "the client declines";
  body(R"({"model":"m","input":"hi","store":true})");
  EXPECT_TRUE(willStoreAnswer(ctx_, store_.get()));
  policies::Principal anonymous = keyed("anonymous");
  anonymous.anonymous = true;
  ctx_.principal = &anonymous;
  EXPECT_FALSE(willStoreAnswer(ctx_, store_.get())) << "anonymous requests are never stored";
  ctx_.principal = &alice_;
  ctx_.config = snapshot("");
  EXPECT_FALSE(willStoreAnswer(ctx_, store_.get())) << "responses.store defaults to false";
}

TEST_F(StoredResponsesTest, ConversationInputIsThePriorTurnsThenThisRequestsInputItems) {
  const json::array prior = json::parse(
                                R"([{"type":"message","role":"user","content":"one"},
          {"type":"message","role":"assistant","content":[{"type":"output_text","text":"two"}]}])")
                                .as_array();
  EXPECT_EQ(
      json::serialize(conversationInput(json::parse(R"({"input":"three"})").as_object(), &prior)),
      R"([{"type":"message","role":"user","content":"one"},)"
      R"({"type":"message","role":"assistant","content":[{"type":"output_text","text":"two"}]},)"
      R"({"type":"message","role":"user","content":"three"}])");
  EXPECT_EQ(
      json::serialize(conversationInput(
          json::parse(R"({"input":[{"role":"user","content":"a"},{"type":"function_call_output",)"
                      R"("call_id":"c","output":"b"}]})")
              .as_object(),
          nullptr)),
      R"([{"role":"user","content":"a"},{"type":"function_call_output","call_id":"c","output":"b"}])");
}

TEST_F(StoredResponsesTest, ACompletedAnswerBecomesTheRecordOfWhatTheClientSaw) {
  ctx_.store_items = json::array{json::object{{"role", "user"}, {"content", "hi"}}};
  json::object response = completed("resp_1", "hello");
  keepForStore(ctx_, response);
  EXPECT_EQ(response.at("store"), true);
  ASSERT_TRUE(ctx_.stored.has_value());
  EXPECT_EQ(ctx_.stored->id, "resp_1");
  EXPECT_FALSE(ctx_.stored->too_large);
  auto record = decodeStoredConversation(ctx_.stored->record);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->response, response);
  EXPECT_EQ(json::serialize(record->items),
            R"([{"role":"user","content":"hi"},{"type":"message","role":"assistant",)"
            R"("content":[{"type":"output_text","text":"hello"}]}])");
}

TEST_F(StoredResponsesTest, IncompleteFailedAndOversizedAnswersSayStoreFalseAndAreNotStored) {
  ctx_.store_items = json::array{};
  for (std::string_view status : {"incomplete", "failed"}) {
    json::object response = completed("resp_1", "hello");
    response["status"] = status;
    keepForStore(ctx_, response);
    EXPECT_EQ(response.at("store"), false) << status;
    EXPECT_FALSE(ctx_.stored.has_value()) << status;
  }
  json::object big = completed("resp_2", std::string(4096, 'x'));  // over the 2048-byte bound
  keepForStore(ctx_, big);
  EXPECT_EQ(big.at("store"), false);
  ASSERT_TRUE(ctx_.stored.has_value());
  EXPECT_TRUE(ctx_.stored->too_large);
  store();
  EXPECT_EQ(metrics_.responses_stored_total.Add({{"outcome", "too_large"}}).Value(), 1);
  auto found = run(store_->get("resp_2", "alice"));
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
}

TEST_F(StoredResponsesTest, WithoutStoreItemsTheAnswerSaysStoreFalse) {
  json::object response = completed("resp_1", "hello");
  keepForStore(ctx_, response);
  EXPECT_EQ(response.at("store"), false);
  EXPECT_FALSE(ctx_.stored.has_value());
}

TEST_F(StoredResponsesTest, AStoredAnswerIsTheNextTurnsPriorForItsKeyOnly) {
  ctx_.store_items = json::array{json::object{{"role", "user"}, {"content", "card 4111"}}};
  json::object response = completed("resp_abc", "noted");
  keepForStore(ctx_, response);
  store();
  EXPECT_FALSE(ctx_.stored.has_value());
  EXPECT_EQ(metrics_.responses_stored_total.Add({{"outcome", "stored"}}).Value(), 1);

  body(R"({"model":"m","input":"and?","previous_response_id":"resp_abc"})");
  auto prior = run(previousTurns(ctx_, store_.get()));
  ASSERT_TRUE(prior.has_value()) << prior.error().message;
  ASSERT_TRUE(prior->has_value());
  EXPECT_EQ(json::serialize(**prior),
            R"([{"role":"user","content":"card 4111"},{"type":"message","role":"assistant",)"
            R"("content":[{"type":"output_text","text":"noted"}]}])");

  ctx_.principal = &bob_;
  auto other = run(previousTurns(ctx_, store_.get()));
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, ErrorCode::NotFound);
  EXPECT_EQ(other.error().code_id, "response_not_found");
  EXPECT_EQ(other.error().param, "previous_response_id");
  EXPECT_EQ(other.error().message.find("card"), std::string::npos);
}

TEST_F(StoredResponsesTest, PreviousTurnsNeedsAnIdAndTheStore) {
  body(R"({"model":"m","input":"hi"})");
  auto none = run(previousTurns(ctx_, store_.get()));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  body(R"({"model":"m","input":"hi","previous_response_id":7})");
  auto odd = run(previousTurns(ctx_, store_.get()));
  ASSERT_TRUE(odd.has_value()) << "not a string: left to the decoder's 400";
  EXPECT_FALSE(odd->has_value());

  body(R"({"model":"m","input":"hi","previous_response_id":"resp_unknown"})");
  auto unknown = run(previousTurns(ctx_, store_.get()));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message, "Response with id 'resp_unknown' not found.");
  ctx_.config = snapshot("");
  auto off = run(previousTurns(ctx_, store_.get()));
  ASSERT_FALSE(off.has_value());
  EXPECT_EQ(off.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(off.error().code_id, "response_store_disabled");
  EXPECT_EQ(off.error().param, "previous_response_id");
}

}  // namespace
}  // namespace sy::server
