// The state of one request as it moves through the pipeline's phases. Owned by
// the session's coroutine frame for the request's lifetime; used from one
// worker thread only.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "connectors/surface.h"
#include "gateway/config/snapshot.h"
#include "gateway/server/pipeline/judge.h"
#include "gateway/server/pipeline/request_dlp.h"
#include "gateway/server/pipeline/response_dlp.h"
#include "gateway/server/state/limit_store.h"
#include "gateway/server/transport/net.h"
#include "observability/audit_record.h"
#include "router/difficulty.h"
#include "router/routing.h"

namespace sy::server {

class AuditTicket;  // gateway/server/pipeline/audit.cc

// What a data-plane request asks for, from its method and path (the dispatch phase).
// StoredResponse: GET/DELETE /v1/responses/{id} and POST /v1/responses/{id}/cancel.
enum class Operation { Chat, Embeddings, Models, CountTokens, StoredResponse, Other };

// The `endpoint` label of metrics, access log and audit records, and the endpoint name key
// scopes allow: chat (chat completions and Anthropic messages, count_tokens included),
// embeddings, models, responses (the stored responses), other.
std::string_view endpointLabel(Operation operation);

// Why a 403 was answered: a policy block the pipeline recorded, or (Scope, the default) the key's
// scopes. Its label is the `reason` of metrics, access log and explain: scope, routing_rule, dlp,
// external_sensitivity. Only the recorded ones make an audit outcome `blocked`.
enum class BlockReason { Scope, RoutingRule, Dlp, ExternalSensitivity };
std::string_view blockReasonLabel(BlockReason reason);

// How the relay of a streamed answer ended: the usage of a stream cut short is estimated.
enum class StreamEnd { Complete, ClientGone, UpstreamBroke, OutputCap };

struct RequestContext {
  // The decoded body lives in a per-request arena: one 8 KiB block covers a typical request
  // (instead of an allocation per JSON node) and is released at once when the request ends.
  // Not inline: the context lives in the session's frame, which idle connections keep.
  boost::json::monotonic_resource json_memory{8 << 10};

