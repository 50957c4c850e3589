// Decoders for `sensitivity` and `dlp`: the DLP engine's settings (detectors, custom rules, allow
// patterns, evasion, tunables) and the action rules for prompts and answers. Every name a rule
// uses is checked against the built-in detectors, the file's custom rules and the declared
// levels, and every pattern is compiled once with RE2 so that its error points at its line.
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>

#include "gateway/config/decode_sections.h"
#include "gateway/config/gitleaks_pack.h"
#include "gateway/config/value_parsers.h"
#include "policies/dlp_engine.h"
#include "policies/phone_numbers.h"

namespace sy::config {
namespace {

using policies::BuiltinDetectorDefaults;
using policies::CustomRule;
using policies::DetectorSetting;
using policies::DlpActionRuleSpec;
using policies::DlpConfig;
using policies::DlpPolicySpec;
using policies::PolicyAction;

// Names seen so far -> 1-based line of their first definition.
using NameIndex = std::map<std::string, int, std::less<>>;

// Keys of `dlp.detectors` that switch several detectors at once ("injection" is also an id).
constexpr std::array<std::string_view, 4> kSettingGroups{"pii", "secrets", "injection", "all"};
// What an action rule's `detectors` may name besides ids and custom rule names.
constexpr std::array<std::string_view, 4> kRuleGroups{"pii", "secrets", "injection", "custom"};
// dlp.limits.on_limit and dlp.pseudonyms.restore.
constexpr std::array<std::pair<std::string_view, policies::LimitAction>, 2> kLimitActions{{
    {"block-external", policies::LimitAction::BlockExternal},
    {"block", policies::LimitAction::Block},
}};
constexpr std::array<std::pair<std::string_view, policies::RestoreScope>, 2> kRestoreScopes{{
    {"all", policies::RestoreScope::All},
    {"user-turns", policies::RestoreScope::UserTurns},
}};
// DlpEngine's limit per pattern: a pattern that compiles here also compiles there.
constexpr int64_t kPatternMaxMem = 8 << 20;
// Shannon entropy of a byte string cannot exceed 8 bits per character.
constexpr double kMaxEntropy = 8.0;

// Shared by the decoders of one `dlp` section.
struct DlpContext {
  Decoder& decoder;
  std::optional<SensitivityLevels> levels;  // nullopt: sensitivity.levels is invalid
  std::vector<BuiltinDetectorDefaults> builtins = policies::DlpEngine::builtinDetectors();
  NameIndex custom_names{};        // every custom rule name, valid or not, to spare "unknown" noise
  bool has_request_rules = false;  // the file sets dlp.actions (else the defaults apply)
  bool has_response_rules = false;  // the file sets dlp.responses.actions

