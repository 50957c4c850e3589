// Reads a gitleaks configuration file (TOML, through toml++) into a policies::RulePack for
// `dlp.rule_packs: [{format: gitleaks, path: ...}]`. Supported per rule: id, description, regex,
// secretGroup, entropy, keywords, allowlists ([[rules.allowlists]] and the older
// [rules.allowlist]: regexes, regexTarget, stopwords, condition); the global [allowlist] and
// [[allowlists]] (with targetRules). Rules that need a file path (`path`) cannot apply to a
// prompt and are skipped, and so are path and commit allowlist criteria. Errors are located in
// the TOML file: "rules.toml:12:9: rule 'acme-key': invalid regex: missing ): (abc".
#pragma once

#include <string>
#include <vector>

#include "policies/dlp_config.h"

namespace sy::config {

struct GitleaksLoad {
  policies::RulePack pack;
  std::vector<std::string> errors;       // "file:line:col: message", in file order
  std::vector<std::string> skipped_ids;  // path-only or path-scoped rules
};

// `path` is opened as given; `display` names it in messages (the policy's spelling).
GitleaksLoad loadGitleaksPack(const std::string& path, const std::string& display);

}  // namespace sy::config
