// Fuzz target for the DLP scanner, normalizer, blob decoder, transforms and streaming redactor.
// With SY_FUZZ=ON (clang) it links libFuzzer; otherwise dlp_fuzz_replay_test replays corpus/.
// Invariants checked: findings lie inside the input, offsets map inside the original text,
// pseudonymize-then-restore gives the input back, and streaming never loses or invents bytes
// when nothing is found.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policies/blob_decoder.h"
#include "policies/dlp_engine.h"
#include "policies/dlp_transform.h"
#include "policies/streaming_redactor.h"
#include "policies/text_normalizer.h"

namespace {

using namespace sy::policies;

const DlpEngine& fuzzEngine() {
  static const auto engine = [] {
    DlpConfig config;
    config.detectors.push_back({"person_name", true, ""});
    config.detectors.push_back({"street_address", true, ""});
    CustomRule codename;
    codename.name = "codename";
    codename.pattern = "(?i)\\bproject\\s+(\\w+)";
    config.custom.push_back(codename);
    CustomRule marker;
    marker.name = "marker";
    marker.keywords = {"internal only", "secret"};
    config.custom.push_back(marker);
    auto created = DlpEngine::create(config);
    if (!created) {
      std::abort();
    }
    return std::move(*created);
  }();
  return *engine;
}

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const DlpEngine& engine = fuzzEngine();

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

  StreamingRedactor redactor(&engine, [](const Finding&) { return DlpAction::Redact; }, nullptr,
                             {.window_bytes = 48});
  std::string streamed;
  for (size_t pos = 0; pos < size; pos += 1 + pos % 17) {
    streamed += redactor.feed(text.substr(pos, 1 + pos % 17));
  }
  streamed += redactor.finish();
  if (redactor.findings().empty()) {
    check(streamed == text);
  }
  return 0;
}
