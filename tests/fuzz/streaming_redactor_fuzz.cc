// Fuzz target: the streaming redactor and the pseudonym restorer (policies/streaming_redactor.h,
// policies/dlp_transform.h), as response DLP runs them over a streamed answer cut into deltas.
// Input: the answer's text; its last bytes choose the delta sizes. Invariants: (1) redacting, a
// stream in which nothing was found comes out byte for byte, and findings lie inside the stream;
// (2) restoring, a text whose findings were pseudonymized, streamed in deltas through a
// restore-only redactor, comes back as restore() gives it whole, however the tokens are cut
// (and as the original text when it held no token look-alikes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policies/dlp_transform.h"
#include "policies/streaming_redactor.h"
#include "tests/fuzz/dlp_support.h"

using namespace sy::policies;
using sy::fuzz::check;

namespace {

std::string stream(StreamingRedactor& redactor, std::string_view text, std::string_view cuts) {
  std::string out;
  sy::fuzz::feedInChunks(text, cuts, [&](std::string delta, bool end) {
    out += redactor.feed(delta);
    if (end) {
      out += redactor.finish();
    }
  });
  return out;
}

}  // namespace

// The engine is built before the first input, so its set-up never counts against -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sy::fuzz::dlpEngine();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string_view cuts = sy::fuzz::tailCuts(text);
  const DlpEngine& engine = sy::fuzz::dlpEngine();

  StreamingRedactor redactor(&engine, [](const Finding&) { return DlpAction::Redact; }, nullptr,
                             {.window_bytes = 48});
  const std::string redacted = stream(redactor, text, cuts);
  for (const Finding& f : redactor.findings()) {
    check(f.start <= f.end && f.end <= size);
  }
  if (redactor.findings().empty()) {
    check(redacted == text);
  }

  // The request side pseudonymizes what it finds; the answer echoes the tokens, cut anywhere.
  Pseudonymizer pseudonymizer;
  pseudonymizer.reserve(text);
  const auto findings = engine.scan(text, TextSource::User);
  const std::vector<DlpAction> actions(findings.size(), DlpAction::Pseudonymize);
  const std::string masked = applyActions(text, findings, actions, &pseudonymizer);
  StreamingRedactor restorer(nullptr, [](const Finding&) { return DlpAction::Allow; },
                             &pseudonymizer);
  const std::string restored = stream(restorer, masked, cuts);
  check(restored == pseudonymizer.restore(masked));
  if (text.find('<') == std::string_view::npos) {  // no token look-alikes of the client's own
    check(restored == text);
  }
  return 0;
}
