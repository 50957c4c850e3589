#include <gtest/gtest.h>

#include "gateway/server/pipeline/pipeline.h"

namespace sy::server {
namespace {

TEST(RequestIdTest, KeepsWellFormedClientIdsOnly) {
  EXPECT_TRUE(isWellFormedRequestId("req_123-abc.def:9"));
  EXPECT_TRUE(isWellFormedRequestId(std::string(128, 'a')));
  EXPECT_FALSE(isWellFormedRequestId(""));
  EXPECT_FALSE(isWellFormedRequestId(std::string(129, 'a')));
  EXPECT_FALSE(isWellFormedRequestId("a b"));
  EXPECT_FALSE(isWellFormedRequestId("a\r\nx-injected: 1"));
  EXPECT_FALSE(isWellFormedRequestId("<script>"));
}

TEST(JsonResponseTest, CarriesRequestIdServerLengthAndConnectionHeaders) {
  auto response = jsonResponse(404, R"({"error":{}})", "rid-1", false);
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_EQ(response["x-request-id"], "rid-1");
  EXPECT_EQ(response[http::field::server], "switchyard");
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response[http::field::content_length], "12");
  EXPECT_FALSE(response.keep_alive());
}

}  // namespace
}  // namespace sy::server
