#include "gateway/server/pipeline/decision_diff.h"

#include <algorithm>
#include <boost/json/array.hpp>

namespace sy::server {
namespace {

namespace json = boost::json;

std::string stringOf(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

const json::object* objectOf(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr ? value->if_object() : nullptr;
}

json::value orNull(const std::string& text) {
  return text.empty() ? json::value(nullptr) : json::value(text);
}

}  // namespace

DecisionSummary summarizeDecision(const json::object& decision) {
  DecisionSummary out;
  if (const json::value* status = decision.if_contains("status");
      status != nullptr && status->is_number()) {
    boost::system::error_code ec;
    out.status = status->to_number<unsigned>(ec);
  }
  if (const json::object* error = objectOf(decision, "error")) {
    // Refused before routing: the key or its scopes (401, 403), or the body (400, 404, ...).
    out.action = out.status == 401 || out.status == 403 ? "block" : "error";
    out.blocked_by = stringOf(*error, "code");
  } else {
    out.action = stringOf(decision, "action");
    if (const json::object* blocked = objectOf(decision, "blocked_by")) {
      out.blocked_by = stringOf(*blocked, "rule");
      if (out.blocked_by.empty()) {
        out.blocked_by = stringOf(*blocked, "reason");
      }
    }
  }
  out.tier = stringOf(decision, "tier");
  out.backend = stringOf(decision, "backend");
  out.rule = stringOf(decision, "rule");
  out.sensitivity = stringOf(decision, "sensitivity");
  if (const json::value* findings = decision.if_contains("findings");
      findings != nullptr && findings->is_array()) {
    for (const json::value& item : findings->get_array()) {
      if (const json::object* finding = item.if_object()) {
        out.findings.emplace_back(stringOf(*finding, "detector"), stringOf(*finding, "action"));
      }
    }
  }
  std::sort(out.findings.begin(), out.findings.end());
  out.findings.erase(std::unique(out.findings.begin(), out.findings.end()), out.findings.end());
  return out;
}

std::vector<std::string> decisionDifferences(const DecisionSummary& a, const DecisionSummary& b) {
  std::vector<std::string> out;
  const std::pair<std::string_view, bool> fields[] = {
      {"action", a.action != b.action},
      {"status", a.status != b.status},
      {"tier", a.tier != b.tier},
      {"backend", a.backend != b.backend},
      {"rule", a.rule != b.rule},
      {"blocked_by", a.blocked_by != b.blocked_by},
      {"sensitivity", a.sensitivity != b.sensitivity},
      {"findings", a.findings != b.findings},
  };
  for (const auto& [name, differs] : fields) {
    if (differs) {
      out.emplace_back(name);
    }
  }
  return out;
}

std::string ruleLabel(const DecisionSummary& decision) {
  if (!decision.rule.empty()) {
    return decision.rule;
  }
  return decision.blocked_by.empty() ? "(none)" : "(" + decision.blocked_by + ")";
}

json::object toJson(const DecisionSummary& decision) {
  json::array findings;
  for (const auto& [detector, action] : decision.findings) {
    findings.push_back(json::object{{"detector", detector}, {"action", orNull(action)}});
  }
  return json::object{{"action", decision.action},
                      {"status", decision.status},
                      {"tier", orNull(decision.tier)},
                      {"backend", orNull(decision.backend)},
                      {"rule", orNull(decision.rule)},
                      {"blocked_by", orNull(decision.blocked_by)},
                      {"sensitivity", orNull(decision.sensitivity)},
                      {"findings", std::move(findings)}};
}

}  // namespace sy::server
