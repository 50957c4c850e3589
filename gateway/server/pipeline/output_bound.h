// Keys and budgets bound the output, not only the input: the request's output cap (what the
// upstream is told, and what the admit phase reserves), the cap written into the canonical body
// for each backend, the cut of a stream whose upstream overruns it, and the usage a request is
// accounted with when the upstream reported none (a stream the client or the upstream cut short).
// Pure functions and one per-request value type; NOT thread-safe, no I/O.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/backend.h"

namespace sy::server {

struct RequestContext;

// How many output tokens this chat request may produce, 0 = unbounded (and for embeddings,
// which take no max_tokens: their reservation keeps limits.default_max_tokens). The client's
// max_tokens when it named one (authorize already held it to the key's scope); otherwise, when the
// key or its team caps max_tokens, that cap; otherwise, when the key or its team limits tokens
// (tpm) or spend (budgets), `limits.default_max_tokens` (lowered to a max_tokens scope). A key
// without such limits and a request without max_tokens stay unbounded (the upstream's own default
// applies).
uint32_t outputCap(const RequestContext& ctx);

// Writes `cap` into the canonical request `body` for a try on `backend`, so the upstream cannot
// produce more than was reserved: a max_tokens / max_completion_tokens the client sent is lowered
// to `cap`; when it sent neither, the gateway adds the field this backend reads (OpenAI's
// `max_completion_tokens` for Azure and external OpenAI backends, whose reasoning models refuse
// `max_tokens`; `max_tokens` for self-hosted OpenAI-compatible servers and Ollama; the Anthropic
// connector reads either). `added` names the field the gateway added on an earlier try (""
// none): it is removed first, so a try on another kind of backend does not carry it. Updates
// `added`. Idempotent for the same backend.
void applyOutputCap(boost::json::object& body, uint32_t cap, const BackendSpec& backend,
                    std::string_view& added);

// Counts the output events of a canonical (OpenAI chat-completions) stream on their way to the
// client and ends the stream at `cap` of them, the way a model that reached max_tokens does. An
// output event is one whose delta carries non-empty content, reasoning or tool-call arguments:
// about one token each on OpenAI-compatible servers, so this is a backstop for an upstream that
// ignores the cap it was sent, not a tokenizer.
class OutputBound {
 public:
  // `usage_prompt_tokens` non-zero: the client asked for usage (stream_options.include_usage),
  // so a cut stream also gets a usage chunk (that many prompt tokens, the cap as completion)
  // before `[DONE]`, as a complete stream would have.
  explicit OutputBound(uint64_t cap, uint64_t usage_prompt_tokens = 0)
      : cap_(cap), usage_prompt_tokens_(usage_prompt_tokens) {}

  // `chunk` holds whole canonical SSE events (as the translators emit them). Keeps the events up
  // to and including the cap-th output event; at the first output event beyond it, drops that
  // event and everything after it, appends a finish chunk (the dropped event's id, model and
  // created, an empty delta, finish_reason "length") and `data: [DONE]`, and returns true: the
  // stream is over. False: nothing was cut.
  bool clip(std::string& chunk);

  // Output events relayed so far (never more than the cap).
  uint64_t relayed() const { return relayed_; }

 private:
  uint64_t cap_;
  uint64_t usage_prompt_tokens_;
  uint64_t relayed_ = 0;
};

// True when the SSE event text `event` carries output (see OutputBound).
bool isOutputEvent(std::string_view event);

// The usage a finished request is accounted with (metrics, cost, audit, access log, settle),
// written back to ctx.usage. Reported usage is kept when the answer was complete. Otherwise:
// the prompt is the gateway's estimate unless the upstream reported it; the completion is, for a
// stream cut short (client gone, upstream broken, output cap), the output events relayed (at least
// what the upstream reported so far; exactly the cap when the gateway cut it), and for a whole
// answer without usage, the reserved maximum. Sets ctx.usage_estimated when it estimated.
// Nothing for requests no backend answered with a 2xx.
void accountUsage(RequestContext& ctx);

}  // namespace sy::server
