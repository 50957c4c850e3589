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

// The domain an MMLU subject belongs to; General for the humanities, social sciences and
// miscellany.
router::Domain domainOfMmluSubject(std::string_view subject) {
  using router::Domain;
  static const std::map<std::string_view, Domain> kSubjects = {
      {"abstract_algebra", Domain::Math},
      {"college_mathematics", Domain::Math},
      {"elementary_mathematics", Domain::Math},
      {"high_school_mathematics", Domain::Math},
      {"high_school_statistics", Domain::Math},
      {"formal_logic", Domain::Math},
      {"college_computer_science", Domain::Code},
      {"high_school_computer_science", Domain::Code},
      {"computer_security", Domain::Code},
      {"machine_learning", Domain::Code},
      {"astronomy", Domain::Science},
      {"college_biology", Domain::Science},
      {"college_chemistry", Domain::Science},
      {"college_physics", Domain::Science},
      {"conceptual_physics", Domain::Science},
      {"electrical_engineering", Domain::Science},
      {"high_school_biology", Domain::Science},
      {"high_school_chemistry", Domain::Science},
      {"high_school_physics", Domain::Science},
      {"anatomy", Domain::Medical},
      {"clinical_knowledge", Domain::Medical},
      {"college_medicine", Domain::Medical},
      {"medical_genetics", Domain::Medical},
      {"nutrition", Domain::Medical},
      {"professional_medicine", Domain::Medical},
      {"virology", Domain::Medical},
      {"human_aging", Domain::Medical},
      {"international_law", Domain::Legal},
      {"jurisprudence", Domain::Legal},
      {"professional_law", Domain::Legal},
      {"business_ethics", Domain::Finance},
      {"econometrics", Domain::Finance},
      {"high_school_macroeconomics", Domain::Finance},
      {"high_school_microeconomics", Domain::Finance},
      {"marketing", Domain::Finance},
      {"management", Domain::Finance},
      {"professional_accounting", Domain::Finance},
  };
  auto it = kSubjects.find(subject);
  return it == kSubjects.end() ? Domain::General : it->second;
}

// Domain labels the data carries: MMLU subjects, Arena-Hard subcategories, and the subject of a
// single-subject source (HumanEval is code, GSM8K math, banking77 finance) or MT-Bench category.
int domainOf(const std::string& source, const std::string& subset) {
  using router::Domain;
  auto id = [](Domain d) { return static_cast<int>(d); };
  if (source == "routellm/mmlu") {
    return id(domainOfMmluSubject(subset));
  }
  if (source == "arena_hard_v2") {
    return subset == "coding" ? id(Domain::Code)
           : subset == "math" ? id(Domain::Math)
                              : id(Domain::Creative);
  }
  if (source == "humaneval") {
    return id(Domain::Code);
  }
  if (source == "gsm8k" || source == "routellm/gsm8k") {
    return id(Domain::Math);
  }
  if (source == "banking77") {
    return id(Domain::Finance);
  }
  if (source == "mt_bench") {
    return subset == "coding"                          ? id(Domain::Code)
           : subset == "math"                          ? id(Domain::Math)
           : subset == "stem"                          ? id(Domain::Science)
           : subset == "writing" || subset == "roleplay" ? id(Domain::Creative)
                                                       : id(Domain::General);
  }
  return -1;  // bbh, ifeval, self_instruct: mixed subjects, no label
}