  std::string request_id;         // the gateway's own, unique per request
  std::string client_request_id;  // the client's x-request-id, when well formed ("" otherwise)
  std::shared_ptr<const config::Snapshot> config;  // pinned at request start
  const http::request<http::string_body>* downstream = nullptr;
  Operation operation = Operation::Other;
  connectors::Surface surface = connectors::Surface::OpenAi;         // the API the client speaks
  connectors::Endpoint api = connectors::Endpoint::ChatCompletions;  // the canonical request kind
  std::string_view path;  // the request's path (no query), for dispatch and the access log
  boost::json::object body{boost::json::storage_ptr(&json_memory)};  // the canonical request
  // The client's own body when its surface's requests can pass through to a backend of the same
  // API (Anthropic Messages, OpenAI Responses; empty otherwise). Then DLP inspects this one, every try applies the
  // destination's transforms to it, and `body` is rebuilt from it when a try needs the canonical
  // request with other texts than it holds (`canonical_texts`: whose transforms are in `body`,
  // none for the client's originals).
  boost::json::object native{boost::json::storage_ptr(&json_memory)};
  std::optional<Location> canonical_texts;
  // The request settings the client's surface repeats in its answers, as the client sent them
  // (Responses: connectors::responsesEcho; empty otherwise).
  boost::json::object answer_echo{boost::json::storage_ptr(&json_memory)};
  // The Responses API's conversation state (stored_responses.h). `store_items`: set when the
  // answer is to be stored: the conversation so far (the earlier turns, then this request's
  // input items, as the client sent them). `stored`: what to put once the answer is out, set
  // when the encoder produced a completed answer (keepForStore).
  struct StoredAnswer {
    std::string id;          // the response id ("resp_…")
    std::string record;      // encodeStoredConversation's bytes (empty when too_large)
    bool too_large = false;  // over max_bytes_per_response: not stored (counted)
  };
  std::optional<boost::json::array> store_items;
  std::optional<StoredAnswer> stored;
  std::string requested_model;
  bool stream = false;
  bool client_wants_usage = false;  // stream_options.include_usage from the client
  std::string_view tier;            // chosen tier ("" until routed)
  std::string_view backend;         // backend that answered ("" until forwarded)
  unsigned status = 0;              // status sent to the client
  bool close_connection = false;
  connectors::TokenUsage usage;
  const policies::Principal* principal = nullptr;  // set by authenticate; owned by the snapshot
  int sensitivity = 0;      // rank: highest DLP finding level and the key's floor
  uint32_t max_tokens = 0;  // the request's max_tokens / max_completion_tokens (0: none)
  // The output the upstream is told it may produce and the admit phase reserves (0: unbounded);
  // see output_bound.h. `output_cap_field`: the body field the gateway added for it ("" none).
  uint32_t output_cap = 0;
  std::string_view output_cap_field;
  StreamEnd stream_end = StreamEnd::Complete;
  bool usage_estimated = false;  // `usage` is (partly) the gateway's estimate (accountUsage)
  // Set when a limit store admitted the request: settled (with the actual usage) when it ends.
  std::optional<AdmitRequest> admission;
  uint64_t prompt_estimate = 0;  // tokens, from the body size, for reservations and fallbacks
  uint32_t retry_after = 0;  // seconds, for a 429 (limits) or 503 (limit store) answered locally
  const BackendSpec* answered_by = nullptr;  // the backend whose answer reached the client
  const BackendSpec* chosen = nullptr;       // the first candidate, when the decision was made
  std::optional<RequestDlp> dlp;  // set by the inspect phase when the policy has detectors
  const DestinationVerdict* dlp_verdict = nullptr;  // what was done (forwarded or blocked)
  std::vector<ResponseFinding> response_findings;
  std::chrono::steady_clock::time_point started_at;
  // When the first response body byte went to the client (unset for local answers).
  std::optional<std::chrono::steady_clock::time_point> first_byte_at;
  // The classify and route phases: the difficulty estimate, the routing rule that decided, and
  // whether it replaced the model the client asked for.
  std::optional<router::DifficultyScore> difficulty;
  // With difficulty.conversation: first_turn and more than one user turn: what the latest user
  // turn alone scores (explain shows it; the route header says when its label differs).
  std::optional<router::DifficultyScore> latest_turn_difficulty;
  // The user turn the difficulty was judged on (in `body`), and difficulty.judge's verdict when
  // it was asked: its grade, when it gave one, is the request's difficulty label.
  const boost::json::object* judged_turn = nullptr;
  std::optional<JudgeVerdict> judge;
  Capabilities needs{false, false, false};  // what the request uses: tools, images, JSON mode
  // A Responses request with built-in OpenAI tools (allowed by responses.builtin_tools): only a
  // backend that serves them may take it (servesBuiltInTools).
  bool needs_builtin_tools = false;
  const router::RouteRuleSpec* rule = nullptr;
  bool overridden = false;
  unsigned upstream_status = 0;  // the last upstream answer's status (for retry decisions)
  BlockReason block_reason = BlockReason::Scope;  // a 403's reason
  double cost_usd = 0;  // of the answered request at the backend's price (log phase)
  // The request's audit record in flight (decision, or completion for local answers), and
  // whether the completion record was already written before a local answer.
  std::shared_ptr<AuditTicket> audit_ticket;
  bool completion_audited = false;
  // Shadow mode: set when finish() starts on a chat or embeddings request and the policy has a
  // candidate; cleared once the candidate decided (shadow.h). `shadow`: its decision, only when it
  // differs from the active policy's (for the completion record).
  bool shadow_pending = false;
  std::optional<observability::AuditRecord::Shadow> shadow;
};

// The request's difficulty label (ctx.difficulty must be set): difficulty.judge's grade when it
// gave one, else the score against the policy's threshold.
inline router::DifficultyLabel difficultyLabel(const RequestContext& ctx) {
  if (ctx.judge && ctx.judge->label) {
    return *ctx.judge->label;
  }
  return ctx.difficulty->label(ctx.config->difficultyThreshold());
}

}  // namespace sy::server
