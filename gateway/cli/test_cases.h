// The cases file of `switchyard test` (README: "switchyard test"): decoded strictly, like the
// policy (unknown keys, wrong types: file:line:col errors, all of them). Values only; no I/O
// besides reading the file.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/cli/request_line.h"
#include "gateway/config/config.h"

namespace sy::cli {

// What a case expects; an absent field is not checked. For tier, backend, model and rule, ""
// expects none (YAML `~`).
struct Expectations {
  std::optional<std::string> action;  // allow | redact | block | error
  std::optional<unsigned> status;
  std::optional<std::string> code;  // the error code of a refusal (policy_violation, ...)
  std::optional<std::string> tier;
  std::optional<std::string> backend;                 // one of the candidates
  std::optional<std::vector<std::string>> backends;   // exactly the candidates, any order
  std::optional<std::string> model;
  std::optional<std::string> rule;                    // the routing rule that decided
  std::optional<std::string> blocked_by;              // the rule (or reason) that refused it
  std::optional<std::vector<std::string>> detectors;  // exactly these were found, any order
  std::optional<std::string> sensitivity;
  std::optional<std::string> difficulty;  // routine | complex
  std::vector<std::string> upstream_contains;
  std::vector<std::string> upstream_excludes;
  bool expects_upstream = false;  // an `upstream:` section: the request must go somewhere
};

// A case: its request (CaseRequest) and what it expects.
struct TestCase : CaseRequest {
  std::string name;
  std::string file;
  int line = 0;
  Expectations expect;
};

// Every case of `path`, in file order, or every problem in it.
std::expected<std::vector<TestCase>, config::ConfigErrors> loadTestCases(const std::string& path);

}  // namespace sy::cli
