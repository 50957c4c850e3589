#include "gateway/server/pipeline/shadow.h"

#include "gateway/server/pipeline/decision_diff.h"

namespace sy::server {
namespace {

namespace json = boost::json;

// The candidate's principal for the active policy's `principal`: the same key id in its key
// ring (or its anonymous principal), or nullopt when it has none.
std::optional<const policies::Principal*> candidatePrincipal(
    const config::Snapshot& candidate, const policies::Principal* principal) {
  if (principal == nullptr) {
    return nullptr;
  }
  if (principal->anonymous) {
    if (!candidate.keys().anonymousAllowed()) {
      return std::nullopt;
    }
    return &policies::KeyRing::anonymousPrincipal();
  }
  const policies::Principal* same = candidate.keys().find(principal->key_id);
  if (same == nullptr) {
    return std::nullopt;
  }
  return same;
}

}  // namespace

std::optional<ShadowDisagreement> shadowCompare(
    const std::shared_ptr<const config::Snapshot>& active, std::string_view body,
    const ExplainOptions& options) {
  const std::shared_ptr<const config::Snapshot>& candidate = active->shadow();
  const DecisionSummary mine = summarizeDecision(explainRequest(active, body, options));
  ExplainOptions theirs_options = options;
  DecisionSummary theirs;
  if (auto principal = candidatePrincipal(*candidate, options.principal)) {
    theirs_options.principal = *principal;
    theirs = summarizeDecision(explainRequest(candidate, body, theirs_options));
  } else {
    theirs = summarizeDecision(
        json::object{{"status", 401}, {"error", json::object{{"code", "invalid_api_key"}}}});
  }
  std::vector<std::string> differs = decisionDifferences(mine, theirs);
  if (differs.empty()) {
    return std::nullopt;
  }
  ShadowDisagreement out;
  out.active_rule = ruleLabel(mine);
  out.shadow_rule = ruleLabel(theirs);
  out.decision = observability::AuditRecord::Shadow{
      candidate->policyVersion(), theirs.action, theirs.status,      theirs.tier,
      theirs.backend,             theirs.rule,   theirs.sensitivity, std::move(differs)};
  return out;
}

}  // namespace sy::server
