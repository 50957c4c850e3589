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
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "policies/dlp_config.h"
#include "policies/dlp_types.h"

namespace sy::policies {

// Where a text comes from. Untrusted content (tool results, fetched documents, e-mails the
// model is asked to read) weighs instructions addressed to the assistant much more: there they
// are an indirect prompt injection, while in a user's own prompt they are just instructions.
enum class TextSource { User, Untrusted };

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
  // findings are always kept. Never fails. Work is linear in the text and bounded: decoding by
  // the config's evasion limits, extraction by 65536 candidate matches per pattern (on
  // adversarial input, values after that many candidates of one pattern are not looked at).
  std::vector<Finding> scan(std::string_view text, TextSource source = TextSource::User) const;

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
