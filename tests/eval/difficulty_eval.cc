// difficulty_eval: measures the difficulty classifier on the public data in ../shared/data with
// k-fold cross-validation (folds by text, so a prompt never trains the model that scores it) and
// prints markdown tables. Not a test (no thresholds enforced, not registered with ctest).
//   difficulty_eval [DATA_DIR] [--folds N] [--builtin] [--option NAME=VALUE]...
// --option overrides a FitOptions field (epochs, learning_rate, l2, routellm_share, max_hashed,
// seed: the training order, to see how much a figure moves from training noise alone)
// for the cross-validated models, to compare training settings; the committed weights use the
// defaults in difficulty_data.h.
// Each fold trains exactly as difficulty_train does (same options, pruning and file format) and
// scores its held-out items through DifficultyModel::parse/score, i.e. the serving code.
// --builtin also scores everything with the committed weights (in-sample: informational only).
// Reports: accuracy, macro-F1 and ROC AUC per source (each category source against the pool of
// the opposite class), per mt_bench category, on RouteLLM's needs-strong label; the RouteLLM-style
// curve (share of prompts sent to the frontier vs share of needs-strong prompts caught) against a
// random and a length-only router and a subject oracle (the needs-strong rate of each prompt's
// MMLU subject, measured on the same items: a bound for routers that only learn subjects); and
// the high_stakes flag rate per MMLU subject group.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/eval/difficulty_data.h"
#include "tests/eval/json_lines.h"

