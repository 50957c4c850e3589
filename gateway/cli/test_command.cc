#include "gateway/cli/test_command.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <cstdio>

#include "gateway/cli/request_line.h"
#include "gateway/cli/test_cases.h"
#include "gateway/config/snapshot.h"

namespace sy::cli {
namespace {

namespace json = boost::json;

// One expectation that did not hold.
struct Mismatch {
  std::string field;
  json::value expected;
  json::value actual;
};

json::object decide(const TestCase& test, const std::shared_ptr<const config::Snapshot>& snapshot) {
  return decideRequest(test, snapshot, /*upstream=*/true);
}

json::value field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr ? *value : json::value(nullptr);
}

json::value strings(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  json::array out;
  for (std::string& value : values) {
    out.push_back(json::string(value));
  }
  return out;
}

std::vector<std::string> stringsOf(const json::value& value, std::string_view member = "") {
  std::vector<std::string> out;
  if (const json::array* items = value.if_array()) {
    for (const json::value& item : *items) {
      const json::value* text = member.empty()            ? &item
                                : item.is_object()        ? item.get_object().if_contains(member)
                                                          : nullptr;
      if (text != nullptr && text->is_string()) {
        out.emplace_back(text->get_string());
      }
    }
  }
  return out;
}

const json::object* member(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr ? value->if_object() : nullptr;
}

// The upstream expectations: the body the first candidate would receive.
void checkUpstream(const Expectations& expect, const json::object& decision,
                   std::vector<Mismatch>& out) {
  const json::object* upstream = member(decision, "upstream");
  const json::value body = upstream != nullptr ? field(*upstream, "body") : json::value(nullptr);
  if (!body.is_string()) {
    out.push_back({"upstream", "a request to a backend", "none (the request goes nowhere)"});
    return;
  }
  const std::string_view text = body.get_string();
  for (const std::string& part : expect.upstream_contains) {
    if (text.find(part) == std::string_view::npos) {
      out.push_back({"upstream", json::value("to contain " + part), body});
    }
  }
  for (const std::string& part : expect.upstream_excludes) {
    if (text.find(part) != std::string_view::npos) {
      out.push_back({"upstream", json::value("not to contain " + part), body});
    }
  }
}

// Every expectation of `test` that `decision` does not meet.
std::vector<Mismatch> check(const Expectations& expect, const json::object& decision) {
  std::vector<Mismatch> out;
  const bool refused = decision.contains("error");
  const json::value status = field(decision, "status");
  json::value action = field(decision, "action");
  if (refused) {  // a refusal before routing: the key or its scopes (401/403), or a bad body
    const auto code = status.is_number() ? status.to_number<unsigned>() : 0;
    action = code == 401 || code == 403 ? "block" : "error";
  }
  const json::object* error = member(decision, "error");
  const json::object* blocked = member(decision, "blocked_by");
  const json::object* difficulty = member(decision, "difficulty");
  auto same = [&](std::string_view name, const std::optional<std::string>& want,
                  json::value got) {
    if (!want) {
      return;
    }
    const json::value expected = want->empty() ? json::value(nullptr) : json::value(*want);
    if (got != expected) {
      out.push_back({std::string(name), expected, std::move(got)});
    }
  };
  same("action", expect.action, action);
  if (expect.status && (!status.is_number() || status.to_number<unsigned>() != *expect.status)) {
    out.push_back({"status", *expect.status, status});
  }
  same("code", expect.code, error != nullptr ? field(*error, "code") : json::value(nullptr));
  same("tier", expect.tier, field(decision, "tier"));
  same("model", expect.model, field(decision, "model"));
  same("rule", expect.rule, field(decision, "rule"));
  same("sensitivity", expect.sensitivity, field(decision, "sensitivity"));
  same("difficulty", expect.difficulty,
       difficulty != nullptr ? field(*difficulty, "label") : json::value(nullptr));
  const std::vector<std::string> candidates = stringsOf(field(decision, "candidates"));
  if (expect.backend && std::find(candidates.begin(), candidates.end(), *expect.backend) ==
                            candidates.end()) {
    out.push_back({"backend", json::value(*expect.backend), strings(candidates)});
  }
  if (expect.backends && strings(*expect.backends) != strings(candidates)) {
    out.push_back({"backends", strings(*expect.backends), strings(candidates)});
  }
  if (expect.blocked_by) {
    json::value got = nullptr;
    if (blocked != nullptr) {
      got = field(*blocked, "rule").is_string() ? field(*blocked, "rule")
                                                : field(*blocked, "reason");
    } else if (refused && action == "block") {
      got = field(*error, "code");
    }
    same("blocked_by", expect.blocked_by, got);
  }
  if (expect.detectors) {
    const json::value got = strings(stringsOf(field(decision, "findings"), "detector"));
    if (strings(*expect.detectors) != got) {
      out.push_back({"detectors", strings(*expect.detectors), got});
    }
  }
  if (expect.expects_upstream) {
    checkUpstream(expect, decision, out);
  }
  return out;
}

std::string show(const json::value& value) {
  std::string text = value.is_string() ? std::string(value.get_string()) : json::serialize(value);
  if (text.size() > 400) {
    text = text.substr(0, 400) + "...";
  }
  return text;
}

// The snapshot of the policy and every case, or nullopt after writing the errors to `output`.
std::optional<std::pair<std::shared_ptr<const config::Snapshot>, std::vector<TestCase>>> load(
    const std::string& policy_path, const std::vector<std::string>& case_files,
    TestOutput& output) {
  auto config = config::loadConfigFile(policy_path);
  if (!config) {
    for (const config::ConfigError& error : config.error()) {
      output.err += error.str() + "\n";
    }
    output.status = 1;
    return std::nullopt;
  }
  auto snapshot = config::Snapshot::build(std::move(*config), 1, /*read_upstream_keys=*/false);
  if (!snapshot) {
    for (const config::ConfigError& error : snapshot.error()) {
      output.err += error.str() + "\n";
    }
    output.status = 1;
    return std::nullopt;
  }
  std::vector<TestCase> cases;
  for (const std::string& file : case_files) {
    auto loaded = loadTestCases(file);
    if (!loaded) {
      for (const config::ConfigError& error : loaded.error()) {
        output.err += error.str() + "\n";
      }
      output.status = 1;
      continue;
    }
    cases.insert(cases.end(), loaded->begin(), loaded->end());
  }
  if (output.status != 0) {
    return std::nullopt;
  }
  return std::pair(std::move(*snapshot), std::move(cases));
}

// One case's report: a JSON line, or "ok"/"FAIL" with expected and actual under each failure.
std::string report(const TestCase& test, const json::object& decision,
                   const std::vector<Mismatch>& mismatches, bool jsonl) {
  const std::string where = test.file + ":" + std::to_string(test.line);
  if (jsonl) {
    json::array failures;
    for (const Mismatch& m : mismatches) {
      failures.push_back(
          json::object{{"field", m.field}, {"expected", m.expected}, {"actual", m.actual}});
    }
    return json::serialize(json::object{{"case", test.name},
                                        {"where", where},
                                        {"passed", mismatches.empty()},
                                        {"failures", std::move(failures)},
                                        {"decision", decision}}) +
           "\n";
  }
  if (mismatches.empty()) {
    return "ok    " + test.name + "\n";
  }
  std::string out = "FAIL  " + test.name + "  (" + where + ")\n";
  for (const Mismatch& m : mismatches) {
    out += "      " + m.field + "\n        expected: " + show(m.expected) +
           "\n        actual:   " + show(m.actual) + "\n";
  }
  return out;
}

}  // namespace

