// Policy warnings: what a policy may do but a reviewer should see (`switchyard lint` prints them,
// `serve` logs them once at startup). Pure functions of a loaded Config; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "observability/logging.h"

namespace sy::config {

// One warning, located like a ConfigError. str() is "file:line:col: warning: message".
struct ConfigWarning {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  std::string message;  // "path: text", like error messages
  int order = 0;  // the line across the policy's files (see SourceMap), for sorting
  std::string str() const;
};

// Every warning about `config`, sorted by position:
//  - compliance: a tier, model alias, or routing rule route or fallback that can reach a backend
//    whose license category (compliance.licenses) or region (compliance.regions; external
//    backends only, a missing region counting as unknown) the policy does not allow: one warning
//    per backend per referencing place, at that place;
//  - an external backend without a region while compliance.regions is set;
//  - an unused backend: no tier, model alias or routing rule names it;
//  - an external backend without a cost (its traffic would count as free in spend and savings);
//  - a routing rule whose transform has no effect: its route and fallbacks reach only self-hosted
//    backends (transforms apply to requests sent to external backends);
//  - a routing rule, or a DLP action rule (dlp.actions, dlp.responses.actions), that can never
//    match because an earlier rule matches everything it does (shadowed);
//  - a tier no routing rule routes or falls back to and no alias names, when every request
//    matches a rule that names its target (no `route: requested`, no default rule reached);
//  - a key without limits whose team has none either;
//  - a key whose sensitivity_floor is above its max_external_sensitivity and whose scopes allow a
//    tier of only external backends (every request routed there is refused);
//  - a custom pattern that matches the empty string, or that is expensive for the RE2 set (an RE2
//    program of more than 1000 instructions).
std::vector<ConfigWarning> lintWarnings(const Config& config);

// For `serve` (and reloads): calls `sink` once per warning, in file order. E.g.
//   forEachLintWarning(config, [](const ConfigWarning& w) {
//     log::warn("policy warning", {{"warning", w.str()}});
//   });
// Returns the number of warnings.
template <class Sink>
size_t forEachLintWarning(const Config& config, Sink&& sink) {
  const std::vector<ConfigWarning> warnings = lintWarnings(config);
  for (const ConfigWarning& warning : warnings) {
    sink(warning);
  }
  return warnings.size();
}

// What `serve` calls after loading (and on each reload): one warn log line per warning,
// {"level":"warn","msg":"policy warning","warning":"file:line:col: warning: ..."}. Inline, so
// sy_config itself needs no logging library (the server links it).
inline size_t logLintWarnings(const Config& config) {
  return forEachLintWarning(config, [](const ConfigWarning& warning) {
    log::warn("policy warning", {{"warning", warning.str()}});
  });
}

}  // namespace sy::config
