// What the policy does with DLP findings: the ordered action rules of `dlp.actions` (per
// detector, class, level and destination) for prompts, and of `dlp.responses.actions` for what
// models answer. First matching rule wins; a finding no rule matches is allowed (audit only).
// Pure and immutable after create(): shared by all workers through the config snapshot.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "core/sensitivity.h"
#include "policies/dlp_engine.h"
#include "policies/dlp_types.h"

namespace sy::policies {

// Allow/Redact/Mask/Pseudonymize transform the finding's bytes; Block refuses the request (for
// that destination).
enum class PolicyAction { Allow, Redact, Mask, Pseudonymize, Block };
std::string_view toString(PolicyAction action);

// What happens to a request whose scan reached a bound (see ScanBound): part of it was not
// examined, so it is treated as holding the most sensitive value its detectors could have
// found. BlockExternal: refused toward external backends (self-hosted ones may serve it);
// Block: refused toward every backend.
enum class LimitAction { BlockExternal, Block };

// A request field the gateway does not know (`dlp.unknown_fields`): scanned as text with
// everything under it and forwarded, dropped before anything is scanned or forwarded, or the
// request is refused with a 400 naming where it was.
enum class UnknownFields { Scan, Drop, Reject };

struct DlpActionRuleSpec {
  std::string name;  // named in 403 messages, explain output and audit records; unique
  // Detector ids ("email", "secret.github_token", a custom rule name) or groups: "pii",
  // "secrets", "injection", "custom". Empty: every detector.
  std::vector<std::string> detectors;
  std::string level;  // a LevelCondition (">= confidential"); "" matches every level
  std::optional<Location> destination;  // nullopt: both self-hosted and external
  PolicyAction action = PolicyAction::Allow;
};

struct DlpPolicySpec {
  SensitivityLevels levels;
  // Prompts. When the policy has no `dlp.actions`, defaultRequestRules() applies.
  std::vector<DlpActionRuleSpec> request_rules = defaultRequestRules();
  UnknownFields unknown_fields = UnknownFields::Scan;
  bool scan_responses = true;
  // Model answers: Allow, Redact or Mask only (a streamed answer cannot be blocked, and a
  // pseudonym in an answer has nothing to restore it). No destination. Scanning a stream holds
  // back the engine's window (a few hundred bytes) before text reaches the client, so answers
  // are scanned only when the policy names response rules; pseudonyms are always restored.
  std::vector<DlpActionRuleSpec> response_rules = defaultResponseRules();
  // dlp.limits.on_limit: a request whose scan reached a bound.
  LimitAction on_limit = LimitAction::BlockExternal;
  // dlp.pseudonyms.restore: which pseudonyms answers get back.
  RestoreScope restore = RestoreScope::All;

  // restricted -> external: block; confidential -> external: pseudonymize. Self-hosted: allow.
  static std::vector<DlpActionRuleSpec> defaultRequestRules();
  // None: answers are not scanned unless the policy asks for it.
  static std::vector<DlpActionRuleSpec> defaultResponseRules();
};

// The decision for one finding.
struct FindingAction {
  PolicyAction action = PolicyAction::Allow;
  int rule = -1;  // index of the matching rule, -1 when none matched (Allow)
};

class DlpPolicy {
 public:
  // Checks the rules against the engine's enabled detectors and the levels: unknown detector
  // ids or groups, unknown levels, a detector whose level is not a declared level, a response
  // rule with Block/Pseudonymize or a destination, duplicate rule names. Every problem is
  // reported, one per line, prefixed with its path ("dlp.actions[2].level: ...").
  static Result<DlpPolicy> create(DlpPolicySpec spec, const DlpEngine& engine);

  const SensitivityLevels& levels() const { return spec_.levels; }
  UnknownFields unknownFields() const { return spec_.unknown_fields; }
  // True when answers are scanned: `scan_responses` and at least one response rule.
  bool scanResponses() const { return spec_.scan_responses && !spec_.response_rules.empty(); }

  LimitAction onLimit() const { return spec_.on_limit; }
  RestoreScope restoreScope() const { return spec_.restore; }
  // The highest level of any enabled detector: the sensitivity of a request whose scan reached
  // a bound (it may hold any value the detectors look for).
  int limitSensitivity() const { return limit_rank_; }

  // The rank of the finding's level (its detector's level); 0 (lowest) when unknown.
  int rankOf(const Finding& finding) const;
  // The highest level among the findings; the lowest level when there are none.
  int sensitivity(std::span<const Finding> findings) const;

  FindingAction requestAction(const Finding& finding, Location destination) const;
  FindingAction responseAction(const Finding& finding) const;  // never Block or Pseudonymize

  const DlpActionRuleSpec& requestRule(int index) const;
  const DlpActionRuleSpec& responseRule(int index) const;

  ~DlpPolicy();
  DlpPolicy(DlpPolicy&&) noexcept;
  DlpPolicy& operator=(DlpPolicy&&) noexcept;

 private:
  struct CompiledRule;
  DlpPolicy();
  FindingAction match(const std::vector<CompiledRule>& rules, const Finding& finding,
                      std::optional<Location> destination) const;

  DlpPolicySpec spec_;
  std::vector<CompiledRule> request_;
  std::vector<CompiledRule> response_;
  std::unordered_map<std::string, int> rank_by_detector_;
  int limit_rank_ = 0;
};

}  // namespace sy::policies
