// The `sensitivity` and `dlp` sections: error cases with exact messages (one per validation
// rule), a full section decoding to the expected structs, and absent sections keeping defaults.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "policies/dlp_engine.h"
#include "tests/unit/config/error_case.h"

namespace sy::config {
namespace {

using policies::PolicyAction;

std::string withCatalog(std::string_view sections) {
  return std::string(sections).append(kCatalog);
}

// `dlp:` on line 1, then `lines` from line 2.
std::string dlp(std::string_view lines) { return withCatalog("dlp:\n" + std::string(lines)); }
// `dlp.detectors` entries from line 3.
std::string detectors(std::string_view lines) { return dlp("  detectors:\n" + std::string(lines)); }
// `dlp.custom` items from line 3.
std::string custom(std::string_view lines) { return dlp("  custom:\n" + std::string(lines)); }
// `dlp.actions` items from line 3.
std::string actions(std::string_view lines) { return dlp("  actions:\n" + std::string(lines)); }
// `dlp.responses.actions` items from line 4.
std::string responses(std::string_view lines) {
  return dlp("  responses:\n    actions:\n" + std::string(lines));
}
// `sensitivity.levels: <list>` on line 2 (its value at column 11), then `dlp:` lines if any.
std::string levels(std::string_view list, std::string_view dlp_lines = "") {
  std::string yaml = "sensitivity:\n  levels: " + std::string(list) + "\n";
  if (!dlp_lines.empty()) {
    yaml += "dlp:\n" + std::string(dlp_lines);
  }
  return withCatalog(yaml);
}

constexpr std::string_view kLevels = "(levels: public, internal, confidential, restricted)";

const std::vector<ErrorCase> kSensitivityCases = {
    {"IsASequence",
     withCatalog("sensitivity: [a]\n"),
     {"policy.yaml:1:14: sensitivity: expected a mapping, got a sequence"}},
    {"UnknownKey",
     withCatalog("sensitivity:\n  level: [a]\n"),
     {"policy.yaml:2:3: sensitivity.level: unknown key (expected one of: levels)"}},
    {"LevelsEmpty", levels("[]"), {"policy.yaml:2:11: sensitivity.levels: must not be empty"}},
    {"LevelsIsAScalar",
     levels("public"),
     {"policy.yaml:2:11: sensitivity.levels: expected a sequence, got 'public'"}},
    {"LevelWithASpace",
     levels("[public, 'top secret']"),
     {"policy.yaml:2:20: sensitivity.levels[1]: invalid name 'top secret' (use letters, digits, "
      "'.', '_' and '-')"}},
    {"LevelIsNull",
     levels("[low, ~]"),
     {"policy.yaml:2:11: sensitivity.levels[1]: expected a string, got null"}},
    {"DuplicateLevel",
     levels("[low, high, low]"),
     {"policy.yaml:2:23: sensitivity.levels[2]: duplicate level 'low' (first at line 2)"}},
    {"InvalidLevelsAreNotReportedAgainAtEachUse",
     levels("[low, low]", "  detectors:\n    email: {level: high}\n"),
     {"policy.yaml:2:17: sensitivity.levels[1]: duplicate level 'low' (first at line 2)"}},
    {"NullSectionsKeepTheDefaults", withCatalog("sensitivity: ~\ndlp: ~\n"), {}},
    {"NullLevelsKeepTheDefaults", levels("~"), {}},
    {"DeclaredAfterDlpStillApplies",
     withCatalog("dlp:\n  detectors:\n    email: {level: secret}\n  actions:\n    - {name: r, "
                 "level: '>= secret', action: block}\nsensitivity:\n  levels: [public, internal, "
                 "confidential, restricted, secret]\n"),
     {}},
    {"CustomLevelsMayBeUsedEverywhere",
     levels(
         "[low, high]",
         "  default_pack: false\n  detectors:\n    email: {level: high}\n  custom:\n    - {name: "
         "c, pattern: x, level: low}\n  actions:\n    - {name: r, level: '> low', action: "
         "block}\n"),
     {}},
};

// Levels that lack the built-ins' defaults: each missing level is reported once, naming the
// first enabled detector that needs it, and the default rules' conditions are checked too.
const std::vector<ErrorCase> kDefaultLevelCases = {
    {"CustomLevelsWithoutTheDefaultLevels",
     levels("[low, high]"),
     {"policy.yaml:2:11: sensitivity.levels: detector 'email' has default level 'confidential', "
      "which is not a declared level; declare it or set dlp.detectors.email.level (2 more "
      "enabled detectors default to 'confidential')",
      "policy.yaml:2:11: sensitivity.levels: detector 'credit_card' has default level "
      "'restricted', which is not a declared level; declare it or set "
      "dlp.detectors.credit_card.level (47 more enabled detectors default to 'restricted')",
      "policy.yaml:2:11: sensitivity.levels: detector 'ipv4' has default level 'internal', "
      "which is not a declared level; declare it or set dlp.detectors.ipv4.level (2 more enabled "
      "detectors default to 'internal')",
      "policy.yaml:2:11: sensitivity.levels: the default dlp.actions rule 'restricted-stays-home' "
      "needs the level condition '>= restricted'; declare that level or write your own "
      "dlp.actions",
      "policy.yaml:2:11: sensitivity.levels: the default dlp.actions rule "
      "'confidential-pseudonymized' needs the level condition 'confidential'; declare that level "
      "or write your own dlp.actions"}},
    {"DefaultRulesNeedTheirLevels",
     levels("[low, high]", "  detectors:\n    all: {level: high}\n"),
     {"policy.yaml:2:11: sensitivity.levels: the default dlp.actions rule 'restricted-stays-home' "
      "needs the level condition '>= restricted'; declare that level or write your own "
      "dlp.actions",
      "policy.yaml:2:11: sensitivity.levels: the default dlp.actions rule "
      "'confidential-pseudonymized' needs the level condition 'confidential'; declare that level "
      "or write your own dlp.actions"}},
    {"ALevelForEveryDetectorSatisfiesTheDefaults",
     levels("[low, high]", "  detectors:\n    all: {level: high}\n  actions: []\n"),
     {}},
    {"DisabledDetectorsNeedNoLevel",
     levels("[low, high]", "  default_pack: false\n  actions: []\n"),
     {}},
    {"ADetectorTurnedOnNeedsItsLevel",
     levels("[low, high]", "  default_pack: false\n  detectors:\n    email: {}\n  actions: []\n"),
     {"policy.yaml:2:11: sensitivity.levels: detector 'email' has default level 'confidential', "
      "which is not a declared level; declare it or set dlp.detectors.email.level"}},
    {"ACustomRuleWithoutLevelNeedsConfidential",
     levels("[low, high]",
            "  default_pack: false\n  actions: []\n  custom:\n    - {name: x, pattern: a}\n"),
     {"policy.yaml:7:7: dlp.custom[0]: the default level 'confidential' is not a declared level; "
      "set 'level'"}},
};

const std::vector<ErrorCase> kDlpCases = {
    {"IsASequence",
     withCatalog("dlp: []\n"),
     {"policy.yaml:1:6: dlp: expected a mapping, got a sequence"}},
    {"UnknownKey",
     dlp("  enabled: false\n"),
     {"policy.yaml:2:3: dlp.enabled: unknown key (expected one of: default_pack, detectors, "
      "custom, rule_packs, allow_patterns, evasion, phone, generic_secret_min_entropy, "
      "injection_threshold, stream_window_bytes, limits, pseudonyms, actions, responses, "
      "unknown_fields)"}},
    {"UnknownFieldsIsScanDropOrReject",
     dlp("  unknown_fields: ignore\n"),
     {"policy.yaml:2:19: dlp.unknown_fields: unknown unknown_fields 'ignore' (expected one of: "
      "scan, drop, reject)"}},
    {"UnknownFieldsReject", dlp("  unknown_fields: reject\n"), {}},
    {"TopLevelNamesTheNewSections",
     withCatalog("dpl: {}\n"),
     {"policy.yaml:1:1: dpl: unknown key (expected one of: server, admin, backends, tiers, "
      "models, sensitivity, dlp, auth, teams, keys, limits, state, audit, accounting, resilience, "
      "difficulty, routing, compliance, responses, include, shadow)"}},
    {"DefaultPackIsNotABoolean",
     dlp("  default_pack: no\n"),
     {"policy.yaml:2:17: dlp.default_pack: expected true or false, got 'no'"}},
    {"DefaultPackIsAMapping",
     dlp("  default_pack: {a: 1}\n"),
     {"policy.yaml:2:17: dlp.default_pack: expected true or false, got a mapping"}},
    {"EntropyNegative",
     dlp("  generic_secret_min_entropy: -1\n"),
     {"policy.yaml:2:31: dlp.generic_secret_min_entropy: must be >= 0, got '-1'"}},
    {"EntropyAboveEight",
     dlp("  generic_secret_min_entropy: 8.5\n"),
     {"policy.yaml:2:31: dlp.generic_secret_min_entropy: must be <= 8 (bits per character), got "
      "'8.5'"}},
    {"InjectionThresholdZero",
     dlp("  injection_threshold: 0\n"),
     {"policy.yaml:2:24: dlp.injection_threshold: must be > 0, got '0'"}},
    {"InjectionThresholdNotANumber",
     dlp("  injection_threshold: high\n"),
     {"policy.yaml:2:24: dlp.injection_threshold: expected a number, got 'high'"}},
    {"StreamWindowNegative",
     dlp("  stream_window_bytes: -1\n"),
     {"policy.yaml:2:24: dlp.stream_window_bytes: invalid size '-1' (use e.g. 8MiB)"}},
    {"StreamWindowZeroMeansAutomatic", dlp("  stream_window_bytes: 0\n"), {}},
    {"AllowPatternInvalid",
     dlp("  allow_patterns: ['AKIA[']\n"),
     {"policy.yaml:2:20: dlp.allow_patterns[0]: invalid RE2 pattern: missing ]: ["}},
    {"AllowPatternsIsAScalar",
     dlp("  allow_patterns: AKIA\n"),
     {"policy.yaml:2:19: dlp.allow_patterns: expected a sequence, got 'AKIA'"}},
    {"AllowPatternEmpty",
     dlp("  allow_patterns: ['']\n"),
     {"policy.yaml:2:20: dlp.allow_patterns[0]: must not be empty"}},
};

const std::vector<ErrorCase> kPhoneCases = {
    {"IsAScalar",
     dlp("  phone: US\n"),
     {"policy.yaml:2:10: dlp.phone: expected a mapping, got 'US'"}},
    {"UnknownKey",
     dlp("  phone: {region: [US]}\n"),
     {"policy.yaml:2:11: dlp.phone.region: unknown key (expected one of: regions)"}},
    {"RegionsIsAScalar",
     dlp("  phone: {regions: US}\n"),
     {"policy.yaml:2:20: dlp.phone.regions: expected a sequence, got 'US'"}},
    {"UnknownRegion",
     dlp("  phone: {regions: [US, XX]}\n"),
     {"policy.yaml:2:25: dlp.phone.regions[1]: unknown region 'XX': an ISO 3166-1 alpha-2 code "
      "in upper case, e.g. US, GB, DE"}},
    {"LowerCaseRegion",
     dlp("  phone: {regions: [gb]}\n"),
     {"policy.yaml:2:21: dlp.phone.regions[0]: unknown region 'gb': an ISO 3166-1 alpha-2 code "
      "in upper case, e.g. US, GB, DE"}},
    {"RegionListedTwice",
     dlp("  phone: {regions: [DE, FR,\n    DE]}\n"),
     {"policy.yaml:3:5: dlp.phone.regions[2]: region 'DE' is listed twice"}},
    {"EmptyRegion",
     dlp("  phone: {regions: ['']}\n"),
     {"policy.yaml:2:21: dlp.phone.regions[0]: must not be empty"}},
    {"NoRegionsMeansInternationalOnly", dlp("  phone: {regions: []}\n"), {}},
};

const std::vector<ErrorCase> kEvasionCases = {
    {"IsAScalar",
     dlp("  evasion: on\n"),
     {"policy.yaml:2:12: dlp.evasion: expected a mapping, got 'on'"}},
    {"UnknownKey",
     dlp("  evasion: {decode_base32: true}\n"),
     {"policy.yaml:2:13: dlp.evasion.decode_base32: unknown key (expected one of: fold_unicode, "
      "strip_invisible, decode_base64, decode_hex, decode_url, min_blob_chars, max_blob_chars, "
      "max_decoded_bytes)"}},
    {"BooleanIsNotOne",
     dlp("  evasion: {decode_hex: 1}\n"),
     {"policy.yaml:2:25: dlp.evasion.decode_hex: expected true or false, got '1'"}},
    {"MinBlobZero",
     dlp("  evasion: {min_blob_chars: 0}\n"),
     {"policy.yaml:2:29: dlp.evasion.min_blob_chars: must be > 0, got '0'"}},
    {"MaxBlobBelowMin",
     dlp("  evasion: {min_blob_chars: 64, max_blob_chars: 32}\n"),
     {"policy.yaml:2:49: dlp.evasion.max_blob_chars: must be >= min_blob_chars (64), got '32'"}},
    {"MinBlobAboveTheDefaultMax",
     dlp("  evasion: {min_blob_chars: 20000}\n"),
     {"policy.yaml:2:29: dlp.evasion.min_blob_chars: must be <= max_blob_chars (16384), got "
      "'20000'"}},
    {"MaxDecodedBytesNotASize",
     dlp("  evasion: {max_decoded_bytes: lots}\n"),
     {"policy.yaml:2:32: dlp.evasion.max_decoded_bytes: invalid size 'lots' (use e.g. 8MiB)"}},
};

const std::vector<ErrorCase> kLimitAndPseudonymCases = {
    {"LimitsIsAScalar",
     dlp("  limits: on\n"),
     {"policy.yaml:2:11: dlp.limits: expected a mapping, got 'on'"}},
    {"LimitsUnknownKey",
     dlp("  limits: {max_findings: 10}\n"),
     {"policy.yaml:2:12: dlp.limits.max_findings: unknown key (expected one of: "
      "max_matches_per_pattern, on_limit)"}},
    {"MaxMatchesZero",
     dlp("  limits: {max_matches_per_pattern: 0}\n"),
     {"policy.yaml:2:37: dlp.limits.max_matches_per_pattern: must be > 0, got '0'"}},
    {"UnknownOnLimit",
     dlp("  limits: {on_limit: allow}\n"),
     {"policy.yaml:2:22: dlp.limits.on_limit: unknown on_limit 'allow' (expected one of: "
      "block-external, block)"}},
    {"PseudonymsUnknownKey",
     dlp("  pseudonyms: {restore_all: true}\n"),
     {"policy.yaml:2:16: dlp.pseudonyms.restore_all: unknown key (expected one of: restore)"}},
    {"UnknownRestoreScope",
     dlp("  pseudonyms: {restore: user_turns}\n"),
     {"policy.yaml:2:25: dlp.pseudonyms.restore: unknown restore 'user_turns' (expected one of: "
      "all, user-turns)"}},
};

const std::vector<ErrorCase> kDetectorCases = {
    {"IsASequence",
     dlp("  detectors: [email]\n"),
     {"policy.yaml:2:14: dlp.detectors: expected a mapping, got a sequence"}},
    {"UnknownWithASuggestion",
     detectors("    emial: {level: restricted}\n"),
     {"policy.yaml:3:5: dlp.detectors.emial: unknown detector 'emial'; did you mean 'email'?"}},
    {"UnknownWithoutASuggestion",
     detectors("    zzzzzz: {}\n"),
     {"policy.yaml:3:5: dlp.detectors.zzzzzz: unknown detector 'zzzzzz'; see the README's "
      "detector table"}},
    {"CustomIsNotASettingGroup",
     detectors("    custom: {}\n"),
     {"policy.yaml:3:5: dlp.detectors.custom: unknown detector 'custom'; see the README's "
      "detector table"}},
    {"UnknownStillHasItsSettingsChecked",
     detectors("    emial: {level: secret}\n"),
     {"policy.yaml:3:5: dlp.detectors.emial: unknown detector 'emial'; did you mean 'email'?",
      "policy.yaml:3:20: dlp.detectors.emial.level: unknown sensitivity level 'secret' " +
          std::string(kLevels)}},
    {"GroupsAndIdsLoad",
     detectors("    all: {level: restricted}\n    pii: {enabled: false}\n    secrets: {level: "
               "confidential}\n    injection: {enabled: true}\n    secret.jwt: {enabled: false}\n"
               "    person_name: {enabled: true, level: confidential}\n    email: {}\n"),
     {}},
    {"SettingUnknownKey",
     detectors("    email: {levle: restricted}\n"),
     {"policy.yaml:3:13: dlp.detectors.email.levle: unknown key (expected one of: enabled, "
      "level)"}},
    {"SettingIsNull",
     detectors("    email:\n"),
     {"policy.yaml:3:5: dlp.detectors.email: expected a mapping, got null"}},
    {"SettingIsAScalar",
     detectors("    email: restricted\n"),
     {"policy.yaml:3:12: dlp.detectors.email: expected a mapping, got 'restricted'"}},
    {"EnabledIsNotABoolean",
     detectors("    email: {enabled: yes}\n"),
     {"policy.yaml:3:22: dlp.detectors.email.enabled: expected true or false, got 'yes'"}},
    {"UnknownLevel",
     detectors("    email: {level: secret}\n"),
     {"policy.yaml:3:20: dlp.detectors.email.level: unknown sensitivity level 'secret' " +
      std::string(kLevels)}},
    {"LevelIsACondition",
     detectors("    email: {level: '>= internal'}\n"),
     {"policy.yaml:3:20: dlp.detectors.email.level: unknown sensitivity level '>= internal' " +
      std::string(kLevels)}},
    {"EmptyLevel",
     detectors("    email: {level: ''}\n"),
     {"policy.yaml:3:20: dlp.detectors.email.level: must not be empty"}},
    {"DuplicateDetector",
     detectors("    email: {}\n    email: {enabled: false}\n"),
     {"policy.yaml:4:5: dlp.detectors.email: duplicate key (first at line 3)"}},
};

const std::vector<ErrorCase> kCustomCases = {
    {"IsAMapping",
     dlp("  custom: {a: 1}\n"),
     {"policy.yaml:2:11: dlp.custom: expected a sequence, got a mapping"}},
    {"ItemIsAScalar",
     custom("    - customer-id\n"),
     {"policy.yaml:3:7: dlp.custom[0]: expected a mapping, got 'customer-id'"}},
    {"WithoutName",
     custom("    - pattern: x\n"),
     {"policy.yaml:3:7: dlp.custom[0]: missing required key 'name'"}},
    {"InvalidName",
     custom("    - {name: 'a b', pattern: x}\n"),
     {"policy.yaml:3:14: dlp.custom[0].name: invalid name 'a b' (use letters, digits, '.', '_' "
      "and '-')"}},
    {"DuplicateName",
     custom("    - {name: x, pattern: a}\n    - {name: x, pattern: b}\n"),
     {"policy.yaml:4:14: dlp.custom[1].name: duplicate custom rule name 'x' (first at line 3)"}},
    {"NamedLikeABuiltin",
     custom("    - {name: email, pattern: a}\n"),
     {"policy.yaml:3:14: dlp.custom[0].name: 'email' is a built-in detector id; name the rule "
      "differently (or tune it under dlp.detectors)"}},
    {"NamedLikeAGroup",
     custom("    - {name: custom, pattern: a}\n    - {name: all, pattern: b}\n"),
     {"policy.yaml:3:14: dlp.custom[0].name: 'custom' is a detector group; name the rule "
      "differently",
      "policy.yaml:4:14: dlp.custom[1].name: 'all' is a detector group; name the rule "
      "differently"}},
    {"BothPatternAndKeywords",
     custom("    - {name: x, pattern: a, keywords: [b]}\n"),
     {"policy.yaml:3:7: dlp.custom[0]: set exactly one of 'pattern' or 'keywords', not both"}},
    {"NeitherPatternNorKeywords",
     custom("    - {name: x, level: restricted}\n"),
     {"policy.yaml:3:7: dlp.custom[0]: missing required key 'pattern' or 'keywords'"}},
    {"InvalidPattern",
     custom("    - {name: a, pattern: x}\n    - name: customer-id\n      pattern: "
            "'\\bCUST-(\\d{8}\\b'\n"),
     {"policy.yaml:5:16: dlp.custom[1].pattern: invalid RE2 pattern: missing ): "
      "\\bCUST-(\\d{8}\\b"}},
    {"EmptyPattern",
     custom("    - {name: x, pattern: ''}\n"),
     {"policy.yaml:3:26: dlp.custom[0].pattern: must not be empty"}},
    {"PatternIsASequence",
     custom("    - {name: x, pattern: [a]}\n"),
     {"policy.yaml:3:26: dlp.custom[0].pattern: expected a string, got a sequence"}},
    {"EmptyKeywords",
     custom("    - {name: x, keywords: []}\n"),
     {"policy.yaml:3:27: dlp.custom[0].keywords: must not be empty"}},
    {"BlankKeyword",
     custom("    - {name: x, keywords: [falcon, ' ']}\n"),
     {"policy.yaml:3:36: dlp.custom[0].keywords[1]: must not be empty"}},
    {"KeywordsIsAScalar",
     custom("    - {name: x, keywords: falcon}\n"),
     {"policy.yaml:3:27: dlp.custom[0].keywords: expected a sequence, got 'falcon'"}},
    {"KeywordIsNotAString",
     custom("    - {name: x, keywords: [[a]]}\n"),
     {"policy.yaml:3:28: dlp.custom[0].keywords[0]: expected a string, got a sequence"}},
    {"UnknownLevel",
     custom("    - {name: x, pattern: a, level: secret}\n"),
     {"policy.yaml:3:36: dlp.custom[0].level: unknown sensitivity level 'secret' " +
      std::string(kLevels)}},
    {"WholeWordsWithAPattern",
     custom("    - {name: x, pattern: a, whole_words: false}\n"),
     {"policy.yaml:3:42: dlp.custom[0].whole_words: only applies to keywords (write \\b in the "
      "pattern instead)"}},
    {"CaseInsensitiveIsNotABoolean",
     custom("    - {name: x, pattern: a, case_insensitive: 1}\n"),
     {"policy.yaml:3:47: dlp.custom[0].case_insensitive: expected true or false, got '1'"}},
    {"MaxMatchBytesZero",
     custom("    - {name: x, pattern: a, max_match_bytes: 0}\n"),
     {"policy.yaml:3:46: dlp.custom[0].max_match_bytes: must be > 0, got '0'"}},
    {"MaxMatchBytesNegative",
     custom("    - {name: x, pattern: a, max_match_bytes: -1}\n"),
     {"policy.yaml:3:46: dlp.custom[0].max_match_bytes: expected a non-negative integer, got "
      "'-1'"}},
    {"UnknownKey",
     custom("    - {name: x, keyword: [a]}\n"),
     {"policy.yaml:3:7: dlp.custom[0]: missing required key 'pattern' or 'keywords'",
      "policy.yaml:3:17: dlp.custom[0].keyword: unknown key (expected one of: name, pattern, "
      "keywords, level, case_insensitive, whole_words, max_match_bytes)"}},
    {"KeywordRuleLoads",
     custom("    - {name: codenames, keywords: [falcon, blue bird], case_insensitive: true, "
            "whole_words: false, max_match_bytes: 64, level: restricted}\n"),
     {}},
};

const std::vector<ErrorCase> kActionCases = {
    {"IsAMapping",
     dlp("  actions: {a: 1}\n"),
     {"policy.yaml:2:12: dlp.actions: expected a sequence, got a mapping"}},
    {"ItemIsAScalar",
     actions("    - block\n"),
     {"policy.yaml:3:7: dlp.actions[0]: expected a mapping, got 'block'"}},
    {"WithoutName",
     actions("    - {action: block}\n"),
     {"policy.yaml:3:7: dlp.actions[0]: missing required key 'name'"}},
    {"WithoutAction",
     actions("    - {name: r}\n"),
     {"policy.yaml:3:7: dlp.actions[0]: missing required key 'action'"}},
    {"InvalidName",
     actions("    - {name: 'r 1', action: block}\n"),
     {"policy.yaml:3:14: dlp.actions[0].name: invalid name 'r 1' (use letters, digits, '.', '_' "
      "and '-')"}},
    {"DuplicateName",
     actions("    - {name: r, action: block}\n    - {name: r, action: allow}\n"),
     {"policy.yaml:4:14: dlp.actions[1].name: duplicate rule name 'r' (first at line 3)"}},
    {"UnknownKey",
     actions("    - {name: r, when: x, action: block}\n"),
     {"policy.yaml:3:17: dlp.actions[0].when: unknown key (expected one of: name, detectors, "
      "level, destination, action)"}},
    {"UnknownAction",
     actions("    - {name: r, action: deny}\n"),
     {"policy.yaml:3:25: dlp.actions[0].action: unknown action 'deny' (expected one of: allow, "
      "redact, mask, pseudonymize, block)"}},
    {"UnknownDestination",
     actions("    - {name: r, destination: cloud, action: block}\n"),
     {"policy.yaml:3:30: dlp.actions[0].destination: unknown destination 'cloud' (expected one "
      "of: self-hosted, external)"}},
    {"UnknownLevel",
     actions("    - {name: r, level: '>= secret', action: block}\n"),
     {"policy.yaml:3:24: dlp.actions[0].level: unknown sensitivity level 'secret' (levels: "
      "public, internal, confidential, restricted; a condition is a level, optionally after >=, "
      ">, <= or <)"}},
    {"EmptyLevel",
     actions("    - {name: r, level: '', action: block}\n"),
     {"policy.yaml:3:24: dlp.actions[0].level: must not be empty"}},
    {"DetectorsEmpty",
     actions("    - {name: r, detectors: [], action: block}\n"),
     {"policy.yaml:3:28: dlp.actions[0].detectors: must not be empty (omit 'detectors' to match "
      "every detector)"}},
    {"DetectorsIsAScalar",
     actions("    - {name: r, detectors: secrets, action: block}\n"),
     {"policy.yaml:3:28: dlp.actions[0].detectors: expected a sequence, got 'secrets'"}},
    {"DetectorIsNotAString",
     actions("    - {name: r, detectors: [{a: 1}], action: block}\n"),
     {"policy.yaml:3:29: dlp.actions[0].detectors[0]: expected a string, got a mapping"}},
    {"UnknownDetectorWithASuggestion",
     actions("    - {name: r, detectors: [secret], action: block}\n"),
     {"policy.yaml:3:29: dlp.actions[0].detectors[0]: unknown detector 'secret'; did you mean "
      "'secrets'?"}},
    {"AllIsNotAGroupHere",
     actions("    - {name: r, detectors: [all], action: block}\n"),
     {"policy.yaml:3:29: dlp.actions[0].detectors[0]: unknown detector 'all' (omit 'detectors' "
      "to match every detector)"}},
    {"CustomRuleNameTypo",
     dlp("  actions:\n    - {name: r, detectors: [custmer-id], action: block}\n  custom:\n    - "
         "{name: customer-id, pattern: 'CUST-\\d{8}'}\n"),
     {"policy.yaml:3:29: dlp.actions[0].detectors[0]: unknown detector 'custmer-id'; did you "
      "mean 'customer-id'?"}},
    {"GroupsIdsAndCustomRulesDeclaredLaterLoad",
     dlp("  actions:\n    - name: r\n      detectors: [pii, secrets, injection, custom, email, "
         "person_name, secret.jwt, customer-id]\n      level: '<= confidential'\n      "
         "destination: self-hosted\n      action: mask\n  custom:\n    - {name: customer-id, "
         "pattern: 'CUST-\\d{8}'}\n"),
     {}},
    {"AnInvalidCustomRuleNameIsReportedOnce",
     dlp("  custom:\n    - {name: 'a b', pattern: x}\n  actions:\n    - {name: r, detectors: ['a "
         "b'], action: block}\n"),
     {"policy.yaml:3:14: dlp.custom[0].name: invalid name 'a b' (use letters, digits, '.', '_' "
      "and '-')"}},
    {"EmptyListLoads", dlp("  actions: []\n"), {}},
};

const std::vector<ErrorCase> kResponseCases = {
    {"IsAScalar",
     dlp("  responses: true\n"),
     {"policy.yaml:2:14: dlp.responses: expected a mapping, got 'true'"}},
    {"UnknownKey",
     dlp("  responses: {scan: true, block: true}\n"),
     {"policy.yaml:2:27: dlp.responses.block: unknown key (expected one of: scan, actions)"}},
    {"ScanIsNotABoolean",
     dlp("  responses: {scan: always}\n"),
     {"policy.yaml:2:21: dlp.responses.scan: expected true or false, got 'always'"}},
    {"Block",
     responses("      - {name: r, action: block}\n"),
     {"policy.yaml:4:27: dlp.responses.actions[0].action: a response cannot be blocked "
      "(streamed answers are already on their way); use redact"}},
    {"Pseudonymize",
     responses("      - {name: r, action: pseudonymize}\n"),
     {"policy.yaml:4:27: dlp.responses.actions[0].action: pseudonyms in answers could not be "
      "restored; use redact or mask"}},
    {"Destination",
     responses("      - {name: r, destination: external, action: redact}\n"),
     {"policy.yaml:4:19: dlp.responses.actions[0].destination: unknown key (expected one of: "
      "name, detectors, level, action)"}},
    {"DuplicateName",
     responses("      - {name: r, action: redact}\n      - {name: r, action: mask}\n"),
     {"policy.yaml:5:16: dlp.responses.actions[1].name: duplicate rule name 'r' (first at line "
      "4)"}},
    {"UnknownDetector",
     responses("      - {name: r, detectors: [emal], action: mask}\n"),
     {"policy.yaml:4:31: dlp.responses.actions[0].detectors[0]: unknown detector 'emal'; did you "
      "mean 'email'?"}},
    {"NamesMayRepeatAcrossTheTwoLists",
     dlp("  actions: [{name: r, action: block}]\n  responses:\n    actions: [{name: r, action: "
         "redact}]\n"),
     {}},
};

INSTANTIATE_TEST_SUITE_P(Sensitivity, ConfigErrorTest, testing::ValuesIn(kSensitivityCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(DefaultLevels, ConfigErrorTest, testing::ValuesIn(kDefaultLevelCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(Dlp, ConfigErrorTest, testing::ValuesIn(kDlpCases), errorCaseName);
INSTANTIATE_TEST_SUITE_P(DlpPhone, ConfigErrorTest, testing::ValuesIn(kPhoneCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(DlpEvasion, ConfigErrorTest, testing::ValuesIn(kEvasionCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(DlpLimits, ConfigErrorTest, testing::ValuesIn(kLimitAndPseudonymCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(DlpDetectors, ConfigErrorTest, testing::ValuesIn(kDetectorCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(DlpCustom, ConfigErrorTest, testing::ValuesIn(kCustomCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(DlpActions, ConfigErrorTest, testing::ValuesIn(kActionCases),
                         errorCaseName);
INSTANTIATE_TEST_SUITE_P(DlpResponses, ConfigErrorTest, testing::ValuesIn(kResponseCases),
                         errorCaseName);

// The README's example, in full, with every key set and `sensitivity` after `dlp`.
constexpr std::string_view kFullDlp = R"(dlp:
  default_pack: false
  detectors:
    credit_card: {level: restricted}
    secrets:     {level: restricted}
    person_name: {enabled: true, level: secret}
    secret.jwt:  {enabled: false}
  custom:
    - name: customer-id
      pattern: '\bCUST-\d{8}\b'
      level: confidential
    - name: codenames
      keywords: [falcon, blue bird]
      case_insensitive: true
      whole_words: false
      max_match_bytes: 64
  allow_patterns: ['AKIAIOSFODNN7EXAMPLE', 'sk-test-\w+']
  evasion: {fold_unicode: false, strip_invisible: false, decode_base64: false, decode_hex: false,
            decode_url: false, min_blob_chars: 24, max_blob_chars: 4096, max_decoded_bytes: 64KiB}
  generic_secret_min_entropy: 3.5
  injection_threshold: 1.5
  stream_window_bytes: 4KiB
  actions:
    - name: secrets-never-leave
      detectors: [secrets, customer-id]
      level: ">= restricted"
      destination: external
      action: block
    - name: mask-at-home
      destination: self-hosted
      action: mask
    - {name: pseudonymize-the-rest, level: confidential, action: pseudonymize}
  responses:
    scan: false
    actions:
      - {name: no-secrets-back, detectors: [secrets], action: redact}
      - {name: mask-pii, detectors: [pii, codenames], level: "< secret", action: mask}
sensitivity:
  levels: [public, internal, confidential, restricted, secret]
)";

std::vector<std::string> errorStrings(const std::expected<Config, ConfigErrors>& loaded) {
  std::vector<std::string> out;
  if (!loaded) {
    for (const ConfigError& error : loaded.error()) {
      out.push_back(error.str());
    }
  }
  return out;
}

TEST(DlpConfigTest, DecodesTheLevelsAndEngineSettingsOfAFullSection) {
  const auto loaded = loadConfigString(withCatalog(kFullDlp), "full.yaml");
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  EXPECT_EQ(
      loaded->dlp_policy.levels.names(),
      (std::vector<std::string>{"public", "internal", "confidential", "restricted", "secret"}));
  const policies::DlpConfig& dlp = loaded->dlp;
  EXPECT_FALSE(dlp.default_pack);
  ASSERT_EQ(dlp.detectors.size(), 4u);  // in file order: later settings override earlier ones
  EXPECT_EQ(dlp.detectors[0].id, "credit_card");
  EXPECT_TRUE(dlp.detectors[0].enabled);
  EXPECT_EQ(dlp.detectors[0].level, "restricted");
  EXPECT_EQ(dlp.detectors[1].id, "secrets");
  EXPECT_EQ(dlp.detectors[2].id, "person_name");
  EXPECT_TRUE(dlp.detectors[2].enabled);
  EXPECT_EQ(dlp.detectors[2].level, "secret");
  EXPECT_EQ(dlp.detectors[3].id, "secret.jwt");
  EXPECT_FALSE(dlp.detectors[3].enabled);
  EXPECT_EQ(dlp.detectors[3].level, "");

  ASSERT_EQ(dlp.custom.size(), 2u);
  const policies::CustomRule& pattern = dlp.custom[0];
  EXPECT_EQ(pattern.name, "customer-id");
  EXPECT_EQ(pattern.pattern, R"(\bCUST-\d{8}\b)");
  EXPECT_TRUE(pattern.keywords.empty());
  EXPECT_EQ(pattern.level, "confidential");
  EXPECT_FALSE(pattern.case_insensitive);
  EXPECT_TRUE(pattern.whole_words);
  EXPECT_EQ(pattern.max_match_bytes, policies::CustomRule().max_match_bytes);
  const policies::CustomRule& keywords = dlp.custom[1];
  EXPECT_EQ(keywords.name, "codenames");
  EXPECT_EQ(keywords.pattern, "");
  EXPECT_EQ(keywords.keywords, (std::vector<std::string>{"falcon", "blue bird"}));
  EXPECT_EQ(keywords.level, "confidential");  // the struct's default
  EXPECT_TRUE(keywords.case_insensitive);
  EXPECT_FALSE(keywords.whole_words);
  EXPECT_EQ(keywords.max_match_bytes, 64u);

  EXPECT_EQ(dlp.allow_patterns,
            (std::vector<std::string>{"AKIAIOSFODNN7EXAMPLE", R"(sk-test-\w+)"}));
  EXPECT_FALSE(dlp.evasion.fold_unicode);
  EXPECT_FALSE(dlp.evasion.strip_invisible);
  EXPECT_FALSE(dlp.evasion.decode_base64);
  EXPECT_FALSE(dlp.evasion.decode_hex);
  EXPECT_FALSE(dlp.evasion.decode_url);
  EXPECT_EQ(dlp.evasion.min_blob_chars, 24u);
  EXPECT_EQ(dlp.evasion.max_blob_chars, 4096u);
  EXPECT_EQ(dlp.evasion.max_decoded_bytes, 64u * 1024);
  EXPECT_EQ(dlp.generic_secret_min_entropy, 3.5);
  EXPECT_EQ(dlp.injection_threshold, 1.5);
  EXPECT_EQ(dlp.stream_window_bytes, 4096u);
}

TEST(DlpConfigTest, DecodesTheActionRulesOfAFullSectionInFileOrder) {
  const auto loaded = loadConfigString(withCatalog(kFullDlp), "full.yaml");
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  const policies::DlpPolicySpec& policy = loaded->dlp_policy;
  ASSERT_EQ(policy.request_rules.size(), 3u);
  const auto& block = policy.request_rules[0];
  EXPECT_EQ(block.name, "secrets-never-leave");
  EXPECT_EQ(block.detectors, (std::vector<std::string>{"secrets", "customer-id"}));
  EXPECT_EQ(block.level, ">= restricted");
  EXPECT_EQ(block.destination, Location::External);
  EXPECT_EQ(block.action, PolicyAction::Block);
  const auto& mask = policy.request_rules[1];
  EXPECT_EQ(mask.name, "mask-at-home");
  EXPECT_TRUE(mask.detectors.empty());
  EXPECT_EQ(mask.level, "");
  EXPECT_EQ(mask.destination, Location::SelfHosted);
  EXPECT_EQ(mask.action, PolicyAction::Mask);
  const auto& rest = policy.request_rules[2];
  EXPECT_EQ(rest.name, "pseudonymize-the-rest");
  EXPECT_EQ(rest.level, "confidential");
  EXPECT_EQ(rest.destination, std::nullopt);
  EXPECT_EQ(rest.action, PolicyAction::Pseudonymize);

  EXPECT_FALSE(policy.scan_responses);
  ASSERT_EQ(policy.response_rules.size(), 2u);
  EXPECT_EQ(policy.response_rules[0].name, "no-secrets-back");
  EXPECT_EQ(policy.response_rules[0].detectors, (std::vector<std::string>{"secrets"}));
  EXPECT_EQ(policy.response_rules[0].action, PolicyAction::Redact);
  EXPECT_EQ(policy.response_rules[1].name, "mask-pii");
  EXPECT_EQ(policy.response_rules[1].detectors, (std::vector<std::string>{"pii", "codenames"}));
  EXPECT_EQ(policy.response_rules[1].level, "< secret");
  EXPECT_EQ(policy.response_rules[1].destination, std::nullopt);
  EXPECT_EQ(policy.response_rules[1].action, PolicyAction::Mask);
}

void expectSameRules(const std::vector<policies::DlpActionRuleSpec>& actual,
                     const std::vector<policies::DlpActionRuleSpec>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].name, expected[i].name);
    EXPECT_EQ(actual[i].detectors, expected[i].detectors);
    EXPECT_EQ(actual[i].level, expected[i].level);
    EXPECT_EQ(actual[i].destination, expected[i].destination);
    EXPECT_EQ(actual[i].action, expected[i].action);
  }
}

void expectDefaultDlp(const Config& config) {
  const policies::DlpConfig defaults;
  const policies::DlpConfig& dlp = config.dlp;
  EXPECT_EQ(dlp.default_pack, defaults.default_pack);
  EXPECT_TRUE(dlp.detectors.empty());
  EXPECT_TRUE(dlp.custom.empty());
  EXPECT_TRUE(dlp.allow_patterns.empty());
  EXPECT_EQ(dlp.phone.regions, defaults.phone.regions);
  EXPECT_EQ(dlp.evasion.fold_unicode, defaults.evasion.fold_unicode);
  EXPECT_EQ(dlp.evasion.strip_invisible, defaults.evasion.strip_invisible);
  EXPECT_EQ(dlp.evasion.decode_base64, defaults.evasion.decode_base64);
  EXPECT_EQ(dlp.evasion.decode_hex, defaults.evasion.decode_hex);
  EXPECT_EQ(dlp.evasion.decode_url, defaults.evasion.decode_url);
  EXPECT_EQ(dlp.evasion.min_blob_chars, defaults.evasion.min_blob_chars);
  EXPECT_EQ(dlp.evasion.max_blob_chars, defaults.evasion.max_blob_chars);
  EXPECT_EQ(dlp.evasion.max_decoded_bytes, defaults.evasion.max_decoded_bytes);
  EXPECT_EQ(dlp.generic_secret_min_entropy, defaults.generic_secret_min_entropy);
  EXPECT_EQ(dlp.injection_threshold, defaults.injection_threshold);
  EXPECT_EQ(dlp.stream_window_bytes, defaults.stream_window_bytes);

  const policies::DlpPolicySpec& policy = config.dlp_policy;
  EXPECT_EQ(policy.levels.names(), SensitivityLevels().names());
  EXPECT_TRUE(policy.scan_responses);
  EXPECT_EQ(policy.on_limit, policies::LimitAction::BlockExternal);
  EXPECT_EQ(policy.restore, policies::RestoreScope::All);
  EXPECT_EQ(config.dlp.max_matches_per_pattern, 65536u);
  expectSameRules(policy.request_rules, policies::DlpPolicySpec::defaultRequestRules());
  expectSameRules(policy.response_rules, policies::DlpPolicySpec::defaultResponseRules());
}

TEST(DlpConfigTest, DecodesTheLimitsAndThePseudonymRestoreScope) {
  const auto loaded = loadConfigString(
      withCatalog("dlp:\n  limits: {max_matches_per_pattern: 1000, on_limit: block}\n"
                  "  pseudonyms: {restore: user-turns}\n"),
      "limits.yaml");
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  EXPECT_EQ(loaded->dlp.max_matches_per_pattern, 1000u);
  EXPECT_EQ(loaded->dlp_policy.on_limit, policies::LimitAction::Block);
  EXPECT_EQ(loaded->dlp_policy.restore, policies::RestoreScope::UserTurns);
}

TEST(DlpConfigTest, DecodesThePhoneRegionsInOrder) {
  const auto loaded =
      loadConfigString(withCatalog("dlp:\n  phone: {regions: [GB, IE, US]}\n"), "phone.yaml");
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  EXPECT_EQ(loaded->dlp.phone.regions, (std::vector<std::string>{"GB", "IE", "US"}));
}

TEST(DlpConfigTest, AbsentSectionsKeepTheStructDefaults) {
  const auto loaded = loadConfigString(std::string(kCatalog), "min.yaml");
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  expectDefaultDlp(*loaded);
}

TEST(DlpConfigTest, EmptySectionsKeepTheStructDefaults) {
  const auto loaded =
      loadConfigString(withCatalog("sensitivity: {}\ndlp: {responses: {}}\n"), "empty.yaml");
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  expectDefaultDlp(*loaded);
}

TEST(DlpConfigTest, ResponseActionsAloneLeaveTheDefaultRequestRules) {
  const auto loaded = loadConfigString(
      withCatalog("dlp:\n  responses:\n    actions: [{name: r, action: mask}]\n"), "r.yaml");
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  expectSameRules(loaded->dlp_policy.request_rules, policies::DlpPolicySpec::defaultRequestRules());
  ASSERT_EQ(loaded->dlp_policy.response_rules.size(), 1u);
  EXPECT_EQ(loaded->dlp_policy.response_rules[0].name, "r");
}

TEST(DlpConfigTest, AnEmptyActionListMeansNoRules) {
  const auto loaded =
      loadConfigString(dlp("  actions: []\n  responses: {actions: []}\n"), "e.yaml");
  ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(errorStrings(loaded));
  EXPECT_TRUE(loaded->dlp_policy.request_rules.empty());
  EXPECT_TRUE(loaded->dlp_policy.response_rules.empty());
}

TEST(DlpConfigTest, BuiltinDefaultsCoverEveryBuiltinIdInOrder) {
  std::vector<std::string> ids;
  for (const auto& builtin : policies::DlpEngine::builtinDetectors()) {
    ids.push_back(builtin.id);
    EXPECT_GE(SensitivityLevels().rank(builtin.default_level), 0) << builtin.id;
  }
  EXPECT_EQ(ids, policies::DlpEngine::builtinDetectorIds());
}

}  // namespace
}  // namespace sy::config
