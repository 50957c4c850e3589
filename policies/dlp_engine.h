// The DLP engine: compiles the built-in detectors (PII, secrets pack, prompt-injection
// heuristics) and the security team's custom rules once per config snapshot, then scans texts.
// One RE2::Set pass finds which patterns occur; only those run again to extract spans, which
// validators (checksums, entropy, context words) accept or reject. Text is normalized first
// (Unicode look-alikes folded, invisible characters dropped, encoded blobs decoded) and every
// finding points into the ORIGINAL text.
// Thread-safety: immutable after create(); scan() is const and safe from any number of threads.
// Lives in the config snapshot (shared_ptr<const ...> or owned by it).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "policies/dlp_config.h"
#include "policies/dlp_types.h"

namespace sy::policies {

struct DetectorInfo {
  std::string id;
  DetectorClass detector_class = DetectorClass::Pii;
  std::string level;
  std::string description;  // human-readable; used as the finding's `message` by `explain`
  bool builtin = true;
};

// A built-in detector as it ships, before any DlpConfig setting applies.
struct BuiltinDetectorDefaults {
  std::string id;
  DetectorClass detector_class = DetectorClass::Pii;
  std::string default_level;
  bool default_on = true;  // part of the default pack
};

// The bounds that keep a scan's work linear in its text. Hitting one means part of the text was
// not fully examined, so the scan cannot say "nothing there": callers fail closed.
enum class ScanBound {
  MatchesPerPattern,  // dlp.limits.max_matches_per_pattern candidates of one pattern
  DecodedBytes,       // dlp.evasion.max_decoded_bytes: readable encoded text past the budget
  BlobChars,          // dlp.evasion.max_blob_chars: a longer encoded run decodes to readable text
  DecodeDepth,        // a blob decoded at the last level (kMaxDecodeDepth) holds another one
  TextBytes,          // a text of 4 GiB or more (offsets are 32-bit): not normalized or decoded
};
// "matches per pattern", "decoded bytes", "encoded run length", "decoding depth", "text size".
std::string_view toString(ScanBound bound);

// Where a bound was hit: [begin, end) covers every region left unexamined (byte offsets into
// the original text); `bound` is the first bound hit.
struct ScanLimitHit {
  ScanBound bound = ScanBound::MatchesPerPattern;
  size_t begin = 0;
  size_t end = 0;
};

struct ScanResult {
  std::vector<Finding> findings;      // as DlpEngine::scan()
  std::optional<ScanLimitHit> limit;  // set when a bound was hit
};

struct DlpEngineState;  // the compiled config, internal (dlp_engine_state.h)

class DlpEngine {
 public:
  // Validates and compiles `config`. Fails with InvalidArgument (source Config) listing every
  // problem, one per line: an unknown detector id or group, a custom rule with an invalid RE2
  // pattern ("dlp.custom[1] (customer-id): invalid pattern: missing ): (\d{4}"), with both or
  // neither of pattern and keywords, a duplicate or empty rule name, an invalid allow pattern.
  static Result<std::unique_ptr<const DlpEngine>> create(const DlpConfig& config);

  ~DlpEngine();
  DlpEngine(const DlpEngine&) = delete;
  DlpEngine& operator=(const DlpEngine&) = delete;

  // Every finding of every enabled detector, sorted by start offset. Overlapping findings of
  // one class (PII, secret) are resolved in favour of the more specific detector (a card wins
  // over a phone number, a GitHub token over a generic assignment); custom and injection
  // findings are always kept. Never fails. Work is linear in the text and bounded (see
  // ScanBound): the result says when a bound was hit and which part of the text it left
  // unexamined. Whatever decides what leaves the building must use this, not scan().
  ScanResult scanText(std::string_view text, TextSource source = TextSource::User) const;

  // scanText()'s findings only, without the bound report: for tools, tests and benchmarks.
  std::vector<Finding> scan(std::string_view text, TextSource source = TextSource::User) const {
    return scanText(text, source).findings;
  }

  // The enabled detectors, built-in ones first, then custom rules in config order.
  const std::vector<DetectorInfo>& detectors() const;
  // nullptr when `id` is not an enabled detector.
  const DetectorInfo* detector(std::string_view id) const;

  // Hold-back the streaming redactor needs so that no enabled pattern can straddle it.
  size_t streamWindowBytes() const;

  // Every built-in detector id (enabled or not), for config validation and documentation.
  static std::vector<std::string> builtinDetectorIds();
  // Every built-in detector with its class, default level and default-pack membership, in the
  // order of builtinDetectorIds(). Cheap: compiles nothing. For config validation.
  static std::vector<BuiltinDetectorDefaults> builtinDetectors();

 private:
  explicit DlpEngine(std::unique_ptr<DlpEngineState> state);

  std::unique_ptr<DlpEngineState> state_;
};

}  // namespace sy::policies
