// Fuzz target: the DLP normalizer, blob decoder, scanner and transforms (policies/). Input: a
// prompt's text. Invariants: offsets of the normalized text map inside the original, decoded
// blobs map inside their source, findings lie inside the input, and pseudonymize-then-restore
// gives the input back. The streaming redactor has its own target (streaming_redactor).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policies/blob_decoder.h"
#include "policies/dlp_engine.h"
#include "policies/dlp_transform.h"
#include "policies/text_normalizer.h"
#include "tests/fuzz/dlp_support.h"

using namespace sy::policies;
using sy::fuzz::check;

// The engine is built before the first input, so its set-up never counts against -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sy::fuzz::dlpEngine();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const DlpEngine& engine = sy::fuzz::dlpEngine();

  NormalizedText normalized = normalizeText(text, {});
  for (size_t i = 0; i + 1 <= normalized.text().size(); i += 7) {
    auto [begin, end] = normalized.toOriginal(i, i + 1);
    check(begin <= end && end <= size);
  }
  for (const auto& blob : findEncodedBlobs(normalized.text(), EvasionConfig{}, 1 << 16)) {
    check(blob.begin <= blob.end && blob.end <= normalized.text().size());
    check(blob.src_begin.size() == blob.text.size() && blob.src_end.size() == blob.text.size());
    for (size_t k = 0; k < blob.text.size(); ++k) {  // nested and wrapped blobs map back too
      check(blob.begin <= blob.src_begin[k] && blob.src_begin[k] < blob.src_end[k] &&
            blob.src_end[k] <= blob.end);
    }
  }

  for (TextSource source : {TextSource::User, TextSource::Untrusted}) {
    auto findings = engine.scan(text, source);
    for (const auto& f : findings) {
      check(f.start <= f.end && f.end <= size);
    }
    if (source == TextSource::User) {
      std::vector<DlpAction> actions(findings.size(), DlpAction::Pseudonymize);
      Pseudonymizer p;
      std::string masked = applyActions(text, findings, actions, &p);
      if (text.find('<') == std::string_view::npos) {
        check(p.restore(masked) == text);
      }
      redact(text, findings);
    }
  }

  return 0;
}
