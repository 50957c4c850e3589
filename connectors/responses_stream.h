// Internal to the Responses surface: the encoder of a streamed answer. Canonical
// `chat.completion.chunk` events, fed in any chunking, become the Responses event stream, each
// event with its `sequence_number` (from 0) and the same item ids throughout:
//   response.created, response.in_progress;
//   per output item, in order: response.output_item.added, then for a reasoning item
//   response.reasoning_summary_part.added / _text.delta… / _text.done / _part.done, for a message
//   response.content_part.added / output_text.delta… (refusal.delta…) / output_text.done
//   (refusal.done) / content_part.done, for a function call function_call_arguments.delta… /
//   .done (several calls may be open at once, interleaved by their canonical index);
//   response.output_item.done;
//   response.completed or response.incomplete (finish_reason length or content_filter), with the
//   whole response and its usage.
// A canonical in-band error ends it with response.failed (the response so far, error
// {code: "server_error", message}). A stream that ends without a finish (cut short) is closed as
// it stands. Per response, NOT thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string_view>

#include "connectors/surface.h"

namespace sy::connectors {

std::unique_ptr<AnswerEncoder> newResponsesStreamEncoder(std::string_view model,
                                                         const boost::json::object* echo);

}  // namespace sy::connectors
