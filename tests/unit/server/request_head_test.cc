// The pure parts of the head phase and the body budget: request ids, JSON content types, Host
// and the other head checks, the in-flight body budget, and what of a client's strings may be
// logged.
#include <gtest/gtest.h>

#include "gateway/server/pipeline/loggable.h"
#include "gateway/server/pipeline/pipeline.h"
#include "gateway/server/transport/body_budget.h"
#include "gateway/server/transport/request_limits.h"

namespace sy::server {
namespace {

TEST(ContentTypeTest, AcceptsApplicationJsonWithParametersInAnyCase) {
  EXPECT_TRUE(isJsonContentType("application/json"));
  EXPECT_TRUE(isJsonContentType("application/json; charset=utf-8"));
  EXPECT_TRUE(isJsonContentType("Application/JSON;charset=UTF-8"));
  EXPECT_TRUE(isJsonContentType(" application/json "));
}

TEST(ContentTypeTest, RefusesEveryOtherTypeAndNone) {
  EXPECT_FALSE(isJsonContentType(""));
  EXPECT_FALSE(isJsonContentType("text/plain"));
  EXPECT_FALSE(isJsonContentType("text/plain; charset=utf-8"));
  EXPECT_FALSE(isJsonContentType("application/x-www-form-urlencoded"));
  EXPECT_FALSE(isJsonContentType("multipart/form-data; boundary=x"));
  EXPECT_FALSE(isJsonContentType("application/jsonp"));
  EXPECT_FALSE(isJsonContentType("application/json-seq"));
  EXPECT_FALSE(isJsonContentType(";application/json"));
}

http::request<http::string_body> requestWith(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  http::request<http::string_body> request{http::verb::post, "/v1/chat/completions", 11};
  for (const auto& [name, value] : fields) {
    request.insert(name, value);
  }
  return request;
}

TEST(ClientRequestIdTest, PrefersXClientRequestIdAndKeepsOnlyWellFormedIds) {
  EXPECT_EQ(clientRequestId(requestWith({{"x-request-id", "abc-1"}})), "abc-1");
  EXPECT_EQ(clientRequestId(requestWith({{"x-client-request-id", "c-2"}, {"x-request-id", "r"}})),
            "c-2");
  EXPECT_EQ(
      clientRequestId(requestWith({{"x-client-request-id", "bad id"}, {"x-request-id", "r"}})),
      "r");
  EXPECT_EQ(clientRequestId(requestWith({{"x-request-id", "a/b"}})), "");
  EXPECT_EQ(clientRequestId(requestWith({})), "");
}

// Parses `text` as far as the end of its head.
std::optional<Rejection> checkHead(std::string_view text) {
  http::request_parser<http::string_body> parser;
  error_code ec;
  parser.put(net::buffer(text.data(), text.size()), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_header_done());
  return checkHeader(parser, config::ServerLimits{});
}

TEST(CheckHeaderTest, RefusesAnHttp11RequestWithoutHostOrAnyWithTwo) {
  auto missing = checkHead("GET /v1/models HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(missing);
  EXPECT_EQ(toHttpStatus(missing->error), 400u);
  EXPECT_EQ(missing->error.code_id, "malformed_request");
  EXPECT_NE(missing->error.message.find("Host"), std::string::npos);

  auto twice = checkHead("GET /v1/models HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  ASSERT_TRUE(twice);
  EXPECT_EQ(toHttpStatus(twice->error), 400u);
  EXPECT_NE(twice->error.message.find("more than one Host"), std::string::npos);

  EXPECT_TRUE(checkHead("GET /v1/models HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"));
  EXPECT_FALSE(checkHead("GET /v1/models HTTP/1.0\r\n\r\n"));  // HTTP/1.0 has no Host duty
  EXPECT_FALSE(checkHead("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"));
}

TEST(BodyBudgetTest, LeasesShareOneLimitAndGiveTheirBytesBack) {
  BodyBudget budget;
  {
    BodyLease a(budget);
    BodyLease b(budget);
    EXPECT_TRUE(a.cover(600, 1000));
    EXPECT_FALSE(b.cover(500, 1000));  // 600 + 500 > 1000: nothing taken
    EXPECT_EQ(b.bytes(), 0u);
    EXPECT_TRUE(b.cover(400, 1000));
    EXPECT_EQ(budget.inUse(), 1000u);
    EXPECT_TRUE(a.cover(300, 1000));  // already covered
    EXPECT_FALSE(a.cover(601, 1000));
  }
  EXPECT_EQ(budget.inUse(), 0u);
}

TEST(BodyBudgetTest, GrowsALeaseByTheDifferenceAndAccountsMemoryAlreadyAllocated) {
  BodyBudget budget;
  BodyLease lease(budget);
  EXPECT_TRUE(lease.cover(100, 1000));
  EXPECT_TRUE(lease.cover(900, 1000));
  EXPECT_EQ(budget.inUse(), 900u);
  lease.account(1200);  // beyond the limit: counted all the same
  EXPECT_EQ(budget.inUse(), 1200u);
  BodyLease other(budget);
  EXPECT_FALSE(other.cover(1, 1000));
  BodyLease moved(std::move(lease));
  EXPECT_EQ(moved.bytes(), 1200u);
  EXPECT_EQ(budget.inUse(), 1200u);
}

TEST(BodyBudgetTest, NeverOverflowsOnHugeRequests) {
  BodyBudget budget;
  BodyLease lease(budget);
  EXPECT_TRUE(lease.cover(10, 100));
  EXPECT_FALSE(lease.cover(UINT64_MAX, 100));
  EXPECT_EQ(budget.inUse(), 10u);
}

std::unique_ptr<const router::Catalog> catalog() {
  router::CatalogSpec spec;
  BackendSpec backend;
  backend.name = "local-a";
  backend.model = "llama";
  spec.backends = {backend};
  spec.tiers = {{"local", {"local-a"}}};
  spec.models = {{"gpt-4o", "local-a", ""}, {"claude-*", "", "local"}};
  auto built = router::Catalog::create(std::move(spec));
  EXPECT_TRUE(built) << built.error().message;
  return std::move(*built);
}

TEST(LoggableTest, WritesPolicyNamesAsTheyAreAndAnythingElseAsAHash) {
  const auto names = catalog();
  EXPECT_EQ(loggableModel(*names, "auto"), "auto");
  EXPECT_EQ(loggableModel(*names, "local"), "local");
  EXPECT_EQ(loggableModel(*names, "gpt-4o"), "gpt-4o");
  EXPECT_EQ(loggableModel(*names, ""), "");
  const std::string secret = loggableModel(*names, "sk-live-secret");
  EXPECT_EQ(secret, unknownWithHash("sk-live-secret"));
  EXPECT_EQ(secret.size(), std::string("<unknown:12345678>").size());
  EXPECT_TRUE(secret.starts_with("<unknown:") && secret.ends_with(">"));
  EXPECT_EQ(secret.find("sk-live"), std::string::npos);
  // A pattern's match is client text after the prefix: hashed too.
  EXPECT_TRUE(loggableModel(*names, "claude-sk-ant-secret").starts_with("<unknown:"));
  EXPECT_NE(unknownWithHash("a"), unknownWithHash("b"));
}

TEST(LoggableTest, KnownHashOfAValue) {
  // sha256("abc") = ba7816bf...
  EXPECT_EQ(unknownWithHash("abc"), "<unknown:ba7816bf>");
}

TEST(LoggableTest, LogsDataPlanePathsOnly) {
  EXPECT_EQ(loggablePath("/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(loggablePath("/v1/messages"), "/v1/messages");
  EXPECT_EQ(loggablePath("/v1/sk-live-secret"), unknownWithHash("/v1/sk-live-secret"));
  EXPECT_EQ(loggablePath("/v2/chat"), unknownWithHash("/v2/chat"));
}

}  // namespace
}  // namespace sy::server
