// The OpenAI Responses surface, outbound to the client: encodes the gateway's canonical answer (an
// OpenAI chat completion or its `chat.completion.chunk` stream, after response DLP) as a
// Responses `response` object or its event stream. Error answers keep OpenAI's error body (the
// Responses API's own). Per response, NOT thread-safe; the free functions are pure.
//
// The response (OpenAI's published shape; `output_text` is not on the wire: the SDKs compute it
// from `output`): id "resp_…", object "response", created_at, status completed | incomplete
// (incomplete_details.reason max_output_tokens for finish_reason length, content_filter for
// content_filter) | failed (error {code, message}), model (the name the client asked for),
// output items in order — a `reasoning` item (the canonical reasoning_content as its summary
// text), a `message` item (output_text or refusal parts, annotations []), `function_call` items
// (call_id = the canonical tool call id) — usage {input_tokens, input_tokens_details.
// cached_tokens, output_tokens, output_tokens_details.reasoning_tokens, total_tokens}, and the
// request's settings (responsesEcho). Ids are the gateway's own, random, and the same for an
// item in every event of a stream.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/surface.h"

namespace sy::connectors {

// The encoder for one answer: the event stream of a 2xx `event_stream` answer, the response
// object of a 2xx body; null for other statuses (their OpenAI error bodies pass unchanged).
// `model`: the name the client asked for; `echo`: responsesEcho of the request (copied; null:
// the API's defaults).
std::unique_ptr<AnswerEncoder> newResponsesEncoder(unsigned status, bool event_stream,
                                                   std::string_view model,
                                                   const boost::json::object* echo);

// A whole non-streamed chat.completion JSON text -> a Responses `response` JSON text. A text that
// is not a chat completion gives an OpenAI error body (502).
std::string chatCompletionToResponse(std::string_view completion, std::string_view model,
                                     const boost::json::object* echo);

// Canonical usage (prompt_tokens, completion_tokens, their details) -> Responses usage.
boost::json::object responsesUsage(const boost::json::object& usage);

// The `response` object around `output`: `status` completed | incomplete | failed | in_progress,
// `reason` the incomplete_details.reason ("" none), `usage` null while in progress, `error` an
// object {code, message} or null. The echoed settings follow (null `echo`: defaults).
boost::json::object responseObject(std::string_view id, int64_t created_at, std::string_view status,
                                   std::string_view reason, std::string_view model,
                                   boost::json::array output, boost::json::value usage,
                                   boost::json::value error, const boost::json::object* echo);

// The response status and incomplete reason for a canonical finish_reason: length ->
// incomplete/max_output_tokens, content_filter -> incomplete/content_filter, else completed.
struct ResponseOutcome {
  std::string_view status;
  std::string_view reason;
};
ResponseOutcome responseOutcome(std::string_view finish_reason);

// A `function_call` output item: {id, type, status, arguments, call_id, [namespace], name}, the
// chat function name `chat_name` split back into the namespace and name the client declared
// (responses::responsesFunctionName over `echo`'s tools).
boost::json::object functionCallItem(std::string_view id, std::string_view status,
                                     std::string_view arguments, std::string_view call_id,
                                     std::string_view chat_name, const boost::json::object* echo);

// A new id with `prefix` ("resp_", "msg_", "fc_", "rs_", "call_"): 24 random hex digits.
std::string newResponsesId(std::string_view prefix);

// The Responses stream's `error` event: {type: "error", code, message, param, sequence_number}.
std::string responsesErrorEvent(const Error& error, uint64_t sequence_number);

}  // namespace sy::connectors