TestOutput runTests(const std::string& policy_path, const std::vector<std::string>& case_files,
                    bool jsonl) {
  TestOutput output;
  auto loaded = load(policy_path, case_files, output);
  if (!loaded) {
    return output;
  }
  const auto& [snapshot, cases] = *loaded;
  size_t passed = 0;
  size_t failed = 0;
  for (const TestCase& test : cases) {
    const json::object decision = decide(test, snapshot);
    std::vector<Mismatch> mismatches;
    if (decision.contains("case_error")) {
      mismatches.push_back({"request", "a key of the policy", decision.at("case_error")});
    } else {
      mismatches = check(test.expect, decision);
    }
    mismatches.empty() ? ++passed : ++failed;
    output.out += report(test, decision, mismatches, jsonl);
  }
  if (jsonl) {
    output.out += json::serialize(json::object{{"passed", passed}, {"failed", failed}}) + "\n";
  } else {
    output.out += std::to_string(passed) + " passed, " + std::to_string(failed) + " failed\n";
  }
  output.status = failed == 0 ? 0 : 1;
  return output;
}

int testCommand(const std::string& policy_path, const std::vector<std::string>& case_files,
                bool jsonl) {
  const TestOutput output = runTests(policy_path, case_files, jsonl);
  std::fputs(output.err.c_str(), stderr);
  std::fputs(output.out.c_str(), stdout);
  return output.status;
}

}  // namespace sy::cli
