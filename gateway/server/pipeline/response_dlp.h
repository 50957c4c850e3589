// DLP on what the model answers, in the client's (OpenAI chat completions) format: restores the
// request's pseudonyms and applies the policy's response actions to every text the model wrote:
// choices[].message.content (a string or an array of text parts), .tool_calls[].function
// .arguments, .function_call.arguments, .refusal, .reasoning_content and .reasoning (what reasoning models think aloud), and for streams the same fields under
// choices[].delta. Streams keep a hold-back window per (choice, field, tool call) through a
// StreamingRedactor, so a value or a pseudonym split across SSE events is still handled; held
// text is emitted with the choice's finish_reason event (a tool call's, when the next call of
// the choice starts), or in one extra event before `data: [DONE]` (or at the end of the stream)
// when no such event came. Events are kept even when their text is held back (it becomes "");
// events with nothing to change (comments, errors, usage, anything that is not a JSON chunk with
// `choices`) go out byte-exact, and so does a body with nothing to change.
// A policy with scan_responses off scans nothing (as with a null engine); restoring still runs.
// Never throws on bad input: what does not parse passes through unchanged.
// Per response, NOT thread-safe. The engine, the policy and the pseudonymizer must outlive it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policies/dlp_engine.h"
#include "policies/dlp_policy.h"
#include "policies/dlp_transform.h"

namespace sy::server {

// A finding in the response and what was done with it (for metrics and the audit record).
struct ResponseFinding {
  std::string detector_id;
  policies::PolicyAction action = policies::PolicyAction::Allow;
};

class ResponseDlp {
 public:
  // `engine` null: no scanning, only restoring. `pseudonymizer` null or empty: no restoring (it is
  // only read).
  ResponseDlp(const policies::DlpEngine* engine, const policies::DlpPolicy& policy,
              policies::Pseudonymizer* pseudonymizer);
  ~ResponseDlp();

  // True when there is anything to do (an engine to scan with, or pseudonyms to restore);
  // callers skip the filter otherwise.
  bool active() const;

  // A whole non-streamed chat.completion JSON body, rewritten in place. A body that is not a
  // JSON object is left unchanged.
  void rewriteBody(std::string& body);

  // `chunk` holds whole SSE events (what the connector's translator emits); rewritten in place.
  // An unfinished event at the end of a chunk waits for the next call (unless `end`). `end` is
  // true once, with the last bytes: everything held back is flushed then.
  void rewriteEvents(std::string& chunk, bool end);

  const std::vector<ResponseFinding>& findings() const { return findings_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::vector<ResponseFinding> findings_;
};

}  // namespace sy::server
