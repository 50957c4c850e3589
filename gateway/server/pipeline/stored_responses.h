// The Responses API's stored conversations on the request path: what a stored record holds, the
// checks before the store is used, loading the conversation a `previous_response_id` continues
// (the decode phase), storing a completed answer once it went out (the final-response hook of
// the Responses encoders, then storeAnswer after the answer), and
// (Pipeline::answerStoredResponse, in stored_responses.cc) GET and DELETE
// /v1/responses/{id} and POST /v1/responses/{id}/cancel. Every lookup is scoped to the
// request's key: another key's id is a 404, exactly like an id that never existed.
// Stateless functions; the store they are handed is thread-safe (response_store.h).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "gateway/server/pipeline/request_context.h"
#include "gateway/server/state/response_store.h"

namespace sy::server {

// A stored record: the response object as the client received it (after answer DLP, pseudonyms
// restored) and the conversation it ends: the request's input items (with the conversation it
// continued, if any) followed by the response's output items.
struct StoredConversation {
  boost::json::object response;
  boost::json::array items;
};

// The record's bytes: {"response":{...},"items":[...]}.
std::string encodeStoredConversation(const boost::json::object& response,
                                     const boost::json::array& items);
// An Internal error when `bytes` is not such a record (another program's data in the store).
Result<StoredConversation> decodeStoredConversation(std::string_view bytes);

// The store this request may use (`store` is the server's, null when none is running): a 400
// (code response_store_disabled) when the policy's responses.store is false, a 400 for
// anonymous requests (conversations are scoped to a key), a 503 when the policy enables the
// store but none runs (enabled by a reload: it starts on restart).
Result<ResponseStore*> usableResponseStore(const RequestContext& ctx, ResponseStore* store);

// The conversation `previous_response_id` names, for the request's key: its items (input then
// output), to prepend to the request's input. 404 (code response_not_found) when there is none
// for this key (never stored, expired, deleted, another key's); errors of usableResponseStore;
// 503 when the store cannot be reached.
net::awaitable<Result<boost::json::array>> loadConversation(const RequestContext& ctx,
                                                            ResponseStore* store,
                                                            std::string_view previous_response_id);

// The earlier turns a Responses request (ctx.body, the client's request as parsed) continues:
// nullopt when it names no previous_response_id (absent, null, or not a string, which the
// decoder then refuses), else loadConversation's items or its errors.
net::awaitable<Result<std::optional<boost::json::array>>> previousTurns(const RequestContext& ctx,
                                                                        ResponseStore* store);

// Whether this Responses request's answer is to be stored: the policy's responses.store, a key
// (never anonymous), a running store, and the client's `store` not false (OpenAI's default is
// true). The answer says `store: true` only then, and only when it is stored (keepForStore).
bool willStoreAnswer(const RequestContext& ctx, const ResponseStore* store);

// The conversation a stored answer continues: `prior` (the earlier turns, may be null), then the
// request's own input items (a string input as one user message item), as the client sent them.
boost::json::array conversationInput(const boost::json::object& request,
                                     const boost::json::array* prior);

// The Responses encoder's final-response hook, for a request with ctx.store_items: a completed
// response within responses.max_bytes_per_response becomes ctx.stored (the record: the response
// as the client receives it, and ctx.store_items followed by its output items); any other
// (incomplete, failed, too large) says `store: false` and is not stored.
void keepForStore(RequestContext& ctx, boost::json::object& response);

// Puts ctx.stored, if any, under its response id for the request's key, with the policy's ttl and
// bounds (the key's oldest dropped beyond max_responses_per_key). Runs after the answer is out,
// and never fails the request: an error is logged and counted
// (switchyard_responses_stored_total{outcome}).
net::awaitable<void> storeAnswer(RequestContext& ctx, ResponseStore* store,
                                 observability::GatewayMetrics& metrics);

}  // namespace sy::server
