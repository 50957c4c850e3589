// difficulty_train: trains the difficulty classifier on the public data in ../shared/data and
// writes the weights file the gateway embeds (router/data/difficulty_weights.txt).
//   difficulty_train [DATA_DIR] [OUT_FILE]   defaults: ../shared/data next to the repository,
//                                            router/data/difficulty_weights.txt in it
// Deterministic: fixed seed, fixed item order, no timestamps, so two runs write the same bytes.
// Run it through scripts/train-difficulty.
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/eval/difficulty_data.h"

int main(int argc, char** argv) {
  using namespace sy::eval;
  std::string data_dir = argc > 1 ? argv[1] : std::string(SY_SOURCE_DIR) + "/../shared/data";
  std::string out_path =
      argc > 2 ? argv[2] : std::string(SY_SOURCE_DIR) + "/router/data/difficulty_weights.txt";

  std::vector<std::string> missing;
  std::vector<DifficultyItem> items = loadDifficultyItems(data_dir, missing);
  if (items.empty()) {
    std::fprintf(stderr, "difficulty_train: no data under %s\n", data_dir.c_str());
    return 1;
  }
  std::vector<TrainingExample> examples = extractAll(items);
  std::vector<size_t> all(examples.size());
  for (size_t i = 0; i < all.size(); ++i) {
    all[i] = i;
  }

  // Header: what produced the file, on what. Counts per source (positives in parentheses).
  std::map<std::string, std::pair<size_t, size_t>> counts;
  for (const DifficultyItem& item : items) {
    auto& c = counts[item.source];
    ++c.first;
    c.second += item.label;
  }
  FitOptions options;
  std::string header =
      "# Switchyard difficulty classifier weights (router/difficulty.h). Generated: do not edit.\n"
      "# produced by: scripts/train-difficulty (tests/eval/difficulty_train ../shared/data "
      "router/data/difficulty_weights.txt)\n";
  char line[512];
  std::snprintf(line, sizeof line,
                "# options: epochs=%d learning_rate=%g l2=%g routellm_share=%g threshold=balanced "
                "per source max_hashed=%zu seed=%llu hashed=%d format_guard=%d\n"
                "# domain model: epochs=%d l2=%g max_hashed=%zu (word unigrams, character 4-grams)\n",
                options.epochs, options.learning_rate, options.l2, options.routellm_share,
                options.max_hashed, static_cast<unsigned long long>(options.seed),
                options.hashed ? 1 : 0, options.format_guard ? 1 : 0, options.domain_epochs,
                options.domain_l2, options.domain_max_hashed);
  header += line;
  header += "# training items (label 1 = complex / needs strong):";
  for (const auto& [source, c] : counts) {
    std::snprintf(line, sizeof line, " %s=%zu(%zu)", source.c_str(), c.first, c.second);
    header += line;
  }
  header += "\n";
  for (const std::string& name : missing) {
    header += "# missing source: " + name + "\n";
  }

  std::string weights =
      fitWeights(examples, all, options, header) + fitDomain(examples, all, options);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << weights;
  if (!out) {
    std::fprintf(stderr, "difficulty_train: cannot write %s\n", out_path.c_str());
    return 1;
  }
  std::fprintf(stderr, "difficulty_train: %zu items -> %s (%zu bytes)\n", items.size(),
               out_path.c_str(), weights.size());
  return 0;
}