namespace sy::eval {
namespace {

struct Scored {
  double score = 0;
  int label = 0;
  double length = 0;
  double subject_rate = 0;  // needs-strong rate of the item's MMLU subject (or of GSM8K)
};

// Mann-Whitney AUC with ties counted half.
double auc(std::vector<Scored> v, bool by_length = false) {
  std::sort(v.begin(), v.end(), [&](const Scored& a, const Scored& b) {
    return by_length ? a.length < b.length : a.score < b.score;
  });
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    auto key = [&](const Scored& s) { return by_length ? s.length : s.score; };
    while (j < v.size() && key(v[j]) == key(v[i])) {
      ++j;
    }
    double mid_rank = (static_cast<double>(i + j - 1)) / 2 + 1;
    for (size_t k = i; k < j; ++k) {
      if (v[k].label == 1) {
        rank_sum += mid_rank;
        pos += 1;
      } else {
        neg += 1;
      }
    }
    i = j;
  }
  if (pos == 0 || neg == 0) {
    return std::nan("");
  }
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

struct Binary {
  double accuracy = 0;
  double macro_f1 = 0;
};

Binary classify(const std::vector<Scored>& v, double threshold) {
  size_t tp = 0, fp = 0, tn = 0, fn = 0;
  for (const Scored& s : v) {
    bool predicted = s.score >= threshold;
    if (s.label == 1) {
      (predicted ? tp : fn)++;
    } else {
      (predicted ? fp : tn)++;
    }
  }
  auto f1 = [](size_t t, size_t f_pred, size_t f_missed) {
    double denom = 2.0 * static_cast<double>(t) + static_cast<double>(f_pred + f_missed);
    return denom == 0 ? 0.0 : 2.0 * static_cast<double>(t) / denom;
  };
  Binary out;
  out.accuracy = v.empty() ? 0 : static_cast<double>(tp + tn) / static_cast<double>(v.size());
  out.macro_f1 = (f1(tp, fp, fn) + f1(tn, fn, fp)) / 2;
  return out;
}

// Share of positives among the top `share` of items ranked by `key` (score, length, ...).
double caught(std::vector<Scored> v, double share, double Scored::*key) {
  std::stable_sort(v.begin(), v.end(),
                   [&](const Scored& a, const Scored& b) { return a.*key > b.*key; });
  size_t k = static_cast<size_t>(std::llround(share * static_cast<double>(v.size())));
  double positives = 0, hit = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    positives += v[i].label;
    if (i < k) {
      hit += v[i].label;
    }
  }
  return positives == 0 ? 0 : hit / positives;
}

std::string fmt(double v, const char* format = "%.3f") {
  if (std::isnan(v)) {
    return "–";
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

std::string pct(double v) { return fmt(v * 100, "%.1f%%"); }

struct Evaluated {
  const DifficultyItem* item;
  double score;
  bool high_stakes;
  double threshold;  // of the fold model that scored it
};

void printSourceTable(const std::vector<Evaluated>& results, const char* title) {
  auto scored = [](const Evaluated& e) {
    double length = 0;
    for (const std::string& t : e.item->turns) {
      length += static_cast<double>(t.size());
    }
    return Scored{e.score, e.item->label, length};
  };
  std::vector<Scored> complex_pool, routine_pool;
  std::map<std::string, std::vector<Scored>> by_source, by_mt_category;
  std::map<std::string, int> source_label;
  std::map<std::string, std::vector<Scored>> routellm;
  // The subject oracle ranks by the true needs-strong rate of each item's subject, measured on
  // these very items: what a router that knew every prompt's subject perfectly could reach.
  std::map<std::string, std::pair<double, double>> subject_counts;  // subject -> (n, positives)
  for (const Evaluated& e : results) {
    if (e.item->routellm) {
      auto& c = subject_counts[e.item->source + "/" + e.item->subset];
      c.first += 1;
      c.second += e.item->label;
    }
  }
  double threshold_sum = 0;
  for (const Evaluated& e : results) {
    threshold_sum += e.threshold;
    const DifficultyItem& item = *e.item;
    if (item.routellm) {
      Scored s = scored(e);
      const auto& [n, positives] = subject_counts[item.source + "/" + item.subset];
      s.subject_rate = positives / n;
      routellm[item.source].push_back(s);
      routellm["routellm (mmlu+gsm8k)"].push_back(s);
      continue;
    }
    (item.label ? complex_pool : routine_pool).push_back(scored(e));
    if (item.source == "mt_bench") {
      by_mt_category[item.subset].push_back(scored(e));
    } else {
      by_source[item.source].push_back(scored(e));
      source_label[item.source] = item.label;
    }
  }
  const double mean_threshold = results.empty() ? 0.5 : threshold_sum / results.size();

  std::printf("\n### %s\n\n", title);
  std::printf(
      "Category sources: each source against the pool of the opposite class (complex sources vs "
      "all routine items, routine sources vs all complex items); accuracy and macro-F1 at 0.5. "
      "RouteLLM rows: label = weak wrong AND strong right; accuracy and macro-F1 at the model's "
      "default threshold (mean %.3f).\n\n",
      mean_threshold);
  std::printf(
      "| family | source | n (source) | n (eval set) | positives | accuracy | macro-F1 | "
      "ROC AUC | length-only AUC |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  auto row = [&](const std::string& family, const std::string& source, size_t n_source,
                 const std::vector<Scored>& set, double threshold) {
    size_t pos = 0;
    for (const Scored& s : set) {
      pos += s.label;
    }
    Binary b = classify(set, threshold);
    std::printf("| %s | %s | %zu | %zu | %zu | %s | %s | %s | %s |\n", family.c_str(),
                source.c_str(), n_source, set.size(), pos, fmt(b.accuracy).c_str(),
                fmt(b.macro_f1).c_str(), fmt(auc(set)).c_str(), fmt(auc(set, true)).c_str());
  };
  std::vector<Scored> all = complex_pool;
  all.insert(all.end(), routine_pool.begin(), routine_pool.end());
  row("category", "all complex vs all routine", all.size(), all, 0.5);
  for (const auto& [source, v] : by_source) {
    std::vector<Scored> set = v;
    const auto& pool = source_label[source] ? routine_pool : complex_pool;
    set.insert(set.end(), pool.begin(), pool.end());
    row(source_label[source] ? "complex" : "routine", source, v.size(), set, 0.5);
  }
  std::vector<Scored> mt_all;
  for (const auto& [category, v] : by_mt_category) {
    mt_all.insert(mt_all.end(), v.begin(), v.end());
  }
  if (!mt_all.empty()) {
    row("mt_bench", "mt_bench (its own categories only)", mt_all.size(), mt_all, 0.5);
    for (const auto& [category, v] : by_mt_category) {
      std::vector<Scored> set = v;
      const auto& pool = v.front().label ? routine_pool : complex_pool;
      set.insert(set.end(), pool.begin(), pool.end());
      row(v.front().label ? "mt_bench complex" : "mt_bench routine", "mt_bench/" + category,
          v.size(), set, 0.5);
    }
  }
  for (const auto& [source, v] : routellm) {
    row("needs-strong", source, v.size(), v, mean_threshold);
  }

  std::printf("\n#### RouteLLM-style curve: share of needs-strong prompts caught\n\n");
  std::printf(
      "| set | n | needs-strong | frontier share | classifier | random | length-only | "
      "subject oracle |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [source, v] : routellm) {
    size_t pos = 0;
    for (const Scored& s : v) {
      pos += s.label;
    }
    const bool one_subject = std::all_of(v.begin(), v.end(), [&](const Scored& s) {
      return s.subject_rate == v.front().subject_rate;
    });
    for (double share : {0.1, 0.2, 0.3, 0.5}) {
      std::printf("| %s | %zu | %zu | %.0f%% | %s | %s | %s | %s |\n", source.c_str(), v.size(),
                  pos, share * 100, pct(caught(v, share, &Scored::score)).c_str(),
                  pct(share).c_str(), pct(caught(v, share, &Scored::length)).c_str(),
                  one_subject ? "–" : pct(caught(v, share, &Scored::subject_rate)).c_str());
    }
  }
}

void printHighStakes(const std::vector<Evaluated>& results) {
  static const std::set<std::string> kLegal = {"professional_law", "jurisprudence",
                                               "international_law"};
  static const std::set<std::string> kMedical = {"professional_medicine",
                                                 "college_medicine",
                                                 "clinical_knowledge",
                                                 "medical_genetics",
                                                 "anatomy",
                                                 "virology",
                                                 "nutrition",
                                                 "human_sexuality"};
  static const std::set<std::string> kFinancial = {"professional_accounting", "econometrics",
                                                   "high_school_macroeconomics", "marketing",
                                                   "business_ethics"};
  std::map<std::string, std::pair<size_t, size_t>> groups;  // name -> (n, flagged)
  for (const Evaluated& e : results) {
    const DifficultyItem& item = *e.item;
    std::string group;
    if (item.source == "routellm/mmlu") {
      group = kLegal.contains(item.subset)       ? "mmlu legal subjects"
              : kMedical.contains(item.subset)   ? "mmlu medical subjects"
              : kFinancial.contains(item.subset) ? "mmlu finance/business subjects"
                                                 : "mmlu other subjects";
    } else {
      group = item.source;
    }
    auto& g = groups[group];
    ++g.first;
    g.second += e.high_stakes ? 1 : 0;
  }
  std::printf("\n#### high_stakes flag rate (a rule over domain cues; no training involved)\n\n");
  std::printf("| slice | n | flagged |\n|---|---:|---:|\n");
  for (const auto& [name, g] : groups) {
    std::printf("| %s | %zu | %s |\n", name.c_str(), g.first,
                pct(static_cast<double>(g.second) / static_cast<double>(g.first)).c_str());
  }
}

// Trains as difficulty_train does and parses the text through the serving code.
std::shared_ptr<const router::DifficultyModel> trainModel(
    const std::vector<TrainingExample>& examples, const std::vector<size_t>& train,
    const FitOptions& options) {
  std::string text = fitWeights(examples, train, options, "") + fitDomain(examples, train, options);
  auto model = router::DifficultyModel::parse(text, "trained");
  if (!model) {
    std::fprintf(stderr, "difficulty_eval: %s\n", model.error().message.c_str());
    return nullptr;
  }
  return *model;
}

bool isRealisticRoutine(const DifficultyItem& item) {
  return item.source == "self_instruct" || item.source == "banking77" ||
         item.source == "ifeval" ||
         (item.source == "mt_bench" &&
          (item.subset == "writing" || item.subset == "roleplay" || item.subset == "extraction"));
}

bool isArenaHard(const DifficultyItem& item) {
  return item.source == "arena_hard_v2" && item.label == 1;
}

// The issue-14 targets on leave-one-source-out scores: Arena-Hard v2 hard prompts against
// realistic routine prompts.
void printTargets(const std::vector<Evaluated>& loso, double shipped_threshold) {
  std::vector<Scored> pool;
  std::map<std::string, std::vector<const Evaluated*>> rows;
  for (const Evaluated& e : loso) {
    const DifficultyItem& item = *e.item;
    if (isArenaHard(item) || isRealisticRoutine(item)) {
      pool.push_back({e.score, item.label, 0, 0});
    }
    if (item.source == "arena_hard_v2") {
      rows["arena_hard_v2/" + item.subset].push_back(&e);
      if (item.label == 1) {
        rows["arena_hard_v2 hard (coding+math)"].push_back(&e);
      }
    } else if (isRealisticRoutine(item)) {
      rows[item.source == "mt_bench" ? "mt_bench/" + item.subset : item.source].push_back(&e);
      rows["realistic routine (all)"].push_back(&e);
    }
  }
  std::printf("\n### Targets: Arena-Hard v2 hard prompts vs realistic routine prompts "
              "(leave-one-source-out)\n\n");
  std::printf(
      "AUC: arena_hard_v2 hard (coding, math) against the realistic routine pool (self_instruct, "
      "banking77, ifeval, mt_bench writing/roleplay/extraction), every score from a model that "
      "never saw the item's source family: **%s** (target >= 0.90).\n\n",
      fmt(auc(pool)).c_str());
  std::printf("| set | n | labelled complex at its model's threshold | at the shipped threshold "
              "(%.3f) | target |\n|---|---:|---:|---:|---|\n",
              shipped_threshold);
  for (const auto& [name, v] : rows) {
    size_t own = 0, shipped = 0;
    for (const Evaluated* e : v) {
      own += e->score >= e->threshold ? 1 : 0;
      shipped += e->score >= shipped_threshold ? 1 : 0;
    }
    const char* target = name == "arena_hard_v2 hard (coding+math)" ? ">= 70%"
                         : name == "realistic routine (all)"        ? "<= 10%"
                                                                    : "";
    std::printf("| %s | %zu | %s | %s | %s |\n", name.c_str(), v.size(),
                pct(static_cast<double>(own) / static_cast<double>(v.size())).c_str(),
                pct(static_cast<double>(shipped) / static_cast<double>(v.size())).c_str(), target);
  }
}

// vLLM Semantic Router's MMLU-Pro-style categories, mapped to the gateway's domains.
std::optional<router::Domain> domainOfCase(std::string_view category) {
  using router::Domain;
  static const std::map<std::string_view, Domain> kMap = {
      {"biology", Domain::Science},     {"chemistry", Domain::Science},
      {"physics", Domain::Science},     {"engineering", Domain::Science},
      {"computer science", Domain::Code}, {"math", Domain::Math},
      {"law", Domain::Legal},           {"health", Domain::Medical},
      {"business", Domain::Finance},    {"economics", Domain::Finance},
      {"history", Domain::General},     {"philosophy", Domain::General},
      {"psychology", Domain::General},  {"other", Domain::General},
  };
  auto it = kMap.find(category);
  return it == kMap.end() ? std::nullopt : std::optional<Domain>(it->second);
}

// Domain accuracy of the shipped model on the semantic-router cases (never used in training).
void printDomains(const router::DifficultyModel& model, const std::string& data_dir) {
  namespace json = boost::json;
  boost::system::error_code ec;
  json::value doc = json::parse(
      readFile(data_dir + "/vllm_semantic_router/domain_classify_cases.json"), ec);
  if (ec || !doc.is_array()) {
    std::printf("\n(domain cases not found under %s)\n", data_dir.c_str());
    return;
  }
  std::map<std::string, std::pair<size_t, size_t>> by_category;  // -> (n, correct)
  std::map<std::string, std::map<std::string, size_t>> confusion;
  size_t n = 0, correct = 0;
  for (const json::value& v : doc.as_array()) {
    if (!v.is_object()) {
      continue;
    }
    const json::object& o = v.as_object();
    const json::value* q = o.if_contains("question");
    const json::value* c = o.if_contains("category");
    if (q == nullptr || c == nullptr || !q->is_string() || !c->is_string()) {
      continue;
    }
    std::string category(c->as_string());
    auto expected = domainOfCase(category);
    if (!expected) {
      continue;
    }
    std::string_view question(q->as_string());
    router::Domain got = model.score(question).domain;
    auto& row = by_category[category];
    ++row.first;
    ++n;
    if (got == *expected) {
      ++row.second;
      ++correct;
    }
    ++confusion[category][std::string(router::toString(got))];
  }
  std::printf("\n### Domain label on the vLLM Semantic Router domain cases (never trained on)\n\n");
  std::printf("Accuracy: **%s** of %zu cases (target >= 0.80). The shipped model (trained on every "
              "item); its categories mapped to domains as in domainOfCase.\n\n",
              fmt(n == 0 ? 0 : static_cast<double>(correct) / static_cast<double>(n)).c_str(), n);
  std::printf("| category | expected domain | n | accuracy | predicted |\n|---|---|---:|---:|---|\n");
  for (const auto& [category, row] : by_category) {
    std::string predicted;
    for (const auto& [domain, count] : confusion[category]) {
      predicted += (predicted.empty() ? "" : ", ") + domain + " " + std::to_string(count);
    }
    std::printf("| %s | %s | %zu | %s | %s |\n", category.c_str(),
                std::string(router::toString(*domainOfCase(category))).c_str(), row.first,
                fmt(static_cast<double>(row.second) / static_cast<double>(row.first)).c_str(),
                predicted.c_str());
  }
}

bool setOption(FitOptions& options, std::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return false;
  }
  std::string name(assignment.substr(0, eq));
  std::string value(assignment.substr(eq + 1));
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0') {
    return false;
  }
  if (name == "epochs") {
    options.epochs = static_cast<int>(v);
  } else if (name == "learning_rate") {
    options.learning_rate = v;
  } else if (name == "l2") {
    options.l2 = v;
  } else if (name == "routellm_share") {
    options.routellm_share = v;
  } else if (name == "max_hashed") {
    options.max_hashed = static_cast<size_t>(v);
  } else if (name == "seed") {
    options.seed = static_cast<uint64_t>(v);
  } else if (name == "source_power") {
    options.source_power = v;
  } else if (name == "hashed") {
    options.hashed = v != 0;
  } else if (name == "word_bigrams") {
    options.word_bigrams = v != 0;
  } else if (name == "char_ngrams") {
    options.char_ngrams = v != 0;
  } else if (name == "format_guard") {
    options.format_guard = v != 0;
  } else if (name == "hashed_l2") {
    options.hashed_l2 = v;
  } else if (name == "domain_max_hashed") {
    options.domain_max_hashed = static_cast<size_t>(v);
  } else if (name == "domain_epochs") {
    options.domain_epochs = static_cast<int>(v);
  } else if (name == "domain_l2") {
    options.domain_l2 = v;
  } else {
    return false;
  }
  return true;
}

int run(int argc, char** argv) {
  std::string data_dir = std::string(SY_SOURCE_DIR) + "/../shared/data";
  size_t folds = 5;
  bool builtin = false;
  bool loso_only = false;
  bool domain_only = false;
  std::string dump_path;  // --dump FILE: every leave-one-source-out score, as TSV  // only the domain table (for tuning the domain model)  // skip the cross-validation and the domain table (for tuning)
  FitOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--folds") == 0 && i + 1 < argc) {
      folds = std::max<size_t>(2, std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--domain-only") == 0) {
      domain_only = true;
    } else if (std::strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
      dump_path = argv[++i];
    } else if (std::strcmp(argv[i], "--loso-only") == 0) {
      loso_only = true;
    } else if (std::strcmp(argv[i], "--builtin") == 0) {
      builtin = true;
    } else if (std::strcmp(argv[i], "--option") == 0 && i + 1 < argc) {
      if (!setOption(options, argv[++i])) {
        std::fprintf(stderr, "difficulty_eval: bad --option '%s'\n", argv[i]);
        return 2;
      }
    } else {
      data_dir = argv[i];
    }
  }
  std::vector<std::string> missing;
  std::vector<DifficultyItem> items = loadDifficultyItems(data_dir, missing);
  if (items.empty()) {
    std::fprintf(stderr, "difficulty_eval: no data under %s\n", data_dir.c_str());
    return 1;
  }
  std::vector<TrainingExample> examples = extractAll(items);

