// The request pipeline: fixed, named phases run in order for every data-plane request, as
// Pipeline::begin, finish and decideAndForward list them. On the head alone (begin, before the
// session reads a byte of the body): dispatch (method and path -> operation and API surface) ->
// authenticate (key -> principal; before any 404, so a wrong key is a 401 on every path) ->
// check the head (endpoint scope, a JSON Content-Type). Then, on the body the session read
// under the in-flight budget (finish): decode (the surface's JSON -> the canonical request, an
// OpenAI chat or embeddings object; Anthropic Messages are translated by
// connectors/anthropic_inbound) ->
// authorize (endpoint, model, max_tokens scopes) -> inspect (DLP scan, sensitivity) -> classify
// (difficulty, when a rule reads it) -> route (rule, tier, candidates per destination) -> admit
// (rate limits and budgets, reserve-then-settle) -> record decision (audit) -> forward (failover
// inside the tier, then fallback tiers; answer DLP; the client's surface encoding) -> settle ->
// log; settle and log always run. One Pipeline per worker: NOT thread-safe; it never blocks (all
// I/O is co_awaited).
#pragma once

#include "gateway/server/pipeline/request_context.h"
#include "gateway/server/transport/downstream.h"
#include "gateway/server/transport/upstream.h"
#include "gateway/server/transport/worker_state.h"

namespace sy::server {

// The backends one request may be forwarded to, in groups tried in order: the route's own, then
// each fallback tier the request may reach. Pointers borrow from the request's pinned snapshot.
struct CandidateGroup {
  std::string_view tier;  // "" for a single backend
  std::vector<const config::BackendRuntime*> backends;
};

// What the forward loop's failed tries left for the final error.
struct FailedTries {
  std::optional<Error> last_error;
  size_t tried = 0;
  bool all_unreachable = true;  // every try failed to connect: no backend is there at all
};

class Pipeline {
 public:
  // Forwards through the worker's pooled connections.
  explicit Pipeline(WorkerState& worker) : Pipeline(worker, worker.upstream) {}
  // Forwards through `upstream` (a fake in unit tests); both must outlive the pipeline.
  Pipeline(WorkerState& worker, Upstream& upstream) : worker_(worker), upstream_(upstream) {}

  // The phases that need only the request head. True when the request may go on: the session
  // then reads its body (if `body_pending`) and calls finish(). False when it was answered here
  // (preflight, 401, 403, 404, 405, 400 for the Content-Type) and logged; with `body_pending`
  // the answer says Connection: close, since the unread body leaves the stream unusable.
  // `request` (its head filled in, its body to come) must outlive the request.
  net::awaitable<bool> begin(const http::request<http::string_body>& request, bool body_pending,
                             Downstream& downstream, RequestContext& ctx);
  // Answers a request begin() let through, once its body is complete, and leaves in `ctx` what
  // the session needs: the status sent and whether the connection must close afterwards.
  // settle and log always run. Never throws on bad input.
  net::awaitable<void> finish(Downstream& downstream, RequestContext& ctx);
  // Answers a request begin() let through whose body could not be read or held (`error`: 400,
  // 408, 413, or 503 over the in-flight budget), and logs it.
  net::awaitable<void> fail(Downstream& downstream, RequestContext& ctx, const Error& error);

