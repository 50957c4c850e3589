#include "policies/dlp_engine.h"

#include <algorithm>
#include <set>
#include <string>

#include "policies/dlp_engine_state.h"
#include "policies/unicode_fold.h"

namespace sy::policies {
namespace {

constexpr int64_t kPatternMaxMem = 8 << 20;
constexpr int64_t kSetMaxMem = 64 << 20;
constexpr size_t kPatternGroups = 8;  // DlpEngineState::groups
constexpr size_t kWindowMargin = 32;  // right context some validators look at
constexpr size_t kMaxAutoWindow = 256;
// Overlapping secrets: a rule pack's rule loses to the built-in vendor detectors (80-95) and
// wins over the generic assignment detector (40).
constexpr int kPackRulePriority = 60;

std::vector<BuiltinDetector> allBuiltins() {
  std::vector<BuiltinDetector> all = piiDetectors();
  for (auto& detector : secretDetectors()) {
    all.push_back(std::move(detector));
  }
  for (auto& detector : injectionDetectors()) {
    all.push_back(std::move(detector));
  }
  return all;
}

RE2::Options patternOptions(bool case_insensitive = false) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kPatternMaxMem);
  options.set_case_sensitive(!case_insensitive);
  return options;
}

struct BuiltinState {
  bool enabled = false;
  std::string level;
};

// Applies the settings in order; returns false (with messages) for unknown ids.
void applySettings(const DlpConfig& config, const std::vector<BuiltinDetector>& builtins,
                   std::vector<BuiltinState>& states, std::vector<std::string>& errors) {
  for (size_t i = 0; i < builtins.size(); ++i) {
    states[i].enabled = config.default_pack && builtins[i].default_on;
    states[i].level = std::string(builtins[i].default_level);
  }
  for (size_t s = 0; s < config.detectors.size(); ++s) {
    const DetectorSetting& setting = config.detectors[s];
    bool group = setting.id == "all" || setting.id == "pii" || setting.id == "secrets";
    bool matched = false;
    for (size_t i = 0; i < builtins.size(); ++i) {
      const BuiltinDetector& builtin = builtins[i];
      bool member = setting.id == builtin.id || setting.id == "all" ||
                    (setting.id == "pii" && builtin.detector_class == DetectorClass::Pii) ||
                    (setting.id == "secrets" && builtin.detector_class == DetectorClass::Secret);
      if (!member) {
        continue;
      }
      matched = true;
      // A group turns on its default members only; it turns off every member.
      if (!group || !setting.enabled || builtin.default_on) {
        states[i].enabled = setting.enabled;
      }
      if (!setting.level.empty()) {
        states[i].level = setting.level;
      }
    }
    if (!matched) {
      errors.push_back("dlp.detectors[" + std::to_string(s) + "]: unknown detector '" + setting.id +
                       "'");
    }
  }
}

std::string keywordPattern(const CustomRule& rule) {
  std::string alternatives;
  for (const auto& keyword : rule.keywords) {
    if (!alternatives.empty()) {
      alternatives += '|';
    }
    // Any run of whitespace in a phrase matches any run of whitespace in the text.
    std::string quoted;
    size_t pos = 0;
    while (pos < keyword.size()) {
      size_t space = keyword.find_first_of(" \t\n", pos);
      std::string part = keyword.substr(pos, space == std::string::npos ? space : space - pos);
      quoted += RE2::QuoteMeta(part);
      if (space == std::string::npos) {
        break;
      }
      quoted += "\\s+";
      pos = keyword.find_first_not_of(" \t\n", space);
      if (pos == std::string::npos) {
        break;
      }
    }
    alternatives += quoted;
  }
  if (!rule.whole_words) {
    return "(" + alternatives + ")";
  }
  return "(?:^|[^\\pL\\pN_])(" + alternatives + ")(?:[^\\pL\\pN_]|$)";
}

