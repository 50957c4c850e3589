// Stored Responses API conversations on the request path (stored_responses.h), and the local
// answers of GET/DELETE /v1/responses/{id} and POST /v1/responses/{id}/cancel.
#include "gateway/server/pipeline/stored_responses.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "gateway/server/pipeline/pipeline.h"
#include "observability/logging.h"
#include "observability/metrics.h"

// g++ 12 misreports Asio's coroutine frame allocator here (awaitable_frame_base's sized
// operator delete "mismatched" with its operator new): a known false positive of -Werror builds.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

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

net::awaitable<Result<std::optional<boost::json::array>>> previousTurns(const RequestContext& ctx,
                                                                        ResponseStore* store) {
  const boost::json::value* previous = ctx.body.if_contains("previous_response_id");
  if (previous == nullptr || !previous->is_string()) {
    co_return std::nullopt;  // none; not a string: the decoder's 400
  }
  auto items = co_await loadConversation(ctx, store, previous->get_string());
  if (!items) {
    Error error = std::move(items.error());
    if (error.source == ErrorSource::Downstream) {
      error.param = "previous_response_id";  // the field the client must change
    }
    co_return std::unexpected(std::move(error));
  }
  co_return std::move(*items);
}

bool willStoreAnswer(const RequestContext& ctx, const ResponseStore* store) {
  const boost::json::value* wanted = ctx.body.if_contains("store");
  const bool client_declines = wanted != nullptr && wanted->is_bool() && !wanted->get_bool();
  return ctx.config->config().responses.store && ctx.principal != nullptr &&
         !ctx.principal->anonymous && store != nullptr && !client_declines;
}

boost::json::array conversationInput(const boost::json::object& request,
                                     const boost::json::array* prior) {
  boost::json::array items = prior != nullptr ? *prior : boost::json::array{};
  const boost::json::value* input = request.if_contains("input");
  if (input != nullptr && input->is_string()) {
    items.push_back(boost::json::object{
        {"type", "message"}, {"role", "user"}, {"content", input->get_string()}});
  } else if (input != nullptr && input->is_array()) {
    for (const boost::json::value& item : input->get_array()) {
      items.push_back(item);
    }
  }
  return items;
}

void keepForStore(RequestContext& ctx, boost::json::object& response) {
  response["store"] = false;  // first: adding the key may rehash, so look up the rest after it
  const boost::json::value* status = response.if_contains("status");
  const boost::json::value* id = response.if_contains("id");
  const boost::json::value* output = response.if_contains("output");
  const bool completed = status != nullptr && status->is_string() &&
                         status->get_string() == "completed" && id != nullptr && id->is_string() &&
                         output != nullptr && output->is_array();
  if (!ctx.store_items || !completed) {
    return;
  }
  response["store"] = true;
  boost::json::array items = *ctx.store_items;
  for (const boost::json::value& item : output->get_array()) {
    items.push_back(item);
  }
  std::string record = encodeStoredConversation(response, items);
  if (record.size() > ctx.config->config().responses.max_bytes_per_response) {
    response["store"] = false;  // the client is told: it must send the whole conversation
    ctx.stored = RequestContext::StoredAnswer{std::string(id->get_string()), {}, true};
    return;
  }
  ctx.stored = RequestContext::StoredAnswer{std::string(id->get_string()), std::move(record)};
}

net::awaitable<void> storeAnswer(RequestContext& ctx, ResponseStore* store,
                                 observability::GatewayMetrics& metrics) {
  // Only an answer the client received whole: not one whose stream the client left.
  if (!ctx.stored || store == nullptr || ctx.principal == nullptr ||
      ctx.stream_end != StreamEnd::Complete) {
    co_return;
  }
  RequestContext::StoredAnswer answer = std::move(*ctx.stored);
  ctx.stored.reset();
  if (answer.too_large) {
    metrics.responses_stored_total.Add({{"outcome", "too_large"}}).Increment();
    co_return;
  }
  const std::string owner = ctx.principal->key_id;
  auto put = co_await store->put(std::move(answer.id), owner, std::move(answer.record),
                                 std::chrono::system_clock::now(), ctx.config->config().responses);
  std::string_view outcome = "stored";
  if (!put) {
    outcome = "error";
    log::warn("response store: the answer could not be stored",
              {{"request_id", ctx.request_id}, {"error", put.error().message}});
  } else if (*put == PutOutcome::TooLarge) {
    outcome = "too_large";  // not reached: keepForStore checks the same bound first
  }
  metrics.responses_stored_total.Add({{"outcome", std::string(outcome)}}).Increment();
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
