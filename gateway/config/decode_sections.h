// Internal to gateway/config: the decoders of the policy file's sections, one per group. Each
// fills its struct from a located YAML node, overwriting only the fields the file sets (defaults
// live in the structs), and reports every problem to the Decoder. Not thread-safe (see Decoder).
#pragma once

#include <expected>
#include <map>
#include <optional>
#include <string>

#include "gateway/config/config.h"
#include "gateway/config/decoder.h"
#include "policies/dlp_config.h"
#include "policies/dlp_policy.h"
#include "router/catalog.h"

namespace sy::config {

// The whole file, or the reason it cannot be read (strerror's text).
std::expected<std::string, std::string> readFile(const std::string& path);

// The one document of `yaml`; a syntax error, an empty file or a second document is reported
// (as the only error) and gives nullopt.
std::optional<YAML::Node> parseDocument(Decoder& decoder, const std::string& yaml);

// The policy's root: the document of `yaml` (read from `path`) with every file its `include:`
// names (and theirs) merged in (policy_files.cc). Records each file in `sources`, whose line
// numbering the decoder's positions then use. nullopt when the main document cannot be parsed.
std::optional<YAML::Node> assemblePolicy(Decoder& decoder, const std::string& yaml,
                                         const std::string& path, SourceMap& sources);

void decodeServer(Decoder& decoder, const Located& where, ServerConfig& out);
void decodeAdmin(Decoder& decoder, const Located& where, AdminConfig& out);
// `resilience`: retries {max_attempts, backoff, max_backoff} and breaker {failures, open_for,
// max_open_for}.
void decodeResilience(Decoder& decoder, const Located& where, ResilienceSpec& out);

// backends and tiers are required (nullopt means absent: already reported by the caller's
// Mapping::required); models is optional. Cross-references are checked here. Records in
// `locations` the positions lint reports at: "backends[i]", "tiers.T", "tiers.T.backends[j]",
// "models.M" and "models.M.backend" / "models.M.tier".
using SourceLocations = std::map<std::string, SourcePosition, std::less<>>;
void recordLocation(SourceLocations& locations, const Located& where);
void decodeCatalog(Decoder& decoder, const std::optional<Located>& backends,
                   const std::optional<Located>& tiers, const std::optional<Located>& models,
                   router::CatalogSpec& out, SourceLocations& locations);

// `sensitivity` and `dlp`, either possibly absent (nullopt). Sensitivity is decoded first,
// whatever the key order, since every level in `dlp` (detector and custom rule levels, action rule
// conditions) must be one it declares; if `sensitivity.levels` is itself invalid, level checks are
// skipped rather than repeated at every use. When the file declares its own levels, the default
// levels of the enabled built-in detectors and the conditions of the default action rules are
// checked against them too (reported at `sensitivity.levels`). Fills the engine's settings
// (`engine`) and the policy (`policy`: levels, dlp.actions, dlp.responses); what the file leaves
// out keeps the struct defaults. RE2 patterns are compiled here only to report syntax errors in
// place; DlpEngine::create() compiles them for use. The outputs are meaningful only if no error
// was reported.
void decodeDlp(Decoder& decoder, const std::optional<Located>& sensitivity,
               const std::optional<Located>& dlp, policies::DlpConfig& engine,
               policies::DlpPolicySpec& policy);

// The access sections `auth`, `teams`, `keys`, `limits` and `state`, each possibly absent
// (nullopt), decoded into config.auth, config.limits and config.state. Runs after decodeCatalog
// and decodeDlp: allow.tiers and limits.downgrade_tier must name tiers of config.catalog, and
// allow.max_external_sensitivity and sensitivity_floor levels of config.dlp_policy.levels
// (level checks are skipped when `sensitivity` declared levels that were rejected). Also checks
// the policy-level rule: without keys, `auth.anonymous: true` is required (reported at `keys`
// when it is an empty list, else at `root`).
struct AccessSections {
  std::optional<Located> auth;
  std::optional<Located> teams;
  std::optional<Located> keys;
  std::optional<Located> limits;
  std::optional<Located> state;
  std::optional<Located> sensitivity;  // to tell the declared levels from rejected ones
};
void decodeAudit(Decoder& decoder, const Located& where, std::optional<AuditSpec>& out);

// A price mapping {input_per_mtok, output_per_mtok} (backends[].cost, accounting.baseline).
void decodeCost(Decoder& decoder, const Located& where, router::Cost& out);

// `accounting` (possibly absent): `baseline` is a price mapping {input_per_mtok, output_per_mtok}
// or the name of a backend whose price to use. Runs after decodeCatalog (the default baseline is
// the priciest external backend).
void decodeAccounting(Decoder& decoder, const std::optional<Located>& where,
                      const router::CatalogSpec& catalog, AccountingSpec& out);

// The levels the file declares; nullopt when `sensitivity.levels` was reported invalid (decodeDlp
// then kept the defaults, and checking names against those is noise). `sensitivity` is the
// section (nullopt: absent), `decoded` what decodeDlp kept.
std::optional<SensitivityLevels> declaredLevels(const std::optional<Located>& sensitivity,
                                                const SensitivityLevels& decoded);

void decodeAccess(Decoder& decoder, const Located& root, const AccessSections& sections,
                  Config& config);

// `difficulty` and `routing`, each possibly absent (nullopt), decoded into config.routing. Runs
// after decodeCatalog, decodeDlp and decodeAccess: rules name tiers, aliases and backends,
// sensitivity levels (checks skipped when `sensitivity` declared levels that were rejected),
// detectors and custom rules, teams and key ids (checks skipped when `teams` or `keys` was
// rejected as a whole). Fallbacks that would widen exposure are reported at the fallback tier.
struct RoutingSections {
  std::optional<Located> difficulty;
  std::optional<Located> routing;
  std::optional<Located> sensitivity;  // to tell the declared levels from rejected ones
  std::optional<Located> teams;
  std::optional<Located> keys;
};
void decodeRouting(Decoder& decoder, const RoutingSections& sections, Config& config);

// Records in config.locations where each rule of `routing` (possibly absent) and its `route`,
// `transform` and `fallback` items are: "routing[i]", "routing[i].route", "routing[i].transform",
// "routing[i].fallback[j]". Reports nothing (decodeRouting has).
void recordRoutingLocations(const std::optional<Located>& routing, Config& config);

// Records in config.locations where `where` (possibly absent) and everything under it are, by
// path ("keys[2]", "keys[2].allow.tiers[0]", "dlp.actions[1]"), for lint. Reports nothing.
void recordTreeLocations(const std::optional<Located>& where, Config& config);

// `responses`: {store, ttl, max_bytes_per_response (at most kMaxStoredResponseBytes),
// max_responses_per_key (at least 1), builtin_tools (allow | refuse)}.
void decodeResponses(Decoder& decoder, const Located& where, ResponsesSpec& out);

// `compliance`: {licenses: [license category...], regions: [region...]}, each a non-empty list
// without duplicates; absent = all allowed. Only `switchyard lint` reads it (lint.h).
void decodeCompliance(Decoder& decoder, const Located& where, ComplianceSpec& out);

}  // namespace sy::config