DifficultyItem makeItem(std::string source, std::string subset, int label,
                        std::vector<std::string> turns) {
  DifficultyItem item;
  item.domain = domainOf(source, subset);
  item.family = source == "routellm/gsm8k" ? "gsm8k" : source;
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
  for (const auto& row : parseJsonLines(readFile((root / "arena_hard_v2/question.jsonl").string()))) {
    const json::object& o = row.as_object();
    std::string prompt = str(o, "prompt");
    std::string category = str(o, "category");
    std::string subcategory = str(o, "subcategory");
    if (!prompt.empty()) {
      // Hard prompts (coding, math) are complex; creative writing is open-ended but asks for no
      // multi-step reasoning: routine, and the same chat shape as the hard ones.
      items.push_back(
          makeItem("arena_hard_v2", subcategory, category == "hard_prompt" ? 1 : 0, {prompt}));
    }
  }
  note("arena_hard_v2", before);

  before = items.size();
  {
    auto rows = parseCsv(readFile((root / "banking77/test.csv").string()));
    for (size_t r = 1; r < rows.size(); ++r) {  // text,category
      if (rows[r].size() >= 2 && !rows[r][0].empty()) {
        items.push_back(makeItem("banking77", rows[r][1], 0, {rows[r][0]}));
      }
    }
  }
  note("banking77", before);

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
// source weighs its size to the power source_power (0.5: sqrt), so no single benchmark
// dominates; the routellm items together weigh `routellm_share` of the total.
std::vector<double> exampleWeights(const std::vector<TrainingExample>& examples,
                                   const std::vector<size_t>& train, const FitOptions& options) {
  std::map<std::pair<int, std::string>, size_t> counts;  // (group, source) -> n
  auto groupOf = [](const DifficultyItem& item) { return item.routellm ? 2 : item.label; };
  for (size_t i : train) {
    const DifficultyItem& item = *examples[i].item;
    ++counts[{groupOf(item), item.source}];
  }
  std::array<double, 3> sqrt_sum{};  // sum of n^source_power per group
  for (const auto& [key, n] : counts) {
    sqrt_sum[key.first] += std::pow(static_cast<double>(n), options.source_power);
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
    weights[i] = group_total[g] * std::pow(n, options.source_power) / sqrt_sum[g] / n;
  }
  return weights;
}

}  // namespace

namespace {

// The sign each dense feature's weight may take when FitOptions::format_guard is on: +1 (only
// toward complex), -1 (only toward routine), 0 (not used: a cue of a benchmark's format, not of
// the difficulty of the task). The content cues (code, math, what is asked for, technical
// vocabulary, constraints and steps, length) keep the direction they have in any source.
int denseSign(router::difficulty::Dense feature) {
  using D = router::difficulty::Dense;
  switch (feature) {
    case D::LogBytes:
    case D::LogWords:
    case D::Numbers:
    case D::MathOps:
    case D::Latex:
    case D::CodeFence:
    case D::CodeLines:
    case D::CodeWords:
    case D::Constraints:
    case D::Steps:
    case D::Demanding:
    case D::TechTerms:
    case D::TechDensity:
      return 1;
    case D::FormatCues:
    case D::Light:
      return -1;
    default:
      return 0;
  }
}

}  // namespace

