#include "gateway/cli/compare_command.h"

#include <boost/json/serialize.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

#include "gateway/cli/request_line.h"
#include "gateway/server/pipeline/decision_diff.h"

namespace sy::cli {
namespace {

namespace json = boost::json;
using server::DecisionSummary;

std::shared_ptr<const config::Snapshot> loadPolicy(const std::string& path, std::string& err) {
  auto config = config::loadConfigFile(path);
  if (!config) {
    for (const config::ConfigError& error : config.error()) {
      err += error.str() + "\n";
    }
    return nullptr;
  }
  auto snapshot = config::Snapshot::build(std::move(*config), 1, /*read_upstream_keys=*/false);
  if (!snapshot) {
    for (const config::ConfigError& error : snapshot.error()) {
      err += error.str() + "\n";
    }
    return nullptr;
  }
  return std::move(*snapshot);
}

// A request one policy cannot decide (it names a key the policy lacks) is decided as serve
// would decide it: no such key is a 401.
DecisionSummary decide(const CaseRequest& request,
                       const std::shared_ptr<const config::Snapshot>& snapshot) {
  json::object decision = decideRequest(request, snapshot, /*upstream=*/false);
  if (decision.contains("case_error")) {
    decision = json::object{{"status", 401},
                            {"error", json::object{{"code", "invalid_api_key"}}}};
  }
  return server::summarizeDecision(decision);
}

std::string show(const std::string& text) { return text.empty() ? "-" : text; }

// "email:redact,us_ssn:block": detector and the action taken on it.
std::string findingsText(const DecisionSummary& decision) {
  std::string out;
  for (const auto& [detector, action] : decision.findings) {
    out += (out.empty() ? "" : ",") + detector + ":" + show(action);
  }
  return out;
}

std::string describe(const DecisionSummary& a, const DecisionSummary& b,
                     const std::vector<std::string>& differs) {
  std::string out;
  for (const std::string& field : differs) {
    std::string from, to;
    if (field == "action") {
      from = a.action, to = b.action;
    } else if (field == "status") {
      from = std::to_string(a.status), to = std::to_string(b.status);
    } else if (field == "tier") {
      from = a.tier, to = b.tier;
    } else if (field == "backend") {
      from = a.backend, to = b.backend;
    } else if (field == "blocked_by") {
      from = a.blocked_by, to = b.blocked_by;
    } else if (field == "sensitivity") {
      from = a.sensitivity, to = b.sensitivity;
    } else if (field == "findings") {
      from = findingsText(a), to = findingsText(b);
    } else {
      continue;  // the rule pair leads the line
    }
    out += (out.empty() ? "" : "; ") + field + " " + show(from) + " -> " + show(to);
  }
  return out;
}

}  // namespace

CompareOutput runCompare(const std::string& policy_a, const std::string& policy_b,
                         std::istream& requests, bool jsonl) {
  CompareOutput output;
  const auto a = loadPolicy(policy_a, output.err);
  const auto b = loadPolicy(policy_b, output.err);
  if (a == nullptr || b == nullptr) {
    output.status = 2;
    return output;
  }
  size_t total = 0, differ = 0, invalid = 0, number = 0;
  std::map<std::pair<std::string, std::string>, size_t> by_rule;
  for (std::string text; std::getline(requests, text);) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    auto line = parseRequestLine(text);
    if (!line) {
      ++invalid;
      output.err += "line " + std::to_string(number) + ": " + line.error().message + "\n";
      continue;
    }
    ++total;
    const DecisionSummary first = decide(line->request, a);
    const DecisionSummary second = decide(line->request, b);
    const std::vector<std::string> differs = server::decisionDifferences(first, second);
    if (differs.empty()) {
      continue;
    }
    ++differ;
    const std::string rule_a = server::ruleLabel(first);
    const std::string rule_b = server::ruleLabel(second);
    ++by_rule[{rule_a, rule_b}];
    if (jsonl) {
      json::array fields;
      for (const std::string& field : differs) {
        fields.push_back(json::string(field));
      }
      output.out += json::serialize(json::object{{"line", number},
                                                 {"id", line->id},
                                                 {"differs", std::move(fields)},
                                                 {"a", server::toJson(first)},
                                                 {"b", server::toJson(second)}}) +
                    "\n";
    } else {
      const std::string details = describe(first, second, differs);
      output.out += "line " + std::to_string(number) + (line->id.empty() ? "" : " " + line->id) +
                    ": " + rule_a + " -> " + rule_b + (details.empty() ? "" : " (" + details + ")") +
                    "\n";
    }
  }
  std::vector<std::pair<size_t, std::pair<std::string, std::string>>> pairs;
  for (const auto& [rules, count] : by_rule) {
    pairs.emplace_back(count, rules);
  }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  if (jsonl) {
    json::array rules;
    for (const auto& [count, pair] : pairs) {
      rules.push_back(json::object{{"a", pair.first}, {"b", pair.second}, {"count", count}});
    }
    output.out += json::serialize(json::object{{"requests", total},
                                               {"differ", differ},
                                               {"invalid", invalid},
                                               {"by_rule", std::move(rules)}}) +
                  "\n";
  } else {
    if (!pairs.empty()) {
      output.out += "by rule (" + policy_a + " -> " + policy_b + "):\n";
    }
    for (const auto& [count, pair] : pairs) {
      output.out += "  " + std::to_string(count) + "  " + pair.first + " -> " + pair.second + "\n";
    }
    output.out += std::to_string(total) + " requests, " + std::to_string(differ) + " differ" +
                  (invalid > 0 ? ", " + std::to_string(invalid) + " invalid lines" : "") + "\n";
  }
  output.status = invalid > 0 ? 2 : differ > 0 ? 1 : 0;
  return output;
}

int compareCommand(const std::string& policy_a, const std::string& policy_b, bool jsonl) {
  const CompareOutput output = runCompare(policy_a, policy_b, std::cin, jsonl);
  std::fputs(output.err.c_str(), stderr);
  std::fputs(output.out.c_str(), stdout);
  return output.status;
}

}  // namespace sy::cli