  std::printf("## difficulty_eval (%s)\n\n", data_dir.c_str());
  std::map<std::string, std::pair<size_t, size_t>> counts;
  for (const DifficultyItem& item : items) {
    auto& c = counts[item.source];
    ++c.first;
    c.second += item.label;
  }
  std::printf("Items (label 1 = complex / needs strong):");
  for (const auto& [source, c] : counts) {
    std::printf(" %s %zu (%zu);", source.c_str(), c.first, c.second);
  }
  for (const std::string& name : missing) {
    std::printf(" missing: %s;", name.c_str());
  }
  std::printf("\n");

  // The model as difficulty_train ships it (all items): its threshold, and its domain model.
  std::vector<size_t> everything(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    everything[i] = i;
  }
  auto shipped = trainModel(examples, everything, options);
  if (!shipped) {
    return 1;
  }

  if (domain_only) {
    printDomains(*shipped, data_dir);
    return 0;
  }

  // Leave one source family out: each family is scored by a model trained without it (and
  // without any item of another family that has the same text).
  std::set<std::string> families;
  for (const DifficultyItem& item : items) {
    families.insert(item.family);
  }
  std::vector<Evaluated> loso;
  for (const std::string& family : families) {
    std::set<uint64_t> held_groups;
    for (const DifficultyItem& item : items) {
      if (item.family == family) {
        held_groups.insert(item.group);
      }
    }
    std::vector<size_t> train, test;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].family == family) {
        test.push_back(i);
      } else if (!held_groups.contains(items[i].group)) {
        train.push_back(i);
      }
    }
    auto model = trainModel(examples, train, options);
    if (!model) {
      return 1;
    }
    for (size_t i : test) {
      router::DifficultyScore s = model->score(examples[i].features);
      loso.push_back({&items[i], s.score, s.high_stakes, model->defaultThreshold()});
    }
    std::fprintf(stderr, "leave out %s: %zu train, %zu held out\n", family.c_str(), train.size(),
                 test.size());
  }
  std::sort(loso.begin(), loso.end(),
            [](const Evaluated& a, const Evaluated& b) { return a.item < b.item; });
  if (!dump_path.empty()) {  // for reading misses: source, subset, label, score, text (TSV)
    std::FILE* dump = std::fopen(dump_path.c_str(), "w");
    for (const Evaluated& e : loso) {
      std::string text = e.item->turns.back().substr(0, 160);
      std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
      std::fprintf(dump, "%s\t%s\t%d\t%.4f\t%s\n", e.item->source.c_str(), e.item->subset.c_str(),
                   e.item->label, e.score, text.c_str());
    }
    std::fclose(dump);
  }
  printTargets(loso, shipped->defaultThreshold());
  printSourceTable(loso, "Leave-one-source-out (each family scored by a model trained without it)");
  printHighStakes(loso);
  if (loso_only) {
    return 0;
  }

  std::vector<Evaluated> results;
  for (size_t fold = 0; fold < folds; ++fold) {
    std::vector<size_t> train, test;
    for (size_t i = 0; i < items.size(); ++i) {
      (foldOf(items[i], folds) == fold ? test : train).push_back(i);
    }
    auto model = trainModel(examples, train, options);
    if (!model) {
      return 1;
    }
    for (size_t i : test) {
      router::DifficultyScore s = model->score(examples[i].features);
      results.push_back({&items[i], s.score, s.high_stakes, model->defaultThreshold()});
    }
    std::fprintf(stderr, "fold %zu/%zu: %zu train, %zu held out\n", fold + 1, folds, train.size(),
                 test.size());
  }
  std::sort(results.begin(), results.end(),
            [](const Evaluated& a, const Evaluated& b) { return a.item < b.item; });
  char title[128];
  std::snprintf(title, sizeof title,
                "%zu-fold cross-validation (held-out items, every source in training)", folds);
  printSourceTable(results, title);

  printDomains(*shipped, data_dir);

  if (builtin) {
    auto model = router::DifficultyModel::builtin();
    std::vector<Evaluated> in_sample;
    for (const TrainingExample& ex : examples) {
      router::DifficultyScore s = model->score(ex.features);
      in_sample.push_back({ex.item, s.score, s.high_stakes, model->defaultThreshold()});
    }
    printSourceTable(in_sample, "committed weights, in-sample (trained on these items)");
  }
  return 0;
}

}  // namespace
}  // namespace sy::eval

int main(int argc, char** argv) { return sy::eval::run(argc, argv); }
