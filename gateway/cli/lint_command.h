// `switchyard lint --config FILE [--strict]`: validates the policy; errors make the exit status 1,
// warnings (gateway/config/lint.h) are printed and only fail with --strict. runLint() is a pure
// function of the file so that tests need not run the binary; lintCommand() prints its output.
#pragma once

#include <string>
#include <string_view>

namespace sy::cli {

struct LintOutput {
  int status = 0;   // 0: valid (warnings allowed unless strict); 1: errors, or warnings and strict
  std::string out;  // stdout: "FILE: ok (N backends, N tiers, N models)" when it passes
                    // ("...; N files)" for a policy assembled with include:)
  std::string err;  // stderr: one "file:line:col: message" / "file:line:col: warning: message"
                    // line per error or warning, in file order
};

LintOutput runLint(const std::string& path, bool strict);

// Prints runLint()'s output; returns its status.
int lintCommand(const std::string& path, bool strict);

}  // namespace sy::cli
