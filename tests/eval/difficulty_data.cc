#include "tests/eval/difficulty_data.h"

#include <zlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/eval/json_lines.h"

namespace sy::eval {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string readGzip(const std::string& path) {
  std::string out;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return out;
  }
  char buffer[1 << 15];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  gzclose(file);
  return out;
}

std::string str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// RFC 4180: quoted fields may hold commas, newlines and doubled quotes.
std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

uint64_t groupHash(std::string_view text) {
  // Whitespace-insensitive, so the same question from two files falls into the same fold.
  uint64_t h = 1469598103934665603ull;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
  }
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

DifficultyItem makeItem(std::string source, std::string subset, int label,
                        std::vector<std::string> turns) {
  DifficultyItem item;
  item.source = std::move(source);
  item.subset = std::move(subset);
  item.label = label;
  item.turns = std::move(turns);
  item.group = groupHash(item.turns.front());
  return item;
}

std::vector<fs::path> sortedFiles(const fs::path& dir, std::string_view extension) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == extension) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool isTrue(const std::string& field) { return field == "True" || field == "true" || field == "1"; }

// RouteLLM csv: prompt, weak correct?, strong correct? [, responses...].
void loadRouteLlmCsv(const fs::path& path, const std::string& source, const std::string& subset,
                     std::vector<DifficultyItem>& out) {
  auto rows = parseCsv(readFile(path.string()));
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() < 3 || row[0].empty()) {
      continue;
    }
    bool weak = isTrue(row[1]);
    bool strong = isTrue(row[2]);
    DifficultyItem item = makeItem(source, subset, !weak && strong ? 1 : 0, {row[0]});
    item.routellm = true;
    out.push_back(std::move(item));
  }
}

}  // namespace

std::vector<DifficultyItem> loadDifficultyItems(const std::string& dir,
                                                std::vector<std::string>& missing) {
  std::vector<DifficultyItem> items;
  const fs::path root(dir);
  auto note = [&](const char* name, size_t before) {
    if (items.size() == before) {
      missing.push_back(name);
    }
  };

  size_t before = items.size();
  for (const auto& row : parseJsonLines(readFile((root / "gsm8k/test.jsonl").string()))) {
    std::string q = str(row.as_object(), "question");
    if (!q.empty()) {
      items.push_back(makeItem("gsm8k", "", 1, {q}));
    }
  }
  note("gsm8k", before);

  before = items.size();
  for (const fs::path& file : sortedFiles(root / "bbh", ".json")) {
    boost::system::error_code ec;
    json::value doc = json::parse(readFile(file.string()), ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("examples")) {
      continue;
    }
    for (const json::value& ex : doc.as_object().at("examples").as_array()) {
      std::string input = ex.is_object() ? str(ex.as_object(), "input") : "";
      if (!input.empty()) {
        items.push_back(makeItem("bbh", file.stem().string(), 1, {input}));
      }
    }
  }
  note("bbh", before);

  before = items.size();
  for (const auto& row :
       parseJsonLines(readGzip((root / "humaneval/HumanEval.jsonl.gz").string()))) {
    std::string prompt = str(row.as_object(), "prompt");
    if (!prompt.empty()) {
      items.push_back(makeItem("humaneval", "", 1, {prompt}));
    }
  }
  note("humaneval", before);

  before = items.size();
  for (const auto& row : parseJsonLines(readFile((root / "mt_bench/question.jsonl").string()))) {
    const json::object& o = row.as_object();
    std::string category = str(o, "category");
    static const std::vector<std::string> kComplex = {"math", "reasoning", "stem", "coding"};
    int label = std::find(kComplex.begin(), kComplex.end(), category) != kComplex.end() ? 1 : 0;
    const json::value* turns = o.if_contains("turns");
    if (turns == nullptr || !turns->is_array()) {
      continue;
    }
    std::vector<std::string> texts;
    for (const json::value& t : turns->as_array()) {
      if (t.is_string()) {
        texts.emplace_back(t.as_string());
        // Turn k is scored with the earlier user turns as context.
        DifficultyItem item = makeItem("mt_bench", category, label, texts);
        items.push_back(std::move(item));
      }
    }
  }
  note("mt_bench", before);

  before = items.size();
  for (const auto& row : parseJsonLines(readFile((root / "ifeval/input_data.jsonl").string()))) {
    std::string prompt = str(row.as_object(), "prompt");
    if (!prompt.empty()) {
      items.push_back(makeItem("ifeval", "", 0, {prompt}));
    }
  }
  note("ifeval", before);

  before = items.size();
  for (const char* file : {"seed_tasks.jsonl", "user_oriented_instructions.jsonl"}) {
    for (const auto& row : parseJsonLines(readFile((root / "self_instruct" / file).string()))) {
      const json::object& o = row.as_object();
      std::string text = str(o, "instruction");
      const json::value* instances = o.if_contains("instances");
      if (instances != nullptr && instances->is_array() && !instances->as_array().empty() &&
          instances->as_array()[0].is_object()) {
        std::string input = str(instances->as_array()[0].as_object(), "input");
        if (!input.empty()) {
          text += "\n\n" + input;
        }
      }
      if (!text.empty()) {
        items.push_back(
            makeItem("self_instruct", file[0] == 's' ? "seed" : "user_oriented", 0, {text}));
      }
    }
  }
  note("self_instruct", before);

  before = items.size();
  for (const fs::path& file : sortedFiles(root / "routellm/mmlu/responses", ".csv")) {
    std::string subject = file.stem().string();
    if (subject.rfind("mmlu_", 0) == 0) {
      subject = subject.substr(5);
    }
    loadRouteLlmCsv(file, "routellm/mmlu", subject, items);
  }
  note("routellm/mmlu", before);

  before = items.size();
  loadRouteLlmCsv(root / "routellm/gsm8k/gsm8k_responses.csv", "routellm/gsm8k", "", items);
  note("routellm/gsm8k", before);
  return items;
}

