// DlpEngine::scanText(): normalize, prefilter with the RE2::Set, extract and validate, decode
// blobs (wrapped, nested, UTF-16) and normalize and scan their text, then score, filter and
// resolve overlaps; every scan bound hit on the way is reported (fails closed).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "policies/blob_decoder.h"
#include "policies/dlp_engine.h"
#include "policies/dlp_engine_state.h"
#include "policies/text_normalizer.h"
#include "policies/validators.h"

namespace sy::policies {
namespace {

struct Hit {
  size_t pattern = 0;
  Span value;
};

// What one scan() has extracted so far: candidates per pattern against the bound, and the
// part of the current segment a pattern could not look at once its candidates ran out.
struct Extraction {
  std::vector<Hit> hits;
  std::vector<size_t> candidates;  // per pattern, across every segment of the scan
  size_t max_candidates = 0;
  std::optional<Span> capped;  // in the current segment's offsets

  void cap(size_t from, size_t to) {
    if (!capped) {
      capped = Span{from, to};
    } else {
      capped->begin = std::min(capped->begin, from);
      capped->end = std::max(capped->end, to);
    }
  }
};

// A rule pack's rule over text[from, to): every capture group, checked by acceptPackMatch().
void extractPackRange(const DlpEngineState& state, size_t index, std::string_view text, size_t from,
                      size_t to, Extraction& out) {
  constexpr int kMaxGroups = 16;
  const CompiledPattern& pattern = state.patterns[index];
  const int n = std::min(pattern.groups + 1, kMaxGroups);
  re2::StringPiece groups[kMaxGroups];
  size_t& used = out.candidates[index];
  size_t pos = from;
  while (pos <= to && pattern.re->Match(text, pos, to, RE2::UNANCHORED, groups, n)) {
    const size_t begin = static_cast<size_t>(groups[0].data() - text.data());
    const size_t end = begin + groups[0].size();
    if (used >= out.max_candidates) {
      out.cap(begin, to);
      break;
    }
    ++used;
    Span value;
    if (acceptPackMatch(*pattern.pack, text, groups, n, value)) {
      out.hits.push_back({index, value});
    }
    pos = std::max(end, begin + 1);  // gitleaks reports non-overlapping matches
  }
}

// Runs pattern `index` over text[from, to) (the rest of `text` is context for \b and ^).
void extractRange(const DlpEngineState& state, size_t index, std::string_view text, size_t from,
                  size_t to, Extraction& out) {
  const CompiledPattern& pattern = state.patterns[index];
  if (pattern.pack != nullptr) {
    extractPackRange(state, index, text, from, to, out);
    return;
  }
  const int groups_wanted = pattern.has_group ? 2 : 1;
  re2::StringPiece groups[2];
  std::vector<Hit>& hits = out.hits;
  size_t& used = out.candidates[index];
  size_t pos = from;
  while (pos <= to) {
    if (!pattern.re->Match(text, pos, to, RE2::UNANCHORED, groups, groups_wanted)) {
      break;
    }
    Span match{static_cast<size_t>(groups[0].data() - text.data()), 0};
    match.end = match.begin + groups[0].size();
    if (used >= out.max_candidates) {
      out.cap(match.begin, to);  // one candidate too many: the rest is not examined
      break;
    }
    ++used;
    Span value = match;
    if (pattern.has_group && groups[1].data() != nullptr) {
      value.begin = static_cast<size_t>(groups[1].data() - text.data());
      value.end = value.begin + groups[1].size();
    }
    size_t next = pattern.has_group && groups[1].data() != nullptr ? value.end : match.end;
    MatchInput input{text, match, state.generic_min_entropy, state.phone ? &*state.phone : nullptr};
    if (value.end > value.begin &&
        (pattern.validate == nullptr || pattern.validate(input, value)) &&
        value.end > value.begin && value.end <= text.size()) {
      hits.push_back({index, value});
      pos = std::max(next, match.begin + 1);
    } else {
      pos = match.begin + 1;  // a rejected candidate may hide a valid one starting inside it
    }
  }
}

// A maximal run of digits joined by at most six separators in a row (" .-()+", line breaks,
// tabs, '/', ',', '_', '|', ':', ';': what people put between the groups of a card number).
struct DigitRun {
  size_t begin = 0;
  size_t end = 0;
  int digits = 0;
  int dots = 0;
};

constexpr int kMinRunDigits = 4;   // the smallest min_digits of the number patterns
constexpr size_t kRunMargin = 24;  // around a run: '+', '(' before it, "ext. 12" after it

std::vector<DigitRun> digitRuns(std::string_view text) {
  std::vector<DigitRun> runs;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Skip eight digit-free bytes at a time (SWAR: a byte of word ^ '0'... is < 10 for a digit;
    // bytes >= 0x80 may report a false "maybe", which the byte loop below sorts out).
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, sizeof word);
      uint64_t x = word ^ 0x3030303030303030ull;
      if (((x - 0x0A0A0A0A0A0A0A0Aull) & ~x & 0x8080808080808080ull) != 0) {
        break;
      }
      i += 8;
    }
    while (i < n && !isDigit(text[i])) {
      ++i;
    }
    if (i >= n) {
      break;
    }
    DigitRun run{i, i, 0, 0};
    int separators = 0;
    for (; i < n; ++i) {
      char c = text[i];
      if (isDigit(c)) {
        ++run.digits;
        run.end = i + 1;
        separators = 0;
      } else if (c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '+' ||
                 c == '\n' || c == '\r' || c == '\t' || c == '/' || c == ',' || c == '_' ||
                 c == '|' || c == ':' || c == ';') {
        if (++separators > 6) {
          break;
        }
        run.dots += c == '.' ? 1 : 0;
      } else {
        break;
      }
    }
    if (run.digits >= kMinRunDigits) {
      runs.push_back(run);
    }
  }
  return runs;
}

