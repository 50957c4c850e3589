// Shadow mode (`shadow: candidate.yaml`): the candidate policy decides each live chat and
// embeddings request beside the active one, through the same dry run as `explain` (decode,
// authorize, inspect, classify, route: no forwarding, no limits, no side effects), and the two
// decisions are compared as `explain --compare` compares them (decision_diff.h). Both sides are
// dry runs on the request's own body, so the comparison is between policies, not between a
// policy and the live outcome of load balancing, health or limits. Pure CPU; thread-safe (each
// call has its own state).
#pragma once

#include <optional>
#include <string>

#include "gateway/config/snapshot.h"
#include "gateway/server/pipeline/explain.h"
#include "observability/audit_record.h"

namespace sy::server {

// Where the candidate decides differently: its decision for the audit record, and the rule pair
// for the metric.
struct ShadowDisagreement {
  observability::AuditRecord::Shadow decision;
  std::string active_rule;  // decision_diff.h ruleLabel: bounded label values
  std::string shadow_rule;
};

// What `active` and its shadow candidate decide for `body` from `principal` (a key of `active`:
// the candidate's key of the same id applies, and a key it lacks is a 401 there, as serve would
// answer). nullopt when they agree. `active.shadow()` must not be null. May throw only what
// allocation throws; the caller counts that and moves on.
std::optional<ShadowDisagreement> shadowCompare(
    const std::shared_ptr<const config::Snapshot>& active, std::string_view body,
    const ExplainOptions& options);

}  // namespace sy::server
