#include "core/error.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace sy {
namespace {

TEST(ErrorTest, SourceDecidesBetweenClientAndUpstreamStatuses) {
  const struct {
    ErrorCode code;
    ErrorSource source;
    unsigned status;
  } cases[] = {
      {ErrorCode::InvalidArgument, ErrorSource::Downstream, 400},
      {ErrorCode::Unauthenticated, ErrorSource::Downstream, 401},
      {ErrorCode::PermissionDenied, ErrorSource::Downstream, 403},
      {ErrorCode::NotFound, ErrorSource::Downstream, 404},
      {ErrorCode::MethodNotAllowed, ErrorSource::Downstream, 405},
      {ErrorCode::DeadlineExceeded, ErrorSource::Downstream, 408},
      {ErrorCode::PayloadTooLarge, ErrorSource::Downstream, 413},
      {ErrorCode::ResourceExhausted, ErrorSource::Downstream, 429},
      {ErrorCode::HeadersTooLarge, ErrorSource::Downstream, 431},
      {ErrorCode::Internal, ErrorSource::Internal, 500},
      {ErrorCode::UpstreamError, ErrorSource::Upstream, 502},
      {ErrorCode::InvalidArgument, ErrorSource::Upstream, 502},
      {ErrorCode::Unavailable, ErrorSource::Internal, 503},
      {ErrorCode::DeadlineExceeded, ErrorSource::Upstream, 504},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(toHttpStatus(Error{c.code, c.source, "m", false, ""}), c.status) << c.status;
  }
}

TEST(ErrorTest, BodyHasExactlyTheOpenAiShape) {
  const Error error = makeError(ErrorCode::NotFound, ErrorSource::Downstream, "no \"such\" model",
                                "model_not_found")
                          .error();
  auto body = boost::json::parse(openAiErrorBody(error)).as_object();
  ASSERT_EQ(body.size(), 1u);
  const auto& inner = body["error"].as_object();
  EXPECT_EQ(inner.size(), 4u);
  EXPECT_EQ(inner.at("message").as_string(), "no \"such\" model");
  EXPECT_EQ(inner.at("type").as_string(), "invalid_request_error");
  EXPECT_TRUE(inner.at("param").is_null());
  EXPECT_EQ(inner.at("code").as_string(), "model_not_found");
}

TEST(ErrorTest, EmptyCodeBecomesNullAndTypesFollowTheStatus) {
  auto body = boost::json::parse(openAiErrorBody("x", 500, "")).as_object();
  EXPECT_TRUE(body["error"].as_object()["code"].is_null());
  EXPECT_EQ(openAiErrorType(401), "authentication_error");
  EXPECT_EQ(openAiErrorType(403), "permission_error");
  EXPECT_EQ(openAiErrorType(429), "rate_limit_error");
  EXPECT_EQ(openAiErrorType(500), "server_error");
  EXPECT_EQ(openAiErrorType(502), "upstream_error");
  EXPECT_EQ(openAiErrorType(504), "upstream_error");
  EXPECT_EQ(openAiErrorType(503), "server_error");
  EXPECT_EQ(openAiErrorType(413), "invalid_request_error");
}

}  // namespace
}  // namespace sy