std::vector<TrainingExample> extractAll(const std::vector<DifficultyItem>& items) {
  std::vector<TrainingExample> out(items.size());
  std::vector<std::string_view> views;
  for (size_t i = 0; i < items.size(); ++i) {
    views.assign(items[i].turns.begin(), items[i].turns.end());
    router::difficulty::extract(views, out[i].features);
    out[i].item = &items[i];
  }
  return out;
}

namespace {

// splitmix64: a fixed, portable generator (std::shuffle's algorithm is library-defined).
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

// Per-example weights: the complex and routine classes weigh the same; within a class each
// source weighs sqrt(its size), so no single benchmark dominates; the routellm items together
// weigh `routellm_share` of the total, each routellm source again by sqrt(size).
std::vector<double> exampleWeights(const std::vector<TrainingExample>& examples,
                                   const std::vector<size_t>& train, const FitOptions& options) {
  std::map<std::pair<int, std::string>, size_t> counts;  // (group, source) -> n
  auto groupOf = [](const DifficultyItem& item) { return item.routellm ? 2 : item.label; };
  for (size_t i : train) {
    const DifficultyItem& item = *examples[i].item;
    ++counts[{groupOf(item), item.source}];
  }
  std::array<double, 3> sqrt_sum{};
  for (const auto& [key, n] : counts) {
    sqrt_sum[key.first] += std::sqrt(static_cast<double>(n));
  }
  const double total = static_cast<double>(train.size());
  const bool has_routellm = sqrt_sum[2] > 0;
  const double routellm_total = has_routellm ? total * options.routellm_share : 0;
  const double class_total = (total - routellm_total) / 2;
  std::array<double, 3> group_total = {class_total, class_total, routellm_total};
  std::vector<double> weights(examples.size(), 0);
  for (size_t i : train) {
    const DifficultyItem& item = *examples[i].item;
    int g = groupOf(item);
    double n = static_cast<double>(counts[{g, item.source}]);
    weights[i] = group_total[g] * std::sqrt(n) / sqrt_sum[g] / n;
  }
  return weights;
}

}  // namespace

