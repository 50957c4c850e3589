// `switchyard explain --config A --compare B [--jsonl] < requests`: decides every request line
// (request_line.h) under both policies through the same dry run as explain and test, and reports
// each request they decide differently (server/decision_diff.h: action, status, tier, backend,
// rule, blocked_by, sensitivity, DLP findings and their actions), then a summary by rule pair.
// Pure function of its inputs (files aside); single-threaded.
#pragma once

#include <istream>
#include <string>

namespace sy::cli {

struct CompareOutput {
  // 0: no request decided differently; 1: some did; 2: a policy is invalid (nothing is decided)
  // or an input line is not a request line (reported on err; the other lines are still decided).
  int status = 0;
  // Per differing request: with `jsonl`, {"line","id","differs":[..],"a":{..},"b":{..}} (a and
  // b as decision_diff's toJson); else "line N id: rule A -> rule B (field a -> b; ...)". Then the
  // summary: {"requests":N,"differ":N,"invalid":N,"by_rule":[{"a","b","count"}]} (most frequent
  // pair first), or "  count  A -> B" lines and "N requests, N differ" last.
  std::string out;
  std::string err;  // policy errors as file:line:col: message; "line N: problem" per bad line
};

CompareOutput runCompare(const std::string& policy_a, const std::string& policy_b,
                         std::istream& requests, bool jsonl);

// Prints runCompare()'s output; returns its status.
int compareCommand(const std::string& policy_a, const std::string& policy_b, bool jsonl);

}  // namespace sy::cli
