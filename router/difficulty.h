// The request difficulty classifier: a logistic model over content features of the request
// (router/difficulty_features.h: code and math content, what is asked for, technical vocabulary,
// constraints and steps, length; the format has hashed n-gram features too, which the shipped
// weights leave unused) that estimates whether a request needs the frontier model. It returns a
// score in 0..1, a `high_stakes` flag (legal, medical or financial analysis cues), a subject
// `domain` (a softmax over hashed word unigrams and character 4-grams: code, math, science,
// legal, medical, finance, creative, general) and, at a threshold the policy sets, a label
// routine | complex.
//
// The weights are trained offline by tests/eval/difficulty_train (scripts/train-difficulty) on
// public benchmark prompts, Arena-Hard v2 and banking77 (difficulty) and on MMLU subjects and
// Arena-Hard subcategories (domain), committed as router/data/difficulty_weights.txt and
// embedded into the binary at build time.
//
// Immutable after creation: one model is shared by every worker; score() is thread-safe, does no
// I/O and, after a thread's first call, no allocation (a thread-local feature buffer is reused).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "router/difficulty_features.h"

namespace sy::router {

enum class DifficultyLabel { Routine, Complex };
std::string_view toString(DifficultyLabel label);  // "routine" | "complex"

// The subject of a request. The order is the weights file's (and the trainer's class index).
enum class Domain : uint8_t { General, Code, Math, Science, Legal, Medical, Finance, Creative };
inline constexpr size_t kDomainCount = 8;
std::string_view toString(Domain domain);  // "general", "code", ...
// The domain of that name; nullopt for an unknown name.
std::optional<Domain> parseDomain(std::string_view name);

struct DifficultyScore {
  double score = 0;          // 0..1, calibrated-ish probability of "complex"
  bool high_stakes = false;  // legal/medical/financial high-stakes analysis cues
  Domain domain = Domain::General;  // General too when the weights carry no domain model

  // Complex iff score >= threshold (the policy's, or DifficultyModel::defaultThreshold()).
  DifficultyLabel label(double threshold) const {
    return score >= threshold ? DifficultyLabel::Complex : DifficultyLabel::Routine;
  }
};

class DifficultyModel {
 public:
  // The weights committed in the repository, embedded into the binary at build time (so `serve`
  // needs no file path); parsed once, on first use. Aborts with a message if the embedded text
  // does not parse: that is a build defect, caught by difficulty_test.
  static std::shared_ptr<const DifficultyModel> builtin();

  // A weights file in the same text format. Errors (Config/InvalidArgument) name file:line and
  // the problem; NotFound if the file cannot be read.
  static Result<std::shared_ptr<const DifficultyModel>> load(const std::string& path);

  // The text format, line by line ('#' starts a comment line; blank lines are ignored):
  //   sy-difficulty 1          first line: format and version
  //   config <16 hex digits>   difficulty::configHash() of the extractor that trained it
  //   threshold <0..1>         default decision threshold
  //   bias <weight>
  //   dense <name> <weight>    one per named feature used (difficulty::denseName)
  //   hashed <bucket> <weight> sparse hashed-feature weights, bucket < difficulty::kHashSize
  //   domain <name> <bias>     optional: the domain model's bias per domain (all or none)
  //   domain_hashed <bucket> <w_general> ... <w_creative>   its word unigram and character
  //                            4-gram weights, kDomainCount each
  // `source_name` prefixes error messages ("<source_name>:<line>: ...").
  static Result<std::shared_ptr<const DifficultyModel>> parse(std::string_view text,
                                                              std::string_view source_name);

  // Scores a request. `texts` are the request's user-visible text segments (message contents)
  // in conversation order; the LAST one is taken as the request itself (pass the last user
  // message last) and provides every n-gram and structure feature. Earlier segments are context:
  // they add only their total length, their count and their domain cues (for high_stakes).
  // Deterministic; empty input (or an empty last segment) gives a valid low score.
  DifficultyScore score(std::span<const std::string_view> texts) const;
  DifficultyScore score(std::string_view text) const { return score(std::span(&text, 1)); }

  // The same, on features already extracted (the trainer and evaluation use this).
  DifficultyScore score(const difficulty::Features& features) const;

  double defaultThreshold() const { return threshold_; }
  size_t hashedWeightCount() const { return hashed_count_; }

 private:
  DifficultyModel() = default;

  double threshold_ = 0.5;
  double bias_ = 0;
  std::array<float, difficulty::kDenseCount> dense_{};
  // The hashed weights, compact: about 5% of the kHashSize buckets have one, so a bitmap of the
  // buckets that do (32 KiB), the rank of each bitmap word, and the weights in bucket order keep
  // the lookups of one request inside L2 (a dense float array would be 1 MiB).
  float hashedWeight(uint32_t bucket) const {
    const uint64_t word = present_[bucket >> 6];
    const uint64_t bit = uint64_t{1} << (bucket & 63);
    if ((word & bit) == 0) {
      return 0;
    }
    return values_[rank_[bucket >> 6] + static_cast<uint32_t>(__builtin_popcountll(word & (bit - 1)))];
  }
  void compactHashed(const std::vector<float>& dense);
  Domain domainOf(const difficulty::Features& features) const;

  // The domain model, compact the same way: a bitmap of buckets, kDomainCount weights each,
  // quantized to int8 with one scale per bucket.
  bool has_domain_ = false;
  std::array<float, kDomainCount> domain_bias_{};
  std::vector<uint64_t> domain_present_;
  std::vector<uint32_t> domain_rank_;
  std::vector<int8_t> domain_weights_;
  std::vector<float> domain_scales_;
  std::vector<uint64_t> present_;
  std::vector<uint32_t> rank_;
  std::vector<float> values_;
  size_t hashed_count_ = 0;
};

}  // namespace sy::router