// Windows around the digit runs a number pattern can match in, merged, then extracted.
void extractAroundDigitRuns(const DlpEngineState& state, size_t index, std::string_view text,
                            const std::vector<DigitRun>& runs, Extraction& hits) {
  const CompiledPattern& pattern = state.patterns[index];
  size_t window_begin = 0;
  size_t window_end = 0;
  bool open = false;
  for (const DigitRun& run : runs) {
    if (run.digits < pattern.min_digits || run.dots < pattern.min_dots) {
      continue;
    }
    size_t from = run.begin > kRunMargin ? run.begin - kRunMargin : 0;
    size_t to = std::min(text.size(), run.end + kRunMargin);
    if (open && from <= window_end) {
      window_end = std::max(window_end, to);
      continue;
    }
    if (open) {
      extractRange(state, index, text, window_begin, window_end, hits);
    }
    window_begin = from;
    window_end = to;
    open = true;
  }
  if (open) {
    extractRange(state, index, text, window_begin, window_end, hits);
  }
}

void extract(const DlpEngineState& state, size_t index, std::string_view text, Extraction& hits) {
  const CompiledPattern& pattern = state.patterns[index];
  if (pattern.locator == nullptr) {
    extractRange(state, index, text, 0, text.size(), hits);
    return;
  }
  // Expensive patterns run only in windows around their (cheap) prefilter's matches.
  re2::StringPiece hit;
  size_t pos = 0;
  size_t window_begin = 0;
  size_t window_end = 0;
  bool open = false;
  while (pos <= text.size() &&
         pattern.locator->Match(text, pos, text.size(), RE2::UNANCHORED, &hit, 1)) {
    size_t begin = static_cast<size_t>(hit.data() - text.data());
    size_t end = begin + hit.size();
    size_t from = begin > pattern.max_len ? begin - pattern.max_len : 0;
    size_t to = std::min(text.size(), end + pattern.max_len);
    if (open && from <= window_end) {
      window_end = std::max(window_end, to);
    } else {
      if (open) {
        extractRange(state, index, text, window_begin, window_end, hits);
      }
      window_begin = from;
      window_end = to;
      open = true;
    }
    pos = std::max(end, begin + 1);
  }
  if (open) {
    extractRange(state, index, text, window_begin, window_end, hits);
  }
}