std::string fitWeights(const std::vector<TrainingExample>& examples,
                       const std::vector<size_t>& train, const FitOptions& options,
                       const std::string& header) {
  namespace d = router::difficulty;
  std::array<int, d::kDenseCount> sign{};
  for (size_t j = 0; j < d::kDenseCount; ++j) {
    sign[j] = options.format_guard ? denseSign(static_cast<d::Dense>(j)) : 2;
  }
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
        if (f.dense[j] != 0 && sign[j] != 0) {
          step(dense[j], dense_g[j], g * f.dense[j] + options.l2 * dense[j]);
          if ((sign[j] == 1 && dense[j] < 0) || (sign[j] == -1 && dense[j] > 0)) {
            dense[j] = 0;
          }
        }
      }
      if (!options.hashed) {
        continue;
      }
      const double l2 = options.l2 + options.hashed_l2;
      // Words alternate unigram, bigram (difficulty_features.cc).
      for (size_t k = 0; k < f.words.size(); k += options.word_bigrams ? 1 : 2) {
        const uint32_t b = f.words[k];
        step(hashed[b], hashed_g[b], g * f.word_scale + l2 * hashed[b]);
      }
      if (options.char_ngrams) {
        for (uint32_t b : f.chars) {
          step(hashed[b], hashed_g[b], g * f.char_scale + l2 * hashed[b]);
        }
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
  // prompts: the highest balanced accuracy on the training items with category labels, each
  // source weighing the same within its class (so the largest benchmark does not place the cut).
  // The RouteLLM items only shape the score; their "needs the strong model" label is too noisy
  // to place a routine/complex cut (see tests/eval/README.md).
  std::map<std::string, double> source_n;
  for (size_t i : train) {
    if (!examples[i].item->routellm) {
      source_n[examples[i].item->source] += 1;
    }
  }
  struct Cut {
    double score;
    int label;
    double weight;
  };
  std::vector<Cut> scored;
  double positives = 0, negatives = 0;
  for (size_t i : train) {
    const DifficultyItem& item = *examples[i].item;
    if (!item.routellm) {
      const double w = 1 / source_n[item.source];
      scored.push_back({(*model)->score(examples[i].features).score, item.label, w});
      (item.label ? positives : negatives) += w;
    }
  }
  double threshold = 0.5;
  if (positives > 0 && negatives > 0) {
    std::sort(scored.begin(), scored.end(),
              [](const Cut& a, const Cut& b) { return a.score < b.score; });
    // Cutting just below scored[k]: items 0..k-1 are routine, k.. are complex.
    double negatives_below = 0, positives_below = 0;
    double best = -1;
    for (size_t k = 0; k < scored.size(); ++k) {
      const double balanced =
          0.5 * (negatives_below / negatives + (positives - positives_below) / positives);
      if (balanced > best && (k == 0 || scored[k].score > scored[k - 1].score)) {
        best = balanced;
        threshold = k == 0 ? scored[0].score : 0.5 * (scored[k - 1].score + scored[k].score);
      }
      (scored[k].label == 0 ? negatives_below : positives_below) += scored[k].weight;
    }
    threshold = std::clamp(threshold, 1e-6, 1 - 1e-6);
  }
  return render(threshold);
}

}  // namespace sy::eval