std::string fitWeights(const std::vector<TrainingExample>& examples,
                       const std::vector<size_t>& train, const FitOptions& options,
                       const std::string& header) {
  namespace d = router::difficulty;
  const std::vector<double> weights = exampleWeights(examples, train, options);
  std::vector<double> hashed(d::kHashSize, 0), hashed_g(d::kHashSize, 0);
  std::array<double, d::kDenseCount> dense{}, dense_g{};
  double bias = 0, bias_g = 0;
  constexpr double kEps = 1e-8;

  auto logitOf = [&](const d::Features& f) {
    double z = bias;
    for (size_t j = 0; j < d::kDenseCount; ++j) {
      z += dense[j] * f.dense[j];
    }
    double w = 0;
    for (uint32_t b : f.words) {
      w += hashed[b];
    }
    double c = 0;
    for (uint32_t b : f.chars) {
      c += hashed[b];
    }
    return z + w * f.word_scale + c * f.char_scale;
  };
  auto step = [&](double& w, double& g2, double grad) {
    g2 += grad * grad;
    w -= options.learning_rate * grad / std::sqrt(g2 + kEps);
  };

  std::vector<size_t> order = train;
  Rng rng{options.seed};
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) {  // Fisher-Yates with the fixed generator
      std::swap(order[i - 1], order[rng.next() % i]);
    }
    for (size_t i : order) {
      const d::Features& f = examples[i].features;
      double z = logitOf(f);
      double p = 1 / (1 + std::exp(-z));
      double g = weights[i] * (p - examples[i].item->label);
      step(bias, bias_g, g);
      for (size_t j = 0; j < d::kDenseCount; ++j) {
        if (f.dense[j] != 0) {
          step(dense[j], dense_g[j], g * f.dense[j] + options.l2 * dense[j]);
        }
      }
      for (uint32_t b : f.words) {
        step(hashed[b], hashed_g[b], g * f.word_scale + options.l2 * hashed[b]);
      }
      for (uint32_t b : f.chars) {
        step(hashed[b], hashed_g[b], g * f.char_scale + options.l2 * hashed[b]);
      }
    }
  }

  // Keep the largest weights; write them in bucket order.
  std::vector<uint32_t> kept;
  for (uint32_t b = 0; b < d::kHashSize; ++b) {
    if (hashed[b] != 0) {
      kept.push_back(b);
    }
  }
  if (kept.size() > options.max_hashed) {
    std::nth_element(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(options.max_hashed),
                     kept.end(), [&](uint32_t a, uint32_t b) {
                       double wa = std::fabs(hashed[a]), wb = std::fabs(hashed[b]);
                       return wa != wb ? wa > wb : a < b;
                     });
    kept.resize(options.max_hashed);
  }
  std::sort(kept.begin(), kept.end());

  // The threshold is computed with the pruned weights, exactly as they will be served.
  auto render = [&](double threshold) {
    std::string out = header;
    char line[128];
    std::snprintf(line, sizeof line, "sy-difficulty 1\nconfig %016llx\nthreshold %.6f\n",
                  static_cast<unsigned long long>(d::configHash()), threshold);
    out += line;
    std::snprintf(line, sizeof line, "bias %.6g\n", bias);
    out += line;
    for (size_t j = 0; j < d::kDenseCount; ++j) {
      std::snprintf(line, sizeof line, "dense %s %.6g\n", std::string(d::denseName(j)).c_str(),
                    dense[j]);
      out += line;
    }
    for (uint32_t b : kept) {
      std::snprintf(line, sizeof line, "hashed %u %.4g\n", b, hashed[b]);
      out += line;
    }
    return out;
  };
  std::string draft = render(0.5);
  auto model = router::DifficultyModel::parse(draft, "fit");
  if (!model) {
    std::fprintf(stderr, "fitWeights: %s\n", model.error().message.c_str());
    std::abort();
  }
  // The label's threshold: the score that best separates the complex from the routine benchmark
  // prompts (highest balanced accuracy on the training items with category labels). The
  // RouteLLM items only shape the score; their "needs the strong model" label is too noisy to
  // place a routine/complex cut (see tests/eval/README.md).
  std::vector<std::pair<double, int>> scored;
  size_t positives = 0;
  for (size_t i : train) {
    if (!examples[i].item->routellm) {
      const int label = examples[i].item->label;
      scored.emplace_back((*model)->score(examples[i].features).score, label);
      positives += static_cast<size_t>(label);
    }
  }
  double threshold = 0.5;
  const size_t negatives = scored.size() - positives;
  if (positives > 0 && negatives > 0) {
    std::sort(scored.begin(), scored.end());
    // Cutting just below scored[k]: items 0..k-1 are routine, k.. are complex.
    size_t negatives_below = 0;
    double best = -1;
    for (size_t k = 0; k < scored.size(); ++k) {
      const size_t positives_above = positives - (k - negatives_below);
      const double balanced =
          0.5 * (static_cast<double>(negatives_below) / static_cast<double>(negatives) +
                 static_cast<double>(positives_above) / static_cast<double>(positives));
      if (balanced > best && (k == 0 || scored[k].first > scored[k - 1].first)) {
        best = balanced;
        threshold = k == 0 ? scored[0].first : 0.5 * (scored[k - 1].first + scored[k].first);
      }
      negatives_below += scored[k].second == 0 ? 1 : 0;
    }
    threshold = std::clamp(threshold, 1e-6, 1 - 1e-6);
  }
  return render(threshold);
}

}  // namespace sy::eval