// Text of 1 KiB or more whose bytes are spread like random data's (base64, compressed or encrypted
// data, a hostile body): Shannon entropy of its byte histogram of at least 5.5 bits. Prose, code
// and JSON stay under about 5.2; base64 is 6, random printable ASCII 6.5.
constexpr size_t kRandomLookingMinBytes = 1 << 10;
constexpr double kRandomLookingBits = 5.5;

bool looksRandom(std::string_view text) {
  if (text.size() < kRandomLookingMinBytes) {
    return false;
  }
  std::array<uint32_t, 256> counts{};
  for (char c : text) {
    ++counts[static_cast<unsigned char>(c)];
  }
  const double size = static_cast<double>(text.size());
  double bits = 0;
  for (uint32_t count : counts) {
    if (count != 0) {
      const double p = count / size;
      bits -= p * std::log2(p);
    }
  }
  return bits >= kRandomLookingBits;
}

// The patterns whose prefilter matches somewhere in `text`, in ascending order; false when an
// automaton ran out of memory. Random-looking text goes through the pattern groups (the same
// prefilters, the same answer; DlpEngineState::groups says why).
bool matchPrefilters(const DlpEngineState& state, std::string_view text, std::vector<int>& out) {
  RE2::Set::ErrorInfo info{};
  if (!looksRandom(text)) {
    if (!state.set->Match(text, &out, &info)) {
      return info.kind == RE2::Set::kNoError;
    }
    std::sort(out.begin(), out.end());
    return true;
  }
  std::vector<int> matched;
  for (const DlpEngineState::PatternGroup& group : state.groups) {
    if (!group.set->Match(text, &matched, &info)) {
      if (info.kind != RE2::Set::kNoError) {
        return false;
      }
      continue;
    }
    for (int index : matched) {
      out.push_back(group.patterns[static_cast<size_t>(index)]);
    }
  }
  std::sort(out.begin(), out.end());
  return true;
}

void scanSegment(const DlpEngineState& state, std::string_view text, Extraction& hits) {
  hits.hits.clear();
  hits.capped.reset();
  if (text.empty() || state.patterns.empty()) {
    return;
  }
  std::vector<int> matched;
  if (!matchPrefilters(state, text, matched)) {
    // An automaton ran out of memory (huge or adversarial input): run every pattern on its own.
    matched.clear();
    for (size_t i = 0; i < state.patterns.size(); ++i) {
      matched.push_back(static_cast<int>(i));
    }
  }
  if (matched.empty()) {
    return;
  }
  std::vector<DigitRun> runs;
  bool runs_ready = false;
  for (int index : matched) {
    const CompiledPattern& pattern = state.patterns[static_cast<size_t>(index)];
    if (pattern.min_digits > 0) {
      if (!runs_ready) {
        runs = digitRuns(text);
        runs_ready = true;
      }
      extractAroundDigitRuns(state, static_cast<size_t>(index), text, runs, hits);
    } else {
      extract(state, static_cast<size_t>(index), text, hits);
    }
  }
}

ScanBound boundOf(SkippedBlob::Reason reason) {
  switch (reason) {
    case SkippedBlob::Reason::TooLong:
      return ScanBound::BlobChars;
    case SkippedBlob::Reason::OverBudget:
      return ScanBound::DecodedBytes;
    case SkippedBlob::Reason::TooDeep:
      return ScanBound::DecodeDepth;
  }
  return ScanBound::DecodeDepth;
}

}  // namespace

std::string_view toString(ScanBound bound) {
  switch (bound) {
    case ScanBound::MatchesPerPattern:
      return "matches per pattern";
    case ScanBound::DecodedBytes:
      return "decoded bytes";
    case ScanBound::BlobChars:
      return "encoded run length";
    case ScanBound::DecodeDepth:
      return "decoding depth";
    case ScanBound::TextBytes:
      return "text size";
  }
  return "unknown";
}