  bool isBuiltin(std::string_view id) const {
    return std::any_of(builtins.begin(), builtins.end(),
                       [&](const BuiltinDetectorDefaults& b) { return b.id == id; });
  }
};

template <size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A size in bytes (as readSize) where 0 is also allowed (it means "automatic").
void readSizeOrZero(Decoder& decoder, const std::optional<Located>& value, size_t& out) {
  if (value && value->node.IsScalar() && value->node.Scalar() == "0") {
    out = 0;
    return;
  }
  uint32_t size = 0;
  if (decoder.readSize(value, size)) {
    out = size;
  }
}

// An integer >= 1. Returns true when `value` is present and valid (as Decoder's readers).
bool readCount(Decoder& decoder, const std::optional<Located>& value, size_t& out) {
  uint32_t count = 0;
  if (!decoder.readInteger(value, count, 1)) {
    return false;
  }
  out = count;
  return true;
}


// "unknown detector 'emial'; did you mean 'email'?" when a candidate is within 2 edits, else a
// pointer to the documentation (the full list is too long for one line).
template <size_t N>
std::string unknownDetector(const DlpContext& ctx, std::string_view name,
                            const std::array<std::string_view, N>& groups, bool with_custom) {
  std::vector<std::string_view> candidates(groups.begin(), groups.end());
  for (const auto& builtin : ctx.builtins) {
    candidates.push_back(builtin.id);
  }
  if (with_custom) {
    for (const auto& [custom, line] : ctx.custom_names) {
      candidates.push_back(custom);
    }
  }
  std::string_view best;
  size_t best_distance = 3;
  for (const std::string_view candidate : candidates) {
    const size_t distance = editDistance(name, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? strCat("unknown detector '", name, "'; see the README's detector table")
                      : strCat("unknown detector '", name, "'; did you mean '", best, "'?");
}

std::string levelList(const SensitivityLevels& levels) {
  std::string out;
  for (const std::string& name : levels.names()) {
    out += strCat(out.empty() ? "" : ", ", name);
  }
  return out;
}

// A plain level name (not a condition) for a detector or custom rule.
void readLevel(DlpContext& ctx, const std::optional<Located>& value, std::string& out) {
  if (!ctx.decoder.readNonEmptyString(value, out) || !ctx.levels || ctx.levels->rank(out) >= 0) {
    return;
  }
  ctx.decoder.error(*value, strCat("unknown sensitivity level '", out,
                                   "' (levels: ", levelList(*ctx.levels), ")"));
}

// Returns false when the levels are invalid; `out` then keeps the default levels.
bool decodeSensitivity(Decoder& decoder, const Located& where, SensitivityLevels& out,
                       std::optional<Located>& levels_at) {
  const Mapping sensitivity(decoder, where, {{"levels"}});
  levels_at = sensitivity.optional("levels");
  if (!sensitivity.valid() || !levels_at) {
    return sensitivity.valid();
  }
  const std::vector<Located> items = decoder.sequence(*levels_at);
  if (items.empty()) {
    if (levels_at->node.IsSequence()) {
      decoder.error(*levels_at, "must not be empty");
    }
    return false;
  }
  std::vector<std::string> names;
  NameIndex seen;
  bool ok = true;
  for (const Located& item : items) {
    std::string name;
    if (!decoder.readName(item, name)) {
      ok = false;
      continue;
    }
    const auto [it, inserted] = seen.emplace(name, item.mark.line + 1);
    if (!inserted) {
      decoder.error(item, strCat("duplicate level '", name, "' (first at line ", it->second, ")"));
      ok = false;
      continue;
    }
    names.push_back(std::move(name));
  }
  if (!ok) {
    return false;
  }
  auto created = SensitivityLevels::create(std::move(names));
  if (!created) {  // not expected: the checks above cover create()'s
    decoder.error(*levels_at, created.error().message);
    return false;
  }
  out = std::move(*created);
  return true;
}

void decodeDetectorSettings(DlpContext& ctx, const Located& where,
                            std::vector<DetectorSetting>& out) {
  const Mapping detectors(ctx.decoder, where, std::nullopt);
  for (const Mapping::Entry& entry : detectors.entries()) {
    const bool known = ctx.isBuiltin(entry.key) || contains(kSettingGroups, entry.key);
    if (!known) {
      ctx.decoder.error(entry.key_at, unknownDetector(ctx, entry.key, kSettingGroups, false));
    }
    DetectorSetting setting{entry.key, true, ""};
    const Mapping settings(ctx.decoder, entry.value, {{"enabled", "level"}});
    ctx.decoder.readBool(settings.optional("enabled"), setting.enabled);
    readLevel(ctx, settings.optional("level"), setting.level);
    if (known && settings.valid()) {
      out.push_back(std::move(setting));
    }
  }
}

bool compiles(Decoder& decoder, const Located& where, const std::string& pattern,
              bool case_insensitive) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kPatternMaxMem);
  options.set_case_sensitive(!case_insensitive);
  const RE2 re(pattern, options);
  if (!re.ok()) {
    decoder.error(where, strCat("invalid RE2 pattern: ", re.error()));
  }
  return re.ok();
}

// Records the rule's name, reporting duplicates and names taken by built-ins or groups. An
// invalid name is still recorded so that action rules naming it add no "unknown" noise.
void decodeCustomName(DlpContext& ctx, const Mapping& rule, std::string& out) {
  const auto value = rule.required("name");
  const bool valid = ctx.decoder.readName(value, out);
  if (!value || !value->node.IsScalar()) {
    return;
  }
  const std::string& name = value->node.Scalar();
  if (!valid) {
    ctx.custom_names.emplace(name, value->mark.line + 1);
  } else if (ctx.isBuiltin(name)) {
    ctx.decoder.error(*value, strCat("'", name,
                                     "' is a built-in detector id; name the rule differently (or "
                                     "tune it under dlp.detectors)"));
  } else if (contains(kSettingGroups, name) || contains(kRuleGroups, name)) {
    ctx.decoder.error(*value,
                      strCat("'", name, "' is a detector group; name the rule differently"));
  } else if (const auto [it, inserted] = ctx.custom_names.emplace(name, value->mark.line + 1);
             !inserted) {
    ctx.decoder.error(
        *value, strCat("duplicate custom rule name '", name, "' (first at line ", it->second, ")"));
  }
}

void decodeKeywords(Decoder& decoder, const Located& where, std::vector<std::string>& out) {
  const std::vector<Located> items = decoder.sequence(where);
  if (items.empty() && where.node.IsSequence()) {
    decoder.error(where, "must not be empty");
  }
  for (const Located& item : items) {
    std::string keyword;
    if (!decoder.readString(item, keyword)) {
      continue;
    }
    if (keyword.find_first_not_of(" \t\n") == std::string::npos) {
      decoder.error(item, "must not be empty");
      continue;
    }
    out.push_back(std::move(keyword));
  }
}

CustomRule decodeCustomRule(DlpContext& ctx, const Located& where) {
  const Mapping rule(ctx.decoder, where,
                     {{"name", "pattern", "keywords", "level", "case_insensitive", "whole_words",
                       "max_match_bytes"}});
  CustomRule out;
  if (!rule.valid()) {
    return out;
  }
  decodeCustomName(ctx, rule, out.name);
  ctx.decoder.readBool(rule.optional("case_insensitive"), out.case_insensitive);
  const bool has_pattern = rule.contains("pattern");
  if (has_pattern == rule.contains("keywords")) {
    ctx.decoder.error(rule.where(), has_pattern
                                        ? "set exactly one of 'pattern' or 'keywords', not both"
                                        : "missing required key 'pattern' or 'keywords'");
  } else if (has_pattern) {
    const auto pattern = rule.required("pattern");
    if (ctx.decoder.readNonEmptyString(pattern, out.pattern)) {
      compiles(ctx.decoder, *pattern, out.pattern, out.case_insensitive);
    }
  } else if (const auto keywords = rule.required("keywords")) {
    decodeKeywords(ctx.decoder, *keywords, out.keywords);
  }
  const auto whole_words = rule.optional("whole_words");
  if (ctx.decoder.readBool(whole_words, out.whole_words) && has_pattern) {
    ctx.decoder.error(*whole_words, "only applies to keywords (write \\b in the pattern instead)");
  }
  if (const auto level = rule.optional("level")) {
    readLevel(ctx, level, out.level);
  } else if (ctx.levels && ctx.levels->rank(out.level) < 0) {
    ctx.decoder.error(rule.where(), strCat("the default level '", out.level,
                                           "' is not a declared level; set 'level'"));
  }
  readCount(ctx.decoder, rule.optional("max_match_bytes"), out.max_match_bytes);
  return out;
}

void decodeAllowPatterns(Decoder& decoder, const Located& where, std::vector<std::string>& out) {
  for (const Located& item : decoder.sequence(where)) {
    std::string pattern;
    if (decoder.readNonEmptyString(item, pattern) && compiles(decoder, item, pattern, false)) {
      out.push_back(std::move(pattern));
    }
  }
}

void decodeEvasion(Decoder& decoder, const Located& where, policies::EvasionConfig& out) {
  const Mapping evasion(decoder, where,
                        {{"fold_unicode", "strip_invisible", "decode_base64", "decode_hex",
                          "decode_url", "min_blob_chars", "max_blob_chars", "max_decoded_bytes"}});
  decoder.readBool(evasion.optional("fold_unicode"), out.fold_unicode);
  decoder.readBool(evasion.optional("strip_invisible"), out.strip_invisible);
  decoder.readBool(evasion.optional("decode_base64"), out.decode_base64);
  decoder.readBool(evasion.optional("decode_hex"), out.decode_hex);
  decoder.readBool(evasion.optional("decode_url"), out.decode_url);
  const auto min_blob = evasion.optional("min_blob_chars");
  const auto max_blob = evasion.optional("max_blob_chars");
  const bool min_ok = readCount(decoder, min_blob, out.min_blob_chars) || !min_blob;
  const bool max_ok = readCount(decoder, max_blob, out.max_blob_chars) || !max_blob;
  // Reported at max_blob_chars when the file sets it, else at min_blob_chars.
  if (min_ok && max_ok && out.max_blob_chars < out.min_blob_chars) {
    decoder.error(max_blob ? *max_blob : *min_blob,
                  max_blob ? strCat("must be >= min_blob_chars (", out.min_blob_chars, "), got '",
                                    out.max_blob_chars, "'")
                           : strCat("must be <= max_blob_chars (", out.max_blob_chars, "), got '",
                                    out.min_blob_chars, "'"));
  }
  uint32_t decoded = 0;
  if (decoder.readSize(evasion.optional("max_decoded_bytes"), decoded)) {
    out.max_decoded_bytes = decoded;
  }
}

// dlp.phone: the regions whose national numbering plans the phone detector validates against.
void decodePhone(Decoder& decoder, const Located& where, policies::PhoneConfig& out) {
  const Mapping phone(decoder, where, {{"regions"}});
  const auto regions = phone.optional("regions");
  if (!regions) {
    return;
  }
  std::vector<std::string> codes;
  for (const Located& item : decoder.sequence(*regions)) {
    std::string code;
    if (!decoder.readNonEmptyString(item, code)) {
      continue;
    }
    if (!policies::PhoneRegions::known(code)) {
      decoder.error(item, strCat("unknown region '", code,
                                 "': an ISO 3166-1 alpha-2 code in upper case, e.g. US, GB, DE"));
    } else if (std::find(codes.begin(), codes.end(), code) != codes.end()) {
      decoder.error(item, strCat("region '", code, "' is listed twice"));
    } else {
      codes.push_back(std::move(code));
    }
  }
  out.regions = std::move(codes);
}

// dlp.limits: the scan bound that is not an evasion setting, and what reaching any bound does.
void decodeLimits(Decoder& decoder, const Located& where, DlpConfig& engine,
                  DlpPolicySpec& policy) {
  const Mapping limits(decoder, where, {{"max_matches_per_pattern", "on_limit"}});
  readCount(decoder, limits.optional("max_matches_per_pattern"), engine.max_matches_per_pattern);
  decoder.readEnum(limits.optional("on_limit"), kLimitActions, "on_limit", policy.on_limit);
}

void decodePseudonyms(Decoder& decoder, const Located& where, DlpPolicySpec& policy) {
  const Mapping pseudonyms(decoder, where, {{"restore"}});
  decoder.readEnum(pseudonyms.optional("restore"), kRestoreScopes, "restore", policy.restore);
}

void decodeRuleDetectors(DlpContext& ctx, const Located& where, std::vector<std::string>& out) {
  const std::vector<Located> items = ctx.decoder.sequence(where);
  if (items.empty() && where.node.IsSequence()) {
    ctx.decoder.error(where, "must not be empty (omit 'detectors' to match every detector)");
  }
  for (const Located& item : items) {
    std::string id;
    if (!ctx.decoder.readString(item, id)) {
      continue;
    }
    if (id == "all") {
      ctx.decoder.error(item, "unknown detector 'all' (omit 'detectors' to match every detector)");
    } else if (!ctx.isBuiltin(id) && !contains(kRuleGroups, id) && !ctx.custom_names.contains(id)) {
      ctx.decoder.error(item, unknownDetector(ctx, id, kRuleGroups, true));
    } else {
      out.push_back(std::move(id));
    }
  }
}

void decodeRuleAction(Decoder& decoder, const std::optional<Located>& value, bool response,
                      PolicyAction& out) {
  if (!decoder.readEnum(value, kPolicyActions, "action", out) || !response) {
    return;
  }
  if (out == PolicyAction::Block) {
    decoder.error(*value,
                  "a response cannot be blocked (streamed answers are already on their way); "
                  "use redact");
  } else if (out == PolicyAction::Pseudonymize) {
    decoder.error(*value, "pseudonyms in answers could not be restored; use redact or mask");
  }
}

DlpActionRuleSpec decodeActionRule(DlpContext& ctx, const Located& where, bool response,
                                   NameIndex& names) {
  const Mapping rule =
      response
          ? Mapping(ctx.decoder, where, {{"name", "detectors", "level", "action"}})
          : Mapping(ctx.decoder, where, {{"name", "detectors", "level", "destination", "action"}});
  DlpActionRuleSpec out;
  if (!rule.valid()) {
    return out;
  }
  const auto name = rule.required("name");
  if (ctx.decoder.readName(name, out.name)) {
    const auto [it, inserted] = names.emplace(out.name, name->mark.line + 1);
    if (!inserted) {
      ctx.decoder.error(
          *name, strCat("duplicate rule name '", out.name, "' (first at line ", it->second, ")"));
    }
  }
  if (const auto detectors = rule.optional("detectors")) {
    decodeRuleDetectors(ctx, *detectors, out.detectors);
  }
  const auto level = rule.optional("level");
  if (ctx.decoder.readNonEmptyString(level, out.level) && ctx.levels) {
    if (auto condition = LevelCondition::parse(out.level, *ctx.levels); !condition) {
      ctx.decoder.error(*level, condition.error().message);
    }
  }
  Location destination = Location::External;
  if (ctx.decoder.readEnum(rule.optional("destination"), kLocations, "destination", destination)) {
    out.destination = destination;
  }
  decodeRuleAction(ctx.decoder, rule.required("action"), response, out.action);
  return out;
}

void decodeActionRules(DlpContext& ctx, const Located& where, bool response,
                       std::vector<DlpActionRuleSpec>& out) {
  const std::vector<Located> items = ctx.decoder.sequence(where);
  if (!where.node.IsSequence()) {
    return;  // keep the defaults; the error is reported
  }
  out.clear();
  NameIndex names;
  for (const Located& item : items) {
    out.push_back(decodeActionRule(ctx, item, response, names));
  }
}

void decodeResponses(DlpContext& ctx, const Located& where, DlpPolicySpec& out) {
  const Mapping responses(ctx.decoder, where, {{"scan", "actions"}});
  ctx.decoder.readBool(responses.optional("scan"), out.scan_responses);
  if (const auto actions = responses.optional("actions")) {
    ctx.has_response_rules = true;
    decodeActionRules(ctx, *actions, /*response=*/true, out.response_rules);
  }
}

// Replays DlpEngine's settings (in order; a group turns on its default members only and turns
// off all of them) to find enabled built-ins whose default level the file does not declare.
// Reports one error per missing level, at `levels_at`.
void checkDefaultLevels(DlpContext& ctx, const DlpConfig& config, const Located& levels_at) {
  std::vector<std::string> missing;  // levels, in order of first detector
  std::map<std::string, std::pair<std::string, int>, std::less<>> users;  // first id, others
  for (const BuiltinDetectorDefaults& builtin : ctx.builtins) {
    bool enabled = config.default_pack && builtin.default_on;
    bool level_set = false;
    for (const DetectorSetting& setting : config.detectors) {
      const bool group = setting.id == "all" || setting.id == "pii" || setting.id == "secrets";
      const bool member =
          setting.id == builtin.id || setting.id == "all" ||
          (setting.id == "pii" && builtin.detector_class == policies::DetectorClass::Pii) ||
          (setting.id == "secrets" && builtin.detector_class == policies::DetectorClass::Secret);
      if (member && (!group || !setting.enabled || builtin.default_on)) {
        enabled = setting.enabled;
      }
      level_set = level_set || (member && !setting.level.empty());
    }
    if (!enabled || level_set || ctx.levels->rank(builtin.default_level) >= 0) {
      continue;
    }
    const auto [it, inserted] = users.try_emplace(builtin.default_level, builtin.id, 0);
    if (inserted) {
      missing.push_back(builtin.default_level);
    } else {
      ++it->second.second;
    }
  }
  for (const std::string& level : missing) {
    const auto& [id, others] = users.at(level);
    std::string message = strCat("detector '", id, "' has default level '", level,
                                 "', which is not a declared level; declare it or set "
                                 "dlp.detectors.",
                                 id, ".level");
    if (others > 0) {
      message += strCat(" (", others, " more enabled detectors default to '", level, "')");
    }
    ctx.decoder.error(levels_at, message);
  }
}

// `rule_packs: [{format: gitleaks, path: rules.toml, level: restricted}]`: the path is relative
// to the policy file; the pack's own errors are located in it ("rules.toml:12:9: ...").
void decodeRulePacks(DlpContext& ctx, const Located& where, std::vector<policies::RulePack>& out) {
  for (const Located& item : ctx.decoder.sequence(where)) {
    const Mapping entry(ctx.decoder, item, {{"format", "path", "level"}});
    if (!entry.valid()) {
      continue;
    }
    std::string format;
    if (const auto value = entry.required("format");
        ctx.decoder.readString(value, format) && format != "gitleaks") {
      ctx.decoder.error(*value, strCat("unknown rule pack format '", format, "' (gitleaks)"));
      continue;
    }
    std::string path;
    const auto path_at = entry.required("path");
    if (!ctx.decoder.readNonEmptyString(path_at, path)) {
      continue;
    }
    std::string level = "restricted";
    readLevel(ctx, entry.optional("level"), level);
    std::filesystem::path file(path);
    if (file.is_relative()) {
      file = std::filesystem::path(ctx.decoder.fileOf(path_at->mark)).parent_path() / file;
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      ctx.decoder.error(*path_at, strCat("cannot read rule pack '", file.string(), "'"));
      continue;
    }
    GitleaksLoad load = loadGitleaksPack(file.string(), path);
    for (const std::string& error : load.errors) {
      ctx.decoder.error(*path_at, error);
    }
    if (load.errors.empty()) {
      load.pack.level = level;
      for (const policies::PackRule& rule : load.pack.rules) {  // action rules may name them
        ctx.custom_names.emplace(rule.id, path_at->mark.line + 1);
      }
      out.push_back(std::move(load.pack));
    }
  }
}

// Default action rules apply when the file has none; their conditions must name declared levels.
void checkDefaultRules(DlpContext& ctx, const std::vector<DlpActionRuleSpec>& rules,
                       std::string_view key, const Located& levels_at) {
  for (const DlpActionRuleSpec& rule : rules) {
    if (!rule.level.empty() && !LevelCondition::parse(rule.level, *ctx.levels)) {
      ctx.decoder.error(levels_at, strCat("the default ", key, " rule '", rule.name,
                                          "' needs the level condition '", rule.level,
                                          "'; declare that level or write your own ", key));
    }
  }
}

void decodeDlpSection(DlpContext& ctx, const Located& where, DlpConfig& engine,
                      DlpPolicySpec& policy) {
  const Mapping dlp(
      ctx.decoder, where,
      {{"default_pack", "detectors", "custom", "rule_packs", "allow_patterns", "evasion",
        "phone", "generic_secret_min_entropy", "injection_threshold", "stream_window_bytes",
        "limits", "pseudonyms", "actions", "responses", "unknown_fields"}});
  ctx.decoder.readBool(dlp.optional("default_pack"), engine.default_pack);
  ctx.decoder.readEnum(dlp.optional("unknown_fields"), kUnknownFields, "unknown_fields",
                       policy.unknown_fields);
  if (const auto custom = dlp.optional("custom")) {  // first: action rules refer to its names
    for (const Located& item : ctx.decoder.sequence(*custom)) {
      engine.custom.push_back(decodeCustomRule(ctx, item));
    }
  }
  if (const auto packs = dlp.optional("rule_packs")) {
    decodeRulePacks(ctx, *packs, engine.rule_packs);
  }
  if (const auto detectors = dlp.optional("detectors")) {
    decodeDetectorSettings(ctx, *detectors, engine.detectors);
  }
  if (const auto allow = dlp.optional("allow_patterns")) {
    decodeAllowPatterns(ctx.decoder, *allow, engine.allow_patterns);
  }
  if (const auto evasion = dlp.optional("evasion")) {
    decodeEvasion(ctx.decoder, *evasion, engine.evasion);
  }
  if (const auto phone = dlp.optional("phone")) {
    decodePhone(ctx.decoder, *phone, engine.phone);
  }
  const auto entropy = dlp.optional("generic_secret_min_entropy");
  if (ctx.decoder.readNumber(entropy, engine.generic_secret_min_entropy) &&
      engine.generic_secret_min_entropy > kMaxEntropy) {
    ctx.decoder.error(
        *entropy, strCat("must be <= 8 (bits per character), got '", entropy->node.Scalar(), "'"));
  }
  const auto threshold = dlp.optional("injection_threshold");
  if (ctx.decoder.readNumber(threshold, engine.injection_threshold) &&
      engine.injection_threshold <= 0) {
    ctx.decoder.error(*threshold, strCat("must be > 0, got '", threshold->node.Scalar(), "'"));
  }
  readSizeOrZero(ctx.decoder, dlp.optional("stream_window_bytes"), engine.stream_window_bytes);
  if (const auto limits = dlp.optional("limits")) {
    decodeLimits(ctx.decoder, *limits, engine, policy);
  }
  if (const auto pseudonyms = dlp.optional("pseudonyms")) {
    decodePseudonyms(ctx.decoder, *pseudonyms, policy);
  }
  if (const auto actions = dlp.optional("actions")) {
    ctx.has_request_rules = true;
    decodeActionRules(ctx, *actions, /*response=*/false, policy.request_rules);
  }
  if (const auto responses = dlp.optional("responses")) {
    decodeResponses(ctx, *responses, policy);
  }
}

}  // namespace

void decodeDlp(Decoder& decoder, const std::optional<Located>& sensitivity,
               const std::optional<Located>& dlp, DlpConfig& engine, DlpPolicySpec& policy) {
  DlpContext ctx{decoder, std::nullopt};
  std::optional<Located> levels_at;
  if (!sensitivity || decodeSensitivity(decoder, *sensitivity, policy.levels, levels_at)) {
    ctx.levels = policy.levels;
  }
  if (dlp) {
    decodeDlpSection(ctx, *dlp, engine, policy);
  }
  if (!ctx.levels || !levels_at) {
    return;  // the default levels hold every default level
  }
  checkDefaultLevels(ctx, engine, *levels_at);
  if (!ctx.has_request_rules) {
    checkDefaultRules(ctx, policy.request_rules, "dlp.actions", *levels_at);
  }
  if (!ctx.has_response_rules) {
    checkDefaultRules(ctx, policy.response_rules, "dlp.responses.actions", *levels_at);
  }
}

}  // namespace sy::config
