// What two policies are compared on, for `switchyard explain --compare` (a batch of requests)
// and shadow mode (live traffic): the parts of an explain decision (explain.h) that say what
// happens to a request, and which of them differ. Pure functions on values; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::server {

struct DecisionSummary {
  std::string action;  // allow | redact | block (401 and 403 too) | error (a 400, 404, ...)
  unsigned status = 0;
  std::string tier;        // "" when none
  std::string backend;     // the first candidate: the same request gets the same one
  std::string rule;        // the routing rule that decided; "" when none
  std::string blocked_by;  // the rule (or reason, or error code) that refused it; "" otherwise
  std::string sensitivity;
  // Per finding: detector and the action taken on it; sorted, duplicates kept once.
  std::vector<std::pair<std::string, std::string>> findings;

  bool operator==(const DecisionSummary&) const = default;
};

// The summary of explainRequest()'s object (or a refusal {"status","error"}).
DecisionSummary summarizeDecision(const boost::json::object& decision);

// The fields that differ, in this order: action, status, tier, backend, rule, blocked_by,
// sensitivity, findings. Empty when the two decide alike.
std::vector<std::string> decisionDifferences(const DecisionSummary& a, const DecisionSummary& b);

// The rule pair's label for one side: the routing rule, else what refused it, else "(none)".
// Names from the policy or the gateway's own codes: bounded, safe as a metric label.
std::string ruleLabel(const DecisionSummary& decision);

// {"action","status","tier","backend","rule","blocked_by","sensitivity","findings":[{detector,
// action}]}, with null for empty strings.
boost::json::object toJson(const DecisionSummary& decision);

}  // namespace sy::server
