// Stored Responses API conversations on the request path (stored_responses.h), and the local
// answers of GET/DELETE /v1/responses/{id} and POST /v1/responses/{id}/cancel.
#include "gateway/server/pipeline/stored_responses.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "gateway/server/pipeline/pipeline.h"

namespace sy::server {
namespace {

constexpr std::string_view kPrefix = "/v1/responses/";

std::unexpected<Error> notFound(std::string_view id) {
  // The id is echoed only when it has the shape of one (isValidResponseId): never arbitrary text.
  return makeError(ErrorCode::NotFound, ErrorSource::Downstream,
                   isValidResponseId(id) ? "Response with id '" + std::string(id) + "' not found."
                                         : std::string("Response not found."),
                   "response_not_found");
}

// The id in /v1/responses/{id} or /v1/responses/{id}/cancel, and whether it is a cancel.
std::pair<std::string_view, bool> pathId(std::string_view path) {
  std::string_view rest = path.substr(kPrefix.size());
  constexpr std::string_view kCancel = "/cancel";
  const bool cancel = rest.ends_with(kCancel);
  if (cancel) {
    rest.remove_suffix(kCancel.size());
  }
  return {rest, cancel};
}

}  // namespace

std::string encodeStoredConversation(const boost::json::object& response,
                                     const boost::json::array& items) {
  return boost::json::serialize(boost::json::object{{"response", response}, {"items", items}});
}

Result<StoredConversation> decodeStoredConversation(std::string_view bytes) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(bytes, ec);
  const boost::json::object* record = ec ? nullptr : value.if_object();
  const boost::json::value* response = record ? record->if_contains("response") : nullptr;
  const boost::json::value* items = record ? record->if_contains("items") : nullptr;
  if (response == nullptr || !response->is_object() || items == nullptr || !items->is_array()) {
    return makeError(ErrorCode::Internal, ErrorSource::Internal,
                     "response store: a stored record is not a stored response");
  }
  return StoredConversation{response->get_object(), items->get_array()};
}

Result<ResponseStore*> usableResponseStore(const RequestContext& ctx, ResponseStore* store) {
  if (!ctx.config->config().responses.store) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                     "This gateway does not store responses (its policy sets responses.store: "
                     "false): previous_response_id and /v1/responses/{id} are unavailable. Send "
                     "the whole conversation in `input` instead.",
                     "response_store_disabled");
  }
  if (ctx.principal == nullptr || ctx.principal->anonymous) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                     "Stored responses need an API key: anonymous requests are never stored. "
                     "Send the whole conversation in `input` instead.",
                     "response_store_disabled");
  }
  if (store == nullptr) {
    return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                     "The response store is not running yet (enabled by a policy reload; it "
                     "starts when the gateway restarts).",
                     "response_store_unavailable");
  }
  return store;
}

net::awaitable<Result<boost::json::array>> loadConversation(const RequestContext& ctx,
                                                            ResponseStore* store,
                                                            std::string_view previous_response_id) {
  Result<ResponseStore*> usable = usableResponseStore(ctx, store);
  if (!usable) {
    co_return std::unexpected(std::move(usable.error()));
  }
  auto found = co_await (*usable)->get(std::string(previous_response_id), ctx.principal->key_id);
  if (!found) {
    co_return std::unexpected(std::move(found.error()));
  }
  if (!found->has_value()) {
    co_return notFound(previous_response_id);
  }
  auto record = decodeStoredConversation((*found)->body);
  if (!record) {
    co_return std::unexpected(std::move(record.error()));
  }
  co_return std::move(record->items);
}

net::awaitable<Status> Pipeline::answerStoredResponse(RequestContext& ctx,
                                                      Downstream& downstream) {
  const auto [id, cancel] = pathId(ctx.path);
  if (cancel) {
    co_return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                        "Only background responses can be cancelled, and this gateway does not "
                        "run background responses (background: true is not supported).",
                        "background_not_supported");
  }
  Result<ResponseStore*> store = usableResponseStore(ctx, worker_.shared.responses);
  if (!store) {
    co_return std::unexpected(std::move(store.error()));
  }
  const std::string owner = ctx.principal->key_id;
  boost::json::object answer;
  if (ctx.downstream->method() == http::verb::delete_) {
    auto removed = co_await (*store)->remove(std::string(id), owner);
    if (!removed) {
      co_return std::unexpected(std::move(removed.error()));
    }
    if (!*removed) {
      co_return notFound(id);
    }
    answer = {{"id", id}, {"object", "response"}, {"deleted", true}};
  } else {
    auto found = co_await (*store)->get(std::string(id), owner);
    if (!found) {
      co_return std::unexpected(std::move(found.error()));
    }
    if (!found->has_value()) {
      co_return notFound(id);
    }
    auto record = decodeStoredConversation((*found)->body);
    if (!record) {
      co_return std::unexpected(std::move(record.error()));
    }
    answer = std::move(record->response);
  }
  auto response =
      jsonResponse(200, boost::json::serialize(answer), ctx.request_id, !ctx.close_connection);
  ctx.status = 200;
  co_await auditBeforeAnswer(ctx);
  co_await writeLocal(ctx, downstream, response);
  co_return Status{};
}

}  // namespace sy::server
