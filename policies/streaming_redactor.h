// Streaming DLP for model responses: feed text deltas as they arrive, get back the text that is
// safe to emit. A hold-back window (the engine's longest pattern, or configured) keeps the tail
// of the stream until no sensitive value can straddle it, so a value split across chunks is
// still caught and a pseudonym token split across chunks is still restored. The added delay is
// bounded by the window, never by the response length; finish() flushes the rest. Text that a
// scan bound (ScanBound) left unexamined is redacted as one "[SCAN_LIMIT]" finding
// (kScanLimitDetectorId), whatever the action function says.
// Pure text in, text out: the caller maps it onto SSE chunk deltas.
// Thread-safety: one per response, NOT thread-safe. The engine, the action function's captures
// and the pseudonymizer must outlive it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/dlp_engine.h"
#include "policies/dlp_transform.h"
#include "policies/dlp_types.h"

namespace sy::policies {

class StreamingRedactor {
 public:
  using ActionFn = std::function<DlpAction(const Finding&)>;

  struct Options {
    size_t window_bytes = 0;    // 0: engine->streamWindowBytes()
    size_t context_bytes = 64;  // already-emitted text the scanner sees again as left context
    TextSource source = TextSource::User;
  };

  // `engine` may be null: then the redactor only restores pseudonyms. `pseudonymizer` may be
  // null: then tokens are not restored and Pseudonymize acts as Redact.
  StreamingRedactor(const DlpEngine* engine, ActionFn action_for, Pseudonymizer* pseudonymizer,
                    Options options);
  StreamingRedactor(const DlpEngine* engine, ActionFn action_for, Pseudonymizer* pseudonymizer)
      : StreamingRedactor(engine, std::move(action_for), pseudonymizer, Options{}) {}

  // Appends a delta; returns the text now safe to emit (possibly empty).
  std::string feed(std::string_view delta);

  // End of stream: returns everything still held back, transformed. Idempotent.
  std::string finish();

  // Findings so far, with offsets into the raw stream (all deltas concatenated).
  const std::vector<Finding>& findings() const { return findings_; }

  // Bytes received but not yet emitted.
  size_t heldBytes() const { return buffer_.size(); }

 private:
  enum class Continuation { None, TokenRun, PemBlock };

  std::string drain(bool final);
  // Findings in context_ + buffer_, shifted to buffer_ offsets (those already emitted dropped).
  std::vector<Finding> scanHeld() const;
  // Emits buffer_[0, cut) with `found` (all starting before `cut`) transformed.
  std::string emit(size_t cut, std::vector<Finding>& found, bool forced);
  void consumeContinuation(bool final);
  size_t safeCut(size_t cut) const;
  std::string restoreRaw(std::string_view raw) const;
  void remember(std::string_view raw);

  const DlpEngine* engine_;
  ActionFn action_for_;
  Pseudonymizer* pseudonymizer_;
  Options options_;
  size_t window_;

  std::string buffer_;   // received, not yet emitted
  std::string context_;  // tail of what was emitted (raw), for the scanner's left context
  size_t offset_ = 0;    // stream offset of buffer_[0]
  Continuation open_ = Continuation::None;  // a finding cut by the window continues here
  size_t open_index_ = 0;                   // ... and this is it, in findings_
  std::vector<Finding> findings_;
};

}  // namespace sy::policies
