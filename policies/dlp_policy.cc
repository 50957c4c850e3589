#include "policies/dlp_policy.h"

#include <algorithm>

namespace sy::policies {
namespace {

// The class a group name stands for, or nullopt when `name` is not a group.
std::optional<DetectorClass> groupClass(std::string_view name) {
  if (name == "pii") return DetectorClass::Pii;
  if (name == "secrets") return DetectorClass::Secret;
  if (name == "injection") return DetectorClass::Injection;
  if (name == "custom") return DetectorClass::Custom;
  return std::nullopt;
}

unsigned classBit(DetectorClass detector_class) {
  return 1u << static_cast<unsigned>(detector_class);
}

}  // namespace

std::string_view toString(PolicyAction action) {
  switch (action) {
    case PolicyAction::Allow:
      return "allow";
    case PolicyAction::Redact:
      return "redact";
    case PolicyAction::Mask:
      return "mask";
    case PolicyAction::Pseudonymize:
      return "pseudonymize";
    case PolicyAction::Block:
      return "block";
  }
  return "allow";
}

std::vector<DlpActionRuleSpec> DlpPolicySpec::defaultRequestRules() {
  return {
      {"restricted-stays-home", {}, ">= restricted", Location::External, PolicyAction::Block},
      {"confidential-pseudonymized",
       {},
       "confidential",
       Location::External,
       PolicyAction::Pseudonymize},
  };
}

std::vector<DlpActionRuleSpec> DlpPolicySpec::defaultResponseRules() { return {}; }

struct DlpPolicy::CompiledRule {
  std::vector<std::string> ids;
  unsigned classes = 0;  // bit per DetectorClass; 0 with no ids = every detector
  std::optional<LevelCondition> level;
  std::optional<Location> destination;
  PolicyAction action = PolicyAction::Allow;

  bool matches(const Finding& finding, int rank, std::optional<Location> where) const {
    if (destination && where && *destination != *where) {
      return false;
    }
    if (level && !level->matches(rank)) {
      return false;
    }
    if (ids.empty() && classes == 0) {
      return true;
    }
    return (classes & classBit(finding.detector_class)) != 0 ||
           std::find(ids.begin(), ids.end(), finding.detector_id) != ids.end();
  }
};

DlpPolicy::DlpPolicy() = default;
DlpPolicy::~DlpPolicy() = default;
DlpPolicy::DlpPolicy(DlpPolicy&&) noexcept = default;
DlpPolicy& DlpPolicy::operator=(DlpPolicy&&) noexcept = default;

Result<DlpPolicy> DlpPolicy::create(DlpPolicySpec spec, const DlpEngine& engine) {
  std::vector<std::string> errors;
  const std::vector<std::string> builtin_ids = DlpEngine::builtinDetectorIds();
  for (const DetectorInfo& info : engine.detectors()) {
    if (spec.levels.rank(info.level) < 0) {
      errors.push_back("detector '" + info.id + "' has level '" + info.level +
                       "', which is not a declared sensitivity level");
    }
  }
  auto compile = [&](const std::vector<DlpActionRuleSpec>& rules, std::string_view path,
                     bool response, std::vector<CompiledRule>& out) {
    std::vector<std::string_view> names;
    for (size_t i = 0; i < rules.size(); ++i) {
      const DlpActionRuleSpec& rule = rules[i];
      const std::string where =
          std::string(path) + "[" + std::to_string(i) + "] (" + rule.name + ")";
      if (std::find(names.begin(), names.end(), rule.name) != names.end()) {
        errors.push_back(where + ": duplicate rule name");
      }
      names.push_back(rule.name);
      CompiledRule compiled;
      for (const std::string& id : rule.detectors) {
        if (auto group = groupClass(id)) {
          compiled.classes |= classBit(*group);
        } else if (engine.detector(id) != nullptr ||
                   std::find(builtin_ids.begin(), builtin_ids.end(), id) != builtin_ids.end()) {
          compiled.ids.push_back(id);
        } else {
          errors.push_back(where + ": unknown detector '" + id + "'");
        }
      }
      if (!rule.level.empty()) {
        auto condition = LevelCondition::parse(rule.level, spec.levels);
        if (condition) {
          compiled.level = *condition;
        } else {
          errors.push_back(where + ": " + condition.error().message);
        }
      }
      if (response && (rule.action == PolicyAction::Block ||
                       rule.action == PolicyAction::Pseudonymize || rule.destination)) {
        errors.push_back(where +
                         ": response rules allow only allow, redact or mask, and no "
                         "destination");
      }
      compiled.destination = rule.destination;
      compiled.action = rule.action;
      out.push_back(std::move(compiled));
    }
  };
  DlpPolicy policy;
  compile(spec.request_rules, "dlp.actions", false, policy.request_);
  compile(spec.response_rules, "dlp.responses.actions", true, policy.response_);
  if (!errors.empty()) {
    std::string message;
    for (const std::string& error : errors) {
      message += message.empty() ? error : "\n" + error;
    }
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config, std::move(message),
                     "invalid_dlp_policy");
  }
  for (const DetectorInfo& info : engine.detectors()) {
    const int rank = spec.levels.rank(info.level);
    policy.rank_by_detector_.emplace(info.id, rank);
    policy.limit_rank_ = std::max(policy.limit_rank_, rank);
  }
  policy.spec_ = std::move(spec);
  return policy;
}

int DlpPolicy::rankOf(const Finding& finding) const {
  if (auto it = rank_by_detector_.find(finding.detector_id); it != rank_by_detector_.end()) {
    return it->second;
  }
  return std::max(spec_.levels.rank(finding.level), 0);
}

int DlpPolicy::sensitivity(std::span<const Finding> findings) const {
  int highest = 0;
  for (const Finding& finding : findings) {
    highest = std::max(highest, rankOf(finding));
  }
  return highest;
}

FindingAction DlpPolicy::match(const std::vector<CompiledRule>& rules, const Finding& finding,
                               std::optional<Location> destination) const {
  const int rank = rankOf(finding);
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].matches(finding, rank, destination)) {
      return {rules[i].action, static_cast<int>(i)};
    }
  }
  return {};
}

FindingAction DlpPolicy::requestAction(const Finding& finding, Location destination) const {
  return match(request_, finding, destination);
}

FindingAction DlpPolicy::responseAction(const Finding& finding) const {
  return match(response_, finding, std::nullopt);
}

const DlpActionRuleSpec& DlpPolicy::requestRule(int index) const {
  return spec_.request_rules.at(static_cast<size_t>(index));
}

const DlpActionRuleSpec& DlpPolicy::responseRule(int index) const {
  return spec_.response_rules.at(static_cast<size_t>(index));
}

}  // namespace sy::policies
