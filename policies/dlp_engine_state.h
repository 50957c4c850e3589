// Internal to the DLP engine: the compiled form of a DlpConfig, shared by the factory
// (dlp_engine.cc) and the scanner (dlp_engine_scan.cc). Immutable after create().
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <memory>
#include <optional>
#include <vector>

#include "policies/detector_spec.h"
#include "policies/dlp_engine.h"
#include "policies/pack_rules.h"
#include "policies/phone_numbers.h"

namespace sy::policies {

struct CompiledPattern {
  std::unique_ptr<RE2> re;
  size_t detector = 0;  // index into State::detectors
  Validator validate = nullptr;
  double weight = 1.0;
  double untrusted_weight = 1.0;
  bool has_group = false;
  std::string prefilter;  // what the RE2::Set runs for this pattern (see PatternSpec)
  // Set when the prefilter differs from the pattern: extraction then runs the pattern only
  // within max_len bytes around the prefilter's matches.
  std::unique_ptr<RE2> locator;
  size_t max_len = 64;
  int min_digits = 0;  // see PatternSpec
  int min_dots = 0;
  // A rule pack's rule (dlp.rule_packs): its matches go through acceptPackMatch() instead of a
  // validator, and the regex runs on the whole text once the keyword prefilter fired.
  std::shared_ptr<const PackCheck> pack;
  int groups = 0;  // capture groups of `re` (pack rules only)
};

struct CompiledDetector {
  int priority = 0;
  double threshold = 0;
};

struct DlpEngineState {
  std::vector<DetectorInfo> infos;  // parallel to `detectors`
  std::vector<CompiledDetector> detectors;
  std::vector<CompiledPattern> patterns;  // index = RE2::Set index
  std::unique_ptr<RE2::Set> set;
  // The same prefilters split round-robin into kPatternGroups smaller sets, for long random-
  // looking text (base64 media, hostile bodies): on such text one automaton over every pattern
  // builds a new state for nearly every byte (each several hundred KB; about 1 µs per byte of a
  // text it has not seen), while a few automata of fewer patterns each stay small
  // (dlp_engine_scan.cc).
  struct PatternGroup {
    std::unique_ptr<RE2::Set> set;
    std::vector<int> patterns;  // the group's set index -> index into `patterns`
  };
  std::vector<PatternGroup> groups;
  std::vector<std::unique_ptr<RE2>> allow;
  EvasionConfig evasion;
  double generic_min_entropy = 3.0;
  std::optional<PhoneRegions> phone;
  int injection_detector = -1;  // receives hidden-character signals; -1 when disabled
  size_t window = 0;
  size_t max_matches_per_pattern = 1 << 16;
};

// One candidate finding between extraction and the final list (offsets into the original text).
struct Candidate {
  size_t detector = 0;
  size_t pattern = 0;  // == patterns.size() for signals that come from no pattern
  size_t begin = 0;
  size_t end = 0;
  bool decoded = false;
};

// Drops the candidates of threshold detectors (injection) whose distinct patterns' weights do
// not reach the threshold for `source`.
std::vector<Candidate> applyThresholds(const DlpEngineState& state,
                                       std::vector<Candidate> candidates, TextSource source);

// Allow patterns, decoded duplicates, same-detector merges and per-class overlap resolution;
// returns the survivors sorted by offset.
std::vector<Candidate> resolveCandidates(const DlpEngineState& state,
                                         std::vector<Candidate> candidates,
                                         std::string_view original);

}  // namespace sy::policies