// Compiles a config into a DlpEngineState, collecting every error instead of stopping at one.
struct Builder {
  std::unique_ptr<DlpEngineState> state = std::make_unique<DlpEngineState>();
  std::vector<std::string> errors;
  size_t longest = 0;  // longest pattern, capped, for the automatic stream window

  void addBuiltin(const BuiltinDetector& builtin, const std::string& level, double threshold) {
    size_t index = state->detectors.size();
    state->infos.push_back({std::string(builtin.id), builtin.detector_class, level,
                            std::string(builtin.description), true});
    state->detectors.push_back({builtin.priority, threshold});
    if (builtin.detector_class == DetectorClass::Injection) {
      state->injection_detector = static_cast<int>(index);
    }
    for (const PatternSpec& spec : builtin.patterns) {
      addBuiltinPattern(builtin.id, spec, index);
    }
  }

  void addBuiltinPattern(std::string_view id, const PatternSpec& spec, size_t detector) {
    CompiledPattern pattern;
    pattern.re = std::make_unique<RE2>(spec.regex, patternOptions());
    if (!pattern.re->ok()) {
      errors.push_back("built-in detector " + std::string(id) +
                       ": invalid pattern: " + pattern.re->error());
      return;
    }
    if (!spec.prefilter.empty()) {
      pattern.locator = std::make_unique<RE2>(spec.prefilter, patternOptions());
      if (!pattern.locator->ok()) {
        errors.push_back("built-in detector " + std::string(id) +
                         ": invalid prefilter: " + pattern.locator->error());
        return;
      }
    }
    pattern.detector = detector;
    pattern.validate = spec.validate;
    pattern.weight = spec.weight;
    pattern.untrusted_weight = spec.untrusted_weight < 0 ? spec.weight : spec.untrusted_weight;
    pattern.has_group = pattern.re->NumberOfCapturingGroups() > 0;
    pattern.prefilter = spec.prefilter.empty() ? spec.regex : spec.prefilter;
    pattern.max_len = spec.max_len;
    pattern.min_digits = spec.min_digits;
    pattern.min_dots = spec.min_dots;
    longest = std::max(longest, std::min(spec.max_len, kMaxAutoWindow));
    state->patterns.push_back(std::move(pattern));
  }

  void addCustomRule(size_t r, const CustomRule& rule, std::set<std::string>& names) {
    std::string where = "dlp.custom[" + std::to_string(r) + "] (" + rule.name + ")";
    if (rule.name.empty()) {
      errors.push_back("dlp.custom[" + std::to_string(r) + "]: name must not be empty");
      return;
    }
    if (!names.insert(rule.name).second) {
      errors.push_back(where + ": duplicate name (rule names and built-in ids are unique)");
      return;
    }
    if (rule.pattern.empty() == rule.keywords.empty()) {
      errors.push_back(where + ": set exactly one of pattern and keywords");
      return;
    }
    if (std::any_of(rule.keywords.begin(), rule.keywords.end(), [](const std::string& k) {
          return k.find_first_not_of(" \t\n") == std::string::npos;
        })) {
      errors.push_back(where + ": keywords must not be empty");
      return;
    }
    std::string regex = rule.pattern.empty() ? keywordPattern(rule) : rule.pattern;
    CompiledPattern pattern;
    pattern.re = std::make_unique<RE2>(regex, patternOptions(rule.case_insensitive));
    if (!pattern.re->ok()) {
      errors.push_back(where + ": invalid pattern: " + pattern.re->error());
      return;
    }
    pattern.detector = state->detectors.size();
    pattern.has_group = pattern.re->NumberOfCapturingGroups() > 0;
    pattern.prefilter = rule.case_insensitive ? "(?i:" + regex + ")" : regex;
    longest = std::max(longest, std::min(rule.max_match_bytes, kMaxAutoWindow));
    state->infos.push_back(
        {rule.name, DetectorClass::Custom, rule.level, "custom rule " + rule.name, false});
    state->detectors.push_back({0, 0});
    state->patterns.push_back(std::move(pattern));
  }

