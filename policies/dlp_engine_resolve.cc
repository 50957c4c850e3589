// Scoring and resolution of candidate findings: injection thresholds, allowlists, duplicates
// from decoded blobs, merges and per-class overlap resolution.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>

#include "policies/dlp_engine_state.h"

namespace sy::policies {

std::vector<Candidate> applyThresholds(const DlpEngineState& state,
                                       std::vector<Candidate> candidates, TextSource source) {
  // Score = sum over distinct patterns of their weight, per threshold detector.
  std::map<size_t, std::map<size_t, double>> weights;
  for (const auto& c : candidates) {
    if (state.detectors[c.detector].threshold > 0) {
      const CompiledPattern* p =
          c.pattern < state.patterns.size() ? &state.patterns[c.pattern] : nullptr;
      double w =
          p == nullptr ? 1.0 : (source == TextSource::Untrusted ? p->untrusted_weight : p->weight);
      weights[c.detector][c.pattern] = w;
    }
  }
  std::erase_if(candidates, [&](const Candidate& c) {
    double threshold = state.detectors[c.detector].threshold;
    if (threshold <= 0) {
      return false;
    }
    double score = 0;
    for (const auto& [pattern, weight] : weights[c.detector]) {
      score += weight;
    }
    return score + 1e-9 < threshold;
  });
  return candidates;
}

namespace {

void dropAllowed(const DlpEngineState& state, std::vector<Candidate>& candidates,
                 std::string_view original) {
  if (state.allow.empty()) {
    return;
  }
  std::erase_if(candidates, [&](const Candidate& c) {
    re2::StringPiece value(original.data() + c.begin, c.end - c.begin);
    return std::any_of(state.allow.begin(), state.allow.end(),
                       [&](const auto& allow) { return RE2::FullMatch(value, *allow); });
  });
}

// A value found inside a decoded blob that a plain finding already covers adds nothing. Plain
// spans sorted by start, with a running maximum of their ends, answer "is [b, e) inside some
// plain span?" in O(log n).
void dropCoveredDecoded(std::vector<Candidate>& candidates) {
  std::vector<std::pair<size_t, size_t>> plain;
  for (const auto& c : candidates) {
    if (!c.decoded) {
      plain.emplace_back(c.begin, c.end);
    }
  }
  std::sort(plain.begin(), plain.end());
  std::vector<size_t> max_end(plain.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    max_end[i] = std::max(plain[i].second, i > 0 ? max_end[i - 1] : 0);
  }
  std::erase_if(candidates, [&](const Candidate& c) {
    if (!c.decoded) {
      return false;
    }
    auto it =
        std::upper_bound(plain.begin(), plain.end(), std::pair<size_t, size_t>{c.begin, SIZE_MAX});
    return it != plain.begin() && max_end[static_cast<size_t>(it - plain.begin()) - 1] >= c.end;
  });
}

// Same detector, overlapping spans: one finding covering both.
std::vector<Candidate> mergeSameDetector(std::vector<Candidate> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.detector != b.detector ? a.detector < b.detector : a.begin < b.begin;
  });
  std::vector<Candidate> merged;
  for (const auto& c : candidates) {
    if (!merged.empty() && merged.back().detector == c.detector && c.begin < merged.back().end) {
      merged.back().end = std::max(merged.back().end, c.end);
      merged.back().decoded = merged.back().decoded && c.decoded;
    } else {
      merged.push_back(c);
    }
  }
  return merged;
}

// Within PII and within secrets the more specific (then the longer) finding wins an overlap, so
// a card number is not also a phone number; custom and injection findings are all kept.
std::vector<Candidate> keepMostSpecific(const DlpEngineState& state,
                                        std::vector<Candidate> merged) {
  std::sort(merged.begin(), merged.end(), [&](const Candidate& a, const Candidate& b) {
    int pa = state.detectors[a.detector].priority;
    int pb = state.detectors[b.detector].priority;
    if (pa != pb) {
      return pa > pb;
    }
    if (a.end - a.begin != b.end - b.begin) {
      return a.end - a.begin > b.end - b.begin;
    }
    return a.begin < b.begin;
  });
  std::vector<Candidate> kept;
  std::map<size_t, size_t> taken[2];  // disjoint spans kept so far: [0] PII, [1] secrets
  for (const auto& c : merged) {
    DetectorClass cls = state.infos[c.detector].detector_class;
    if (cls != DetectorClass::Pii && cls != DetectorClass::Secret) {
      kept.push_back(c);
      continue;
    }
    auto& spans = taken[cls == DetectorClass::Pii ? 0 : 1];
    auto it = spans.lower_bound(c.end);  // spans before `it` start before c.end
    if (it != spans.begin() && std::prev(it)->second > c.begin) {
      continue;
    }
    spans.emplace(c.begin, c.end);
    kept.push_back(c);
  }
  return kept;
}

}  // namespace

std::vector<Candidate> resolveCandidates(const DlpEngineState& state,
                                         std::vector<Candidate> candidates,
                                         std::string_view original) {
  dropAllowed(state, candidates, original);
  dropCoveredDecoded(candidates);
  std::vector<Candidate> kept = keepMostSpecific(state, mergeSameDetector(std::move(candidates)));
  std::sort(kept.begin(), kept.end(), [](const Candidate& a, const Candidate& b) {
    return a.begin != b.begin ? a.begin < b.begin
                              : (a.end != b.end ? a.end > b.end : a.detector < b.detector);
  });
  return kept;
}

}  // namespace sy::policies