namespace sy::eval {

std::string fitDomain(const std::vector<TrainingExample>& examples,
                      const std::vector<size_t>& train, const FitOptions& options) {
  namespace d = router::difficulty;
  constexpr size_t K = router::kDomainCount;
  std::vector<size_t> labelled;
  std::array<double, K> class_n{};
  for (size_t i : train) {
    if (examples[i].item->domain >= 0) {
      labelled.push_back(i);
      class_n[static_cast<size_t>(examples[i].item->domain)] += 1;
    }
  }
  if (labelled.empty()) {
    return "";
  }
  // Each domain weighs the same in total, whatever its number of items, and within a domain each
  // source by sqrt(its size): banking77's 3,000 customer questions must not make "finance" the
  // class of every short question.
  std::map<std::pair<int, std::string>, double> source_n;
  std::array<double, K> sqrt_sum{};
  for (size_t i : labelled) {
    source_n[{examples[i].item->domain, examples[i].item->source}] += 1;
  }
  for (const auto& [key, n] : source_n) {
    sqrt_sum[static_cast<size_t>(key.first)] += std::sqrt(n);
  }
  size_t classes = 0;
  for (double n : class_n) {
    classes += n > 0 ? 1 : 0;
  }
  const double per_class = static_cast<double>(labelled.size()) / static_cast<double>(classes);
  auto weightOf = [&](const DifficultyItem& item) {
    const double n = source_n[{item.domain, item.source}];
    return per_class * std::sqrt(n) / sqrt_sum[static_cast<size_t>(item.domain)] / n;
  };
  std::vector<double> hashed(d::kHashSize * K, 0), hashed_g(d::kHashSize * K, 0);
  std::array<double, K> bias{}, bias_g{};
  constexpr double kEps = 1e-8;
  auto step = [&](double& w, double& g2, double grad) {
    g2 += grad * grad;
    w -= options.learning_rate * grad / std::sqrt(g2 + kEps);
  };
  // The features the domain model learns from: of the question itself. MMLU prompts end in
  // their options and "Answer:", which every MMLU subject shares and no chat request has: left
  // in, they teach "no options, so not an MMLU subject" (creative, finance, code).
  std::vector<d::Features> features(examples.size());
  for (size_t i : labelled) {
    const DifficultyItem& item = *examples[i].item;
    std::vector<std::string_view> texts(item.turns.begin(), item.turns.end());
    if (item.source == "routellm/mmlu") {
      texts.back() = texts.back().substr(0, texts.back().find("\nA. "));
    }
    d::extract(texts, features[i]);
  }
  std::vector<size_t> order = labelled;
  Rng rng{options.seed ^ 0xd0d0};
  std::array<double, K> z{};
  for (int epoch = 0; epoch < options.domain_epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[rng.next() % i]);
    }
    for (size_t i : order) {
      const d::Features& f = features[i];
      const size_t label = static_cast<size_t>(examples[i].item->domain);
      const double weight = weightOf(*examples[i].item);
      z = bias;
      // Word unigrams (the even entries) and character 4-grams: see DifficultyModel::domainOf.
      for (size_t k = 0; k < f.words.size(); k += 2) {
        const uint32_t b = f.words[k];
        for (size_t c = 0; c < K; ++c) {
          z[c] += hashed[b * K + c] * f.word_scale;
        }
      }
      for (uint32_t b : f.chars) {
        for (size_t c = 0; c < K; ++c) {
          z[c] += hashed[b * K + c] * f.char_scale;
        }
      }
      double max_z = *std::max_element(z.begin(), z.end());
      double total = 0;
      for (double& v : z) {
        v = std::exp(v - max_z);
        total += v;
      }
      for (size_t c = 0; c < K; ++c) {
        const double g = weight * (z[c] / total - (c == label ? 1.0 : 0.0));
        step(bias[c], bias_g[c], g);
        for (size_t k = 0; k < f.words.size(); k += 2) {
          double& w = hashed[f.words[k] * K + c];
          step(w, hashed_g[f.words[k] * K + c], g * f.word_scale + options.domain_l2 * w);
        }
        for (uint32_t b : f.chars) {
          double& w = hashed[b * K + c];
          step(w, hashed_g[b * K + c], g * f.char_scale + options.domain_l2 * w);
        }
      }
    }
  }
  // Keep the buckets with the largest weight in any domain.
  std::vector<std::pair<double, uint32_t>> strength;
  for (uint32_t b = 0; b < d::kHashSize; ++b) {
    double m = 0;
    for (size_t c = 0; c < K; ++c) {
      m = std::max(m, std::fabs(hashed[b * K + c]));
    }
    if (m > 0) {
      strength.emplace_back(-m, b);
    }
  }
  std::sort(strength.begin(), strength.end());
  if (strength.size() > options.domain_max_hashed) {
    strength.resize(options.domain_max_hashed);
  }
  std::vector<uint32_t> kept;
  for (const auto& [m, b] : strength) {
    kept.push_back(b);
  }
  std::sort(kept.begin(), kept.end());
  std::string out;
  char line[96];
  for (size_t c = 0; c < K; ++c) {
    std::snprintf(line, sizeof line, "domain %s %.6g\n",
                  std::string(router::toString(static_cast<router::Domain>(c))).c_str(), bias[c]);
    out += line;
  }
  for (uint32_t b : kept) {
    std::snprintf(line, sizeof line, "domain_hashed %u", b);
    out += line;
    for (size_t c = 0; c < K; ++c) {
      std::snprintf(line, sizeof line, " %.3g", hashed[b * K + c]);
      out += line;
    }
    out += "\n";
  }
  return out;
}

}  // namespace sy::eval