 private:
  // Each phase returns an error to answer locally, or success to go on.
  Status dispatch(RequestContext& ctx);
  // /v1/responses/{id} (GET, DELETE) and /v1/responses/{id}/cancel (POST); a 405 otherwise.
  Status dispatchStoredResponse(RequestContext& ctx);
  // The body into the canonical request (decodeBody), a Responses request's
  // previous_response_id resolved first (stored_responses.h: 400 with the store off, 404 for
  // another key's or an unknown id, 503 with the store down).
  net::awaitable<Status> decode(RequestContext& ctx);
  Status authenticate(RequestContext& ctx);
  // What the head alone can refuse once the key is known: the key's endpoint scope (403) and,
  // on the JSON endpoints, a Content-Type other than application/json (400).
  Status checkHead(const RequestContext& ctx) const;
  // Rate limits and budgets, reserving the worst case over every candidate of every group (the
  // request may end up on a fallback). May replace `groups` with the policy's downgrade tier
  // alone when a budget is spent.
  net::awaitable<Status> admit(RequestContext& ctx, std::vector<CandidateGroup>& groups);
  net::awaitable<void> settle(RequestContext& ctx);
  // The decision record, before forwarding; durable first when a candidate is external and the
  // policy says fsync. An error (the record could not be written, on_failure: closed) is a 503.
  net::awaitable<Status> auditDecision(
      RequestContext& ctx, const std::vector<const config::BackendRuntime*>& candidates);
  // Before any answer goes to the client: the request's decision record must be written, or, for
  // an answer the gateway makes itself, its completion record (so that a crash right after the
  // answer cannot leave it unrecorded). An error when the record failed and on_failure is closed.
  net::awaitable<Status> auditBeforeAnswer(RequestContext& ctx);
  // The completion record (not waited for), unless auditBeforeAnswer already wrote it.
  void auditCompletion(const RequestContext& ctx, double seconds);
  // difficulty.judge (judge.cc): when the classifier's score is within the judge's band, asks
  // the judge backend for a grade (ctx.judge), which then decides the difficulty label.
  net::awaitable<void> consultJudge(RequestContext& ctx);
  // inspect -> classify -> route -> admit -> record decision -> forward, for chat and embeddings.
  net::awaitable<Status> decideAndForward(RequestContext& ctx, Downstream& downstream);
  // The candidate groups: the matching rule's target, then its fallback tiers, each filtered by
  // the key's scopes, DLP verdicts per destination, context windows and capabilities. An error
  // (403, 404, 400) when the primary target leaves no candidate.
  Result<std::vector<CandidateGroup>> route(RequestContext& ctx);
  // Tries the groups in order until one answers; the error of the last failed try otherwise.
  net::awaitable<Status> forward(RequestContext& ctx, Downstream& downstream,
                                 const std::vector<CandidateGroup>& groups);
  // Tries the backends of one group in the balancer's order while the errors are retryable and
  // resilience.retries.max_attempts allows; once each had its try, tries them again (after the
  // backoff), except those whose breaker is now open or that timed out. `last_group`: no other
  // group follows, so the final try relays an upstream 429/5xx as is. True once an answer went
  // to the client, false when every try failed (`failed` says how); an error only when the
  // upstream request cannot be built.
  net::awaitable<Result<bool>> forwardToGroup(RequestContext& ctx, Downstream& downstream,
                                              const CandidateGroup& group, bool last_group,
                                              FailedTries& failed);
  // One try on one backend: true once an answer went to the client; a (retryable) error before
  // anything did. Unless `last`, an upstream 429/5xx is such an error, so another try follows.
  net::awaitable<Result<bool>> attempt(RequestContext& ctx, Downstream& downstream,
                                       const config::BackendRuntime& backend,
                                       const connectors::UpstreamRequest& request, bool last);
  // Relays a streamed answer whose head went to the client. Never fails: an upstream that breaks
  // off is reported in-band and ends the stream. `reusable`: read to its end, keep-alive allowed.
  net::awaitable<void> relayStream(RequestContext& ctx, Downstream& downstream,
                                   const BackendSpec& spec, UpstreamExchange& exchange,
                                   connectors::ResponseTranslator& translator,
                                   ResponseDlp* response_dlp, connectors::AnswerEncoder* encoder,
                                   bool& reusable);
  // GET /v1/models (and /v1/models/{id}): what this key may use, in the surface's list shape; an
  // error for an unknown or forbidden model id.
  net::awaitable<Status> answerModels(RequestContext& ctx, Downstream& downstream);
  // GET /v1/responses/{id} (the stored response object), DELETE (deletes it), POST .../cancel
  // (a 400: no background responses); each scoped to the key: another key's id is a 404.
  net::awaitable<Status> answerStoredResponse(RequestContext& ctx, Downstream& downstream);
  // POST /v1/messages/count_tokens: the gateway's prompt estimate; nothing goes upstream.
  net::awaitable<void> answerCountTokens(RequestContext& ctx, Downstream& downstream);
  // OPTIONS with `server.cors` set: 204, with the CORS headers when the Origin is allowed.
  net::awaitable<void> answerPreflight(RequestContext& ctx, Downstream& downstream);
  // Writes an answer the gateway made itself (no body for HEAD, CORS headers when the policy
  // allows the request's Origin); a failed write closes.
  net::awaitable<void> writeLocal(RequestContext& ctx, Downstream& downstream,
                                  http::response<http::string_body>& response);
  net::awaitable<void> answerError(RequestContext& ctx, Downstream& downstream, const Error& error);
  // Shadow mode: the candidate policy's dry-run decision on this request, compared with the
  // active policy's (shadow.h); a disagreement is counted and kept for the completion record. Runs
  // once, when ctx.shadow_pending: after the answer went out, or, for an answer the gateway makes
  // itself, before its completion record. A failure is counted and logged, never answered.
  void evaluateShadow(RequestContext& ctx);
  // Metrics, cost, the audit completion record and the access log line; always runs.
  void log(RequestContext& ctx);
  // One JSON line on stderr per request: ids, names from the policy, numbers; never key
  // material or prompt text. Off with `server.access_log: false`.
  void accessLog(const RequestContext& ctx, double seconds) const;

