// `switchyard test --config POLICY [--jsonl] CASES.yaml...`: policy unit tests. Each case is a
// request (surface, endpoint, key or team, headers, body) and the outcome the security team
// expects (action, status, tier, backends, rules, detectors, sensitivity, difficulty, what the
// upstream would receive). Every case is decided by server::explainRequest, the dry run that
// calls the pipeline's own phase functions, so a passing case says what `serve` would do.
// runTests() is a pure function of its files (tests need not run the binary); single-threaded.
#pragma once

#include <string>
#include <vector>

namespace sy::cli {

struct TestOutput {
  int status = 0;   // 0: every case passed; 1: a case failed, or the policy or a cases file is
                    // invalid (nothing runs then)
  std::string out;  // stdout: one line per case ("ok"/"FAIL", with expected vs. actual under each
                    // failure) and "N passed, N failed" last; with `jsonl`, one JSON object per
                    // case and {"passed":N,"failed":N} last
  std::string err;  // stderr: policy and cases-file errors, as file:line:col: message
};

TestOutput runTests(const std::string& policy_path, const std::vector<std::string>& case_files,
                    bool jsonl);

// Prints runTests()'s output; returns its status.
int testCommand(const std::string& policy_path, const std::vector<std::string>& case_files,
                bool jsonl);

}  // namespace sy::cli
