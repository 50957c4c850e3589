// The labelled prompts used to train (difficulty_train) and evaluate (difficulty_eval) the
// difficulty classifier, read from ../shared/data (SOURCES.md there names origins and licenses),
// plus the training routine both programs share. Single-threaded; deterministic.
//
// Labels (1 = needs the strong model):
//   category sources  complex: gsm8k, bbh, humaneval, mt_bench math/reasoning/stem/coding
//                     routine: ifeval, self_instruct, mt_bench
//                     writing/roleplay/extraction/humanities
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
};

// Every item found under `dir`; a missing source is skipped and named in `missing`.
std::vector<DifficultyItem> loadDifficultyItems(const std::string& dir,
                                                std::vector<std::string>& missing);

struct FitOptions {
  int epochs = 12;
  double learning_rate = 0.2;   // Adagrad
  double l2 = 2e-6;             // per example, on the touched weights
  double routellm_share = 0.15;  // share of the total example weight on the routellm items
  size_t max_hashed = 12000;    // hashed weights kept (largest |w|), to keep the file small
  uint64_t seed = 20240601;
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

// Cross-validation fold of an item: by group, so a text never lands in two folds.
inline size_t foldOf(const DifficultyItem& item, size_t folds) { return item.group % folds; }

}  // namespace sy::eval