ScanResult DlpEngine::scanText(std::string_view text, TextSource source) const {
  const DlpEngineState& state = *state_;
  ScanResult result;
  const auto reached = [&result](ScanBound bound, std::pair<size_t, size_t> span) {
    if (!result.limit) {
      result.limit = ScanLimitHit{bound, span.first, span.second};
    } else {
      result.limit->begin = std::min(result.limit->begin, span.first);
      result.limit->end = std::max(result.limit->end, span.second);
    }
  };
  const EvasionConfig& evasion = state.evasion;
  if (text.size() >= std::numeric_limits<uint32_t>::max() &&
      (evasion.fold_unicode || evasion.strip_invisible || evasion.decode_base64 ||
       evasion.decode_hex || evasion.decode_url)) {
    reached(ScanBound::TextBytes, {0, text.size()});
  }
  NormalizedText normalized = normalizeText(text, {evasion.fold_unicode, evasion.strip_invisible});
  std::vector<Candidate> candidates;
  Extraction extraction;
  extraction.candidates.assign(state.patterns.size(), 0);
  extraction.max_candidates = state.max_matches_per_pattern;
  scanSegment(state, normalized.text(), extraction);
  for (const Hit& hit : extraction.hits) {
    auto [begin, end] = normalized.toOriginal(hit.value.begin, hit.value.end);
    candidates.push_back({state.patterns[hit.pattern].detector, hit.pattern, begin, end, false});
  }
  if (extraction.capped) {
    reached(ScanBound::MatchesPerPattern,
            normalized.toOriginal(extraction.capped->begin, extraction.capped->end));
  }
  if ((evasion.decode_base64 || evasion.decode_hex || evasion.decode_url) &&
      text.size() < std::numeric_limits<uint32_t>::max()) {
    std::vector<SkippedBlob> skipped;
    for (const DecodedBlob& blob :
         findEncodedBlobs(normalized.text(), evasion, evasion.max_decoded_bytes, &skipped)) {
      // Decoded text gets the same folding as the text around it (look-alikes inside base64).
      NormalizedText decoded =
          normalizeText(blob.text, {evasion.fold_unicode, evasion.strip_invisible});
      scanSegment(state, decoded.text(), extraction);
      for (const Hit& hit : extraction.hits) {
        auto [value_begin, value_end] = decoded.toOriginal(hit.value.begin, hit.value.end);
        // A value reaching either end of the blob takes the whole run (padding included).
        size_t from = value_begin == 0 ? blob.begin : blob.src_begin[value_begin];
        size_t to = value_end == blob.text.size() ? blob.end : blob.src_end[value_end - 1];
        auto [begin, end] = normalized.toOriginal(from, to);
        candidates.push_back({state.patterns[hit.pattern].detector, hit.pattern, begin, end, true});
      }
      if (extraction.capped) {
        reached(ScanBound::MatchesPerPattern, normalized.toOriginal(blob.begin, blob.end));
      }
    }
    // Runs at any level that were not examined: too long, past the budget, or holding another
    // readable blob at the last level decoded (kMaxDecodeDepth).
    for (const SkippedBlob& run : skipped) {
      reached(boundOf(run.reason), normalized.toOriginal(run.begin, run.end));
    }
  }
  if (state.injection_detector >= 0 && !normalized.identity()) {
    for (auto [begin, end] : findHiddenCharacterRuns(text)) {
      candidates.push_back({static_cast<size_t>(state.injection_detector), state.patterns.size(),
                            begin, end, false});
    }
  }
  candidates = applyThresholds(state, std::move(candidates), source);
  candidates = resolveCandidates(state, std::move(candidates), text);
  result.findings.reserve(candidates.size());
  for (const auto& c : candidates) {
    const DetectorInfo& info = state.infos[c.detector];
    result.findings.push_back(
        {info.id, info.detector_class, info.level, c.begin, c.end, c.decoded});
  }
  return result;
}

}  // namespace sy::policies