  // A rule pack's rules: one Secret-class detector per rule, named by the rule's id.
  void addRulePack(size_t p, const RulePack& pack, std::set<std::string>& names) {
    const std::string where = "dlp.rule_packs[" + std::to_string(p) + "] (" + pack.source + ")";
    auto global = std::make_shared<const std::vector<CompiledAllowlist>>(
        compileAllowlists(pack.global_allowlists, where + " [allowlist]", errors));
    for (const PackRule& rule : pack.rules) {
      const std::string at = rule.where.empty() ? where : rule.where;
      if (rule.id.empty()) {
        errors.push_back(at + ": rule without an id");
        continue;
      }
      if (!names.insert(rule.id).second) {
        errors.push_back(at + ": rule '" + rule.id +
                         "': duplicate id (rule ids, custom rule names and built-in ids are "
                         "unique)");
        continue;
      }
      CompiledPattern pattern;
      pattern.re = std::make_unique<RE2>(rule.regex, patternOptions());
      if (!pattern.re->ok()) {
        errors.push_back(at + ": rule '" + rule.id + "': invalid regex: " + pattern.re->error());
        continue;
      }
      auto check = std::make_shared<PackCheck>();
      check->secret_group = rule.secret_group;
      check->entropy = rule.entropy;
      check->allowlists =
          compileAllowlists(rule.allowlists, at + ": rule '" + rule.id + "'", errors);
      check->global = global;
      pattern.groups = pattern.re->NumberOfCapturingGroups();
      if (rule.secret_group > pattern.groups) {
        errors.push_back(at + ": rule '" + rule.id + "': secretGroup " +
                         std::to_string(rule.secret_group) + " but the regex has " +
                         std::to_string(pattern.groups) + " groups");
        continue;
      }
      pattern.pack = std::move(check);
      pattern.detector = state->detectors.size();
      pattern.has_group = pattern.groups > 0;
      pattern.prefilter = packPrefilter(rule);
      pattern.max_len = kMaxAutoWindow;
      longest = std::max(longest, kMaxAutoWindow);
      state->infos.push_back({rule.id, DetectorClass::Secret, pack.level,
                              rule.description.empty() ? "rule " + rule.id : rule.description,
                              false});
      state->detectors.push_back({kPackRulePriority, 0});
      state->patterns.push_back(std::move(pattern));
    }
  }

  void addAllowPattern(size_t a, const std::string& regex) {
    auto allow = std::make_unique<RE2>(regex, patternOptions());
    if (!allow->ok()) {
      errors.push_back("dlp.allow_patterns[" + std::to_string(a) +
                       "]: invalid pattern: " + allow->error());
      return;
    }
    state->allow.push_back(std::move(allow));
  }

  // The RE2::Set every scan starts with, and the same prefilters in kPatternGroups smaller sets
  // for long random-looking text (DlpEngineState::groups).
  Status compileSet() {
    RE2::Options options = patternOptions();
    options.set_max_mem(kSetMaxMem);
    state->set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    const size_t group_count = std::min(kPatternGroups, state->patterns.size());
    RE2::Options group_options = patternOptions();
    group_options.set_max_mem(kSetMaxMem / static_cast<int64_t>(kPatternGroups));
    state->groups.resize(group_count);
    for (auto& group : state->groups) {
      group.set = std::make_unique<RE2::Set>(group_options, RE2::UNANCHORED);
    }
    for (size_t i = 0; i < state->patterns.size(); ++i) {
      const std::string& prefilter = state->patterns[i].prefilter;
      DlpEngineState::PatternGroup& group = state->groups[i % group_count];
      std::string error;
      if (state->set->Add(prefilter, &error) < 0 || group.set->Add(prefilter, &error) < 0) {
        return makeError(ErrorCode::Internal, ErrorSource::Config,
                         "dlp: cannot add a pattern to the prefilter set: " + error);
      }
      group.patterns.push_back(static_cast<int>(i));
    }
    if (state->patterns.empty()) {
      return {};
    }
    bool compiled = state->set->Compile();
    for (auto& group : state->groups) {
      compiled = group.set->Compile() && compiled;
    }
    if (!compiled) {
      return makeError(ErrorCode::Internal, ErrorSource::Config,
                       "dlp: the prefilter set is too large to compile");
    }
    return {};
  }
};

}  // namespace

