#include "gateway/cli/lint_command.h"

#include <cstdio>

#include "gateway/config/config.h"
#include "gateway/config/lint.h"

namespace sy::cli {

LintOutput runLint(const std::string& path, bool strict) {
  LintOutput output;
  const auto config = config::loadConfigFile(path);
  if (!config) {
    for (const config::ConfigError& error : config.error()) {
      output.err += error.str() + "\n";
    }
    output.status = 1;
    return output;
  }
  const std::vector<config::ConfigWarning> warnings = config::lintWarnings(*config);
  for (const config::ConfigWarning& warning : warnings) {
    output.err += warning.str() + "\n";
  }
  if (strict && !warnings.empty()) {
    output.err += path + ": " + std::to_string(warnings.size()) +
                  (warnings.size() == 1 ? " warning" : " warnings") + " (--strict)\n";
    output.status = 1;
    return output;
  }
  output.out = path + ": ok (" + std::to_string(config->catalog.backends.size()) + " backends, " +
               std::to_string(config->catalog.tiers.size()) + " tiers, " +
               std::to_string(config->catalog.models.size()) + " models" +
               (config->sources.files.size() > 1
                    ? "; " + std::to_string(config->sources.files.size()) + " files"
                    : std::string()) +
               ")\n";
  return output;
}

int lintCommand(const std::string& path, bool strict) {
  const LintOutput output = runLint(path, strict);
  std::fputs(output.err.c_str(), stderr);
  std::fputs(output.out.c_str(), stdout);
  return output.status;
}

}  // namespace sy::cli
