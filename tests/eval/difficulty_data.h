// The labelled prompts used to train (difficulty_train) and evaluate (difficulty_eval) the
// difficulty classifier, read from ../shared/data (SOURCES.md there names origins and licenses),
// plus the training routine both programs share. Single-threaded; deterministic.
//
// Labels (1 = needs the strong model):
//   category sources  complex: gsm8k, bbh, humaneval, mt_bench math/reasoning/stem/coding
//                     arena_hard_v2 hard_prompt (coding, math)
//                     routine: ifeval, self_instruct, banking77, arena_hard_v2 creative_writing,
//                     mt_bench writing/roleplay/extraction/humanities
//   routellm          MMLU and GSM8K with per-prompt correctness of Mixtral-8x7B (weak) and
//                     GPT-4-1106 (strong): 1 iff weak wrong AND strong right ("needs strong").
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "router/difficulty.h"
#include "router/difficulty_features.h"

namespace sy::eval {

struct DifficultyItem {
  std::string source;              // "gsm8k", "bbh", "mt_bench", "routellm/mmlu", ...
  std::string subset;              // bbh task, mt_bench category, mmlu subject; may be ""
  bool routellm = false;           // label from model correctness, not from the source
  int label = 0;                   // 1 = complex / needs the strong model
  std::vector<std::string> turns;  // user texts in order; the last is the request
  uint64_t group = 0;              // cross-validation group: hash of the first turn's text
  // Leave-one-source-out family: the source, except that gsm8k and routellm/gsm8k (the same
  // questions) are one family "gsm8k".
  std::string family;
  // Domain label from what the data says (MMLU subject, Arena-Hard subcategory, the source's own
  // subject: see domainOfSubject in difficulty_data.cc); -1 when the data does not say.
  int domain = -1;
};

// Every item found under `dir`; a missing source is skipped and named in `missing`.
std::vector<DifficultyItem> loadDifficultyItems(const std::string& dir,
                                                std::vector<std::string>& missing);

struct FitOptions {
  int epochs = 12;
  double learning_rate = 0.2;   // Adagrad
  double l2 = 2e-6;             // per example, on the touched weights
  // Share of the total example weight on the routellm items. 0: their "needs strong" label (a
  // per-question accident of one weak model) lowered every leave-one-source-out figure.
  double routellm_share = 0;
  size_t max_hashed = 12000;    // hashed weights kept (largest |w|), to keep the file small
  uint64_t seed = 20240601;
  // Within a class, a source weighs (its size)^source_power: 0.5 = sqrt, 0 = every source alike.
  double source_power = 0.5;
  // Feature groups the difficulty model may use: hashed word bigrams and character 4-grams carry
  // the wording of a benchmark (its format) more than unigrams and the dense cues do.
  // hashed = false trains no hashed weight at all: the shipped model, since every hashed group
  // lowered the leave-one-source-out figures (tests/eval/README.md).
  bool hashed = false;
  bool word_bigrams = true;
  bool char_ngrams = true;
  // Dense features of a benchmark's format (options, lists, sentence shape, ...) are not used,
  // and the content cues may only push the way they mean (difficulty_data.cc, denseSign).
  bool format_guard = true;
  double hashed_l2 = 0;         // extra L2 on hashed weights only (keeps the dense cues in front)
  // Domain model (a softmax over the word unigram and character 4-gram buckets): hashed buckets
  // kept (8 weights each). 40,000: 0.743 on the semantic-router cases, 20,000: 0.705, 60,000: 0.743.
  size_t domain_max_hashed = 40000;
  int domain_epochs = 8;
  double domain_l2 = 1e-5;
};

struct TrainingExample {
  router::difficulty::Features features;
  const DifficultyItem* item = nullptr;
};

std::vector<TrainingExample> extractAll(const std::vector<DifficultyItem>& items);

// Trains on `train` (indices into `examples`) and returns the weights file text (the format of
// router::DifficultyModel::parse), with `header` as leading comment lines.
std::string fitWeights(const std::vector<TrainingExample>& examples,
                       const std::vector<size_t>& train, const FitOptions& options,
                       const std::string& header);

// Trains the domain model on the items of `train` that have a domain label and returns its lines
// of the weights file ("domain ..." and "domain_hashed ..."), to append to fitWeights' text.
std::string fitDomain(const std::vector<TrainingExample>& examples,
                      const std::vector<size_t>& train, const FitOptions& options);

// Cross-validation fold of an item: by group, so a text never lands in two folds.
inline size_t foldOf(const DifficultyItem& item, size_t folds) { return item.group % folds; }

}  // namespace sy::eval