  WorkerState& worker_;
  Upstream& upstream_;
};

// The phases `explain` shares with the pipeline. decodeBody: `text` (the request body) into
// ctx.body, requested_model and stream, for ctx.api; a 400 error naming the problem otherwise.
// inspectBody: the DLP scan of ctx.body into ctx.dlp (nothing when the policy has no detectors);
// a 400 for an unknown field under `dlp.unknown_fields: reject`.
Status decodeBody(std::string_view text, RequestContext& ctx);
// decodeBody in two steps, for the pipeline to resolve a Responses request's
// previous_response_id between them: parseBody, the JSON object into ctx.body (400 for anything
// else); decodeParsed, the rest, with `prior` the earlier turns of a Responses conversation
// (null: none; then a previous_response_id is a 400).
Status parseBody(std::string_view text, RequestContext& ctx);
Status decodeParsed(std::string_view text, RequestContext& ctx, const boost::json::array* prior);
// The conversation bounds (server.limits.max_messages, max_content_parts, max_tools) on the parsed
// client body and the earlier turns `prior` (null: none), before anything decodes, scans or
// forwards it: a 400 (too_many_messages, ...) naming the limit and the count. Chat requests only
// (every surface); embeddings pass.
Status boundConversation(const RequestContext& ctx, const boost::json::array* prior);
// Before parseBody: a large body with more objects than server.limits.max_messages is counted by
// an event parser that stops past the limit (connectors::precheckConversation), so a body of
// thousands of tiny messages is refused without building them. Chat requests only.
Status precheckConversation(const RequestContext& ctx, std::string_view text);
Status inspectBody(RequestContext& ctx);
// The key's scopes that depend only on the decoded body: endpoint, model, max_tokens.
Status authorizeBody(const RequestContext& ctx);

// classifyBody: the difficulty of a chat request (its messages' text) into ctx.difficulty.
void classifyBody(RequestContext& ctx);

// Where a request goes: the first matching routing rule's target (or the requested model's, for
// `route: requested`), then the rule's fallback tiers in order. Sets ctx.rule and
// ctx.overridden, and the rule's DLP transform floor. Errors: 404 for an unknown requested model,
// 403 policy_violation for a block rule (naming it).
struct RoutePlan {
  router::Target primary;
  std::vector<router::Target> fallbacks;
};
Result<RoutePlan> decideRoute(RequestContext& ctx);

// The backends of a resolved tier that the key's tier scope, DLP and the key's
// max_external_sensitivity let this request reach, in order, and the 403 for the first one they
// do not (`blocked`; a DLP verdict goes to ctx.dlp_verdict), if any. Backends whose context
// window is too small for the request or that lack a capability it needs (tools, vision, JSON
// mode, built-in OpenAI tools: servesBuiltInTools) are skipped too; when nothing else stops the request, `blocked` is then a 400 saying so.
struct Candidates {
  std::vector<const config::BackendRuntime*> allowed;
  std::optional<Error> blocked;
};
Candidates allowedCandidates(RequestContext& ctx, const router::Target& target);

// True for a backend that may receive built-in OpenAI tools (responses.builtin_tools: allow):
// `kind: openai` serving `api: responses`.
bool servesBuiltInTools(const BackendSpec& backend);

// The request for one try on `backend` (forward, and explain's dry run with no `api_key`): the
// destination's DLP transforms applied, then the client's own body when the backend speaks its
// API (an Anthropic client and backend, a Responses client and a backend serving /v1/responses),
// else the canonical request (rebuilt from the client's
// body when that holds other texts) with the output cap in the field this backend reads.
Result<connectors::UpstreamRequest> upstreamRequest(RequestContext& ctx,
                                                    const config::BackendRuntime& backend,
                                                    std::string_view api_key);

// Access-Control-Allow-Origin and friends, when `server.cors` allows the request's Origin.
void addCorsHeaders(const RequestContext& ctx, http::fields& fields);

// The response headers every answer carries: x-request-id, and server.
void setCommonHeaders(http::fields& fields, std::string_view request_id);

// A complete JSON response with the request id, for local answers.
http::response<http::string_body> jsonResponse(unsigned status, std::string body,
                                               std::string_view request_id, bool keep_alive);

// True for a client-supplied x-request-id we keep: 1-128 chars of
// [A-Za-z0-9._:-].
bool isWellFormedRequestId(std::string_view id);

// The client's own request id (`x-client-request-id`, else `x-request-id`) when well formed,
// else "". Kept as client_request_id in the audit record and access log; never the gateway's
// request id, which is generated for every request so that no two records share one.
std::string_view clientRequestId(const http::request<http::string_body>& request);

// True when a Content-Type header value names JSON: `application/json`, any case, with or
// without parameters (`; charset=utf-8`).
bool isJsonContentType(std::string_view content_type);

}  // namespace sy::server