DlpEngine::DlpEngine(std::unique_ptr<DlpEngineState> state) : state_(std::move(state)) {}
DlpEngine::~DlpEngine() = default;

std::vector<std::string> DlpEngine::builtinDetectorIds() {
  std::vector<std::string> ids;
  for (const auto& builtin : allBuiltins()) {
    ids.emplace_back(builtin.id);
  }
  return ids;
}

std::vector<BuiltinDetectorDefaults> DlpEngine::builtinDetectors() {
  std::vector<BuiltinDetectorDefaults> out;
  for (const auto& builtin : allBuiltins()) {
    out.push_back({std::string(builtin.id), builtin.detector_class,
                   std::string(builtin.default_level), builtin.default_on});
  }
  return out;
}

Result<std::unique_ptr<const DlpEngine>> DlpEngine::create(const DlpConfig& config) {
  Builder builder;
  builder.state->evasion = config.evasion;
  builder.state->generic_min_entropy = config.generic_secret_min_entropy;
  builder.state->max_matches_per_pattern = std::max<size_t>(config.max_matches_per_pattern, 1);
  if (config.evasion.fold_unicode) {
    foldTable();  // built once per process, here rather than in the first request's scan
  }

  const std::vector<BuiltinDetector> builtins = allBuiltins();
  std::vector<BuiltinState> states(builtins.size());
  applySettings(config, builtins, states, builder.errors);
  std::set<std::string> names;
  for (size_t i = 0; i < builtins.size(); ++i) {
    names.emplace(builtins[i].id);
    if (states[i].enabled) {
      double threshold = builtins[i].detector_class == DetectorClass::Injection
                             ? config.injection_threshold
                             : builtins[i].threshold;
      builder.addBuiltin(builtins[i], states[i].level, threshold);
    }
  }
  for (size_t r = 0; r < config.custom.size(); ++r) {
    builder.addCustomRule(r, config.custom[r], names);
  }
  for (size_t p = 0; p < config.rule_packs.size(); ++p) {
    builder.addRulePack(p, config.rule_packs[p], names);
  }
  for (size_t a = 0; a < config.allow_patterns.size(); ++a) {
    builder.addAllowPattern(a, config.allow_patterns[a]);
  }
  if (auto phone = PhoneRegions::create(config.phone.regions)) {
    builder.state->phone = std::move(*phone);
  } else {
    builder.errors.push_back(phone.error().message);
  }
  if (!builder.errors.empty()) {
    std::string message;
    for (const auto& error : builder.errors) {
      message += message.empty() ? error : "\n" + error;
    }
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config, std::move(message),
                     "invalid_dlp_config");
  }
  if (Status compiled = builder.compileSet(); !compiled) {
    return std::unexpected(compiled.error());
  }
  builder.state->window = config.stream_window_bytes != 0
                              ? config.stream_window_bytes
                              : std::max<size_t>(builder.longest, 64) + kWindowMargin;
  return std::unique_ptr<const DlpEngine>(new DlpEngine(std::move(builder.state)));
}

const std::vector<DetectorInfo>& DlpEngine::detectors() const { return state_->infos; }

const DetectorInfo* DlpEngine::detector(std::string_view id) const {
  for (const auto& info : state_->infos) {
    if (info.id == id) {
      return &info;
    }
  }
  return nullptr;
}

size_t DlpEngine::streamWindowBytes() const { return state_->window; }

}  // namespace sy::policies
