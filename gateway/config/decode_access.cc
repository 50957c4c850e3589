// Decoders for the access sections: `auth` (anonymous traffic, pepper, admin keys), `teams`,
// `keys`, `limits` (output reservation, budget exhaustion) and `state` (where counters live).
// Key ids, hashes, tiers, levels, endpoints, expiry dates and Redis URLs are all checked here so
// that `switchyard lint` reports them at their line; KeyRing::create() checks them again.
// Messages never echo a hash field's value: a key pasted there by mistake must not reach logs.
#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "gateway/config/decode_sections.h"
#include "gateway/config/value_parsers.h"
#include "policies/keys.h"

namespace sy::config {
namespace {

using policies::AuthConfig;
using policies::KeySpec;
using policies::Limits;
using policies::Scopes;

// Names seen so far -> 1-based line of their first definition.
using NameIndex = std::map<std::string, int, std::less<>>;

// state.redis.sync: below 10 ms a replica's syncs cost Redis more than exact scripts would save;
// above 10 s the overshoot bound (what every replica admits in one interval) means little.
constexpr std::chrono::milliseconds kMinRedisSync{10};
constexpr std::chrono::milliseconds kMaxRedisSync{10000};

constexpr std::string_view kEndpoints[] = {"chat", "embeddings", "models", "responses"};
constexpr std::string_view kKeyIdRule =
    "use lowercase letters, digits and '-', starting with a letter or digit, at most 63 "
    "characters";

struct AccessContext {
  Decoder& decoder;
  std::set<std::string, std::less<>> tiers;  // declared tier names
  std::optional<SensitivityLevels> levels;   // nullopt: sensitivity.levels is invalid
  bool has_pepper = false;                   // auth.pepper_env is set
  bool auth_invalid = false;                 // auth or auth.anonymous was reported invalid
};

std::string levelList(const SensitivityLevels& levels) {
  std::string out;
  for (const std::string& name : levels.names()) {
    out += strCat(out.empty() ? "" : ", ", name);
  }
  return out;
}

void readLevel(AccessContext& ctx, const std::optional<Located>& value, std::string& out) {
  if (!ctx.decoder.readNonEmptyString(value, out) || !ctx.levels || ctx.levels->rank(out) >= 0) {
    return;
  }
  ctx.decoder.error(*value, strCat("unknown sensitivity level '", out,
                                   "' (levels: ", levelList(*ctx.levels), ")"));
}

void readTier(AccessContext& ctx, const std::optional<Located>& value, std::string& out) {
  if (ctx.decoder.readNonEmptyString(value, out) && !ctx.tiers.contains(out)) {
    ctx.decoder.error(*value, strCat("unknown tier '", out, "'"));
  }
}

// A key id: [a-z0-9][a-z0-9-]{0,62}. Invalid ids are still recorded in `ids` (no duplicate
// noise); a duplicate is reported at the second one.
void decodeKeyId(Decoder& decoder, const std::optional<Located>& value, NameIndex& ids,
                 std::string& out) {
  if (!decoder.readString(value, out)) {
    return;
  }
  if (out.starts_with(policies::kKeyPrefix)) {  // never echoed: a pasted key
    decoder.error(*value,
                  "this is an API key, not its id: remove it from the file, revoke it (it is "
                  "exposed) and use the id it was minted with (between 'syk_' and the next '_')");
  } else if (!policies::isValidKeyId(out)) {
    decoder.error(*value, strCat("invalid key id '", out, "' (", kKeyIdRule, ")"));
  }
  const auto [it, inserted] = ids.emplace(out, value->mark.line + 1);
  if (!inserted && policies::isValidKeyId(out)) {
    decoder.error(*value, strCat("duplicate key id '", out, "' (first at line ", it->second, ")"));
  }
}

void decodeHash(AccessContext& ctx, const std::optional<Located>& value, std::string& out) {
  if (!ctx.decoder.readNonEmptyString(value, out)) {
    return;
  }
  if (out.starts_with(policies::kKeyPrefix)) {
    ctx.decoder.error(*value,
                      "this is an API key, not its hash: remove it from the file, revoke it (it "
                      "is exposed) and paste the hash printed by `switchyard keys new`");
  } else if (!policies::isValidKeyHash(out)) {
    ctx.decoder.error(*value,
                      "invalid hash (expected \"sha256:<64 lowercase hex>\" or "
                      "\"hmac-sha256:<64 lowercase hex>\", as printed by `switchyard keys new`)");
  } else if (out.starts_with("hmac-sha256:") && !ctx.has_pepper) {
    ctx.decoder.error(*value,
                      "an hmac-sha256 hash needs auth.pepper_env (the environment variable that "
                      "holds the pepper)");
  }
}

// A list of distinct names, each accepted by `check` (which reports and returns false
// otherwise). An empty list is an error: omitting the key is how to allow everything.
template <class Check>
void decodeNameList(AccessContext& ctx, const Located& where, std::string_view what,
                    std::vector<std::string>& out, Check check) {
  const std::vector<Located> items = ctx.decoder.sequence(where);
  if (items.empty() && where.node.IsSequence()) {
    const std::string key = where.path.substr(where.path.rfind('.') + 1);
    ctx.decoder.error(where,
                      strCat("must not be empty (omit '", key, "' to allow every ", what, ")"));
  }
  for (const Located& item : items) {
    std::string name;
    if (!ctx.decoder.readNonEmptyString(item, name) || !check(item, name)) {
      continue;
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      ctx.decoder.error(item, strCat("duplicate ", what, " '", name, "'"));
      continue;
    }
    out.push_back(std::move(name));
  }
}

void decodeScopes(AccessContext& ctx, const Located& where, Scopes& out) {
  const Mapping allow(ctx.decoder, where,
                      {{"endpoints", "tiers", "models", "max_external_sensitivity", "max_tokens"}});
  if (const auto endpoints = allow.optional("endpoints")) {
    decodeNameList(ctx, *endpoints, "endpoint", out.endpoints,
                   [&](const Located& item, const std::string& name) {
                     if (std::find(std::begin(kEndpoints), std::end(kEndpoints), name) !=
                         std::end(kEndpoints)) {
                       return true;
                     }
                     ctx.decoder.error(item, strCat("unknown endpoint '", name,
                                                    "' (expected one of: chat, embeddings, "
                                                    "models, responses)"));
                     return false;
                   });
  }
  if (const auto tiers = allow.optional("tiers")) {
    decodeNameList(ctx, *tiers, "tier", out.tiers,
                   [&](const Located& item, const std::string& name) {
                     if (ctx.tiers.contains(name)) {
                       return true;
                     }
                     ctx.decoder.error(item, strCat("unknown tier '", name, "'"));
                     return false;
                   });
  }
  if (const auto models = allow.optional("models")) {
    decodeNameList(ctx, *models, "model", out.models,
                   [](const Located&, const std::string&) { return true; });
  }
  readLevel(ctx, allow.optional("max_external_sensitivity"), out.max_external_sensitivity);
  ctx.decoder.readInteger(allow.optional("max_tokens"), out.max_tokens, 1);
}

// A count > 0 that may exceed 32 bits (tokens per minute).
void readCount64(Decoder& decoder, const std::optional<Located>& value, uint64_t& out) {
  if (!value) {
    return;
  }
  const auto text = decoder.scalar(*value, "an integer");
  if (!text) {
    return;
  }
  const auto parsed = parseUnsigned(*text, std::numeric_limits<uint64_t>::max());
  if (!parsed) {
    decoder.error(*value, parsed.error());
  } else if (*parsed == 0) {
    decoder.error(*value, strCat("must be > 0, got '", *text, "' (omit it for no limit)"));
  } else {
    out = *parsed;
  }
}

// Zero would read as "nothing may be spent" but the struct means "no budget": refuse it.
void readBudget(Decoder& decoder, const std::optional<Located>& value, double& out) {
  double budget = 0;
  if (!decoder.readNumber(value, budget)) {
    return;
  }
  if (budget == 0) {
    decoder.error(*value, strCat("must be > 0, got '", value->node.Scalar(),
                                 "' (omit it for no budget; disabled: true stops a key)"));
    return;
  }
  out = budget;
}

void decodeLimits(Decoder& decoder, const Located& where, Limits& out) {
  const Mapping limits(decoder, where, {{"rpm", "tpm", "concurrency", "budget_usd"}});
  const auto count = [&](std::string_view key, uint32_t& field) {
    const auto value = limits.optional(key);
    if (value && value->node.IsScalar() && value->node.Scalar() == "0") {
      decoder.error(*value, "must be > 0, got '0' (omit it for no limit)");
      return;
    }
    decoder.readInteger(value, field, 1);
  };
  count("rpm", out.rpm);
  readCount64(decoder, limits.optional("tpm"), out.tpm);
  count("concurrency", out.concurrency);
  if (const auto budget = limits.optional("budget_usd")) {
    const Mapping budgets(decoder, *budget, {{"day", "month"}});
    readBudget(decoder, budgets.optional("day"), out.budget_day_usd);
    readBudget(decoder, budgets.optional("month"), out.budget_month_usd);
  }
}

void decodeAuth(AccessContext& ctx, const Located& where, AuthConfig& out) {
  const Mapping auth(ctx.decoder, where, {{"anonymous", "pepper_env", "admin_keys"}});
  ctx.auth_invalid =
      !auth.valid() || (auth.optional("anonymous") &&
                        !ctx.decoder.readBool(auth.optional("anonymous"), out.anonymous));
  const auto pepper = auth.optional("pepper_env");
  std::string name;
  if (ctx.decoder.readString(pepper, name)) {
    if (isValidEnvVarName(name)) {
      out.pepper_env = std::move(name);
      ctx.has_pepper = true;
    } else {  // never echoed: the pepper itself may have been pasted here
      ctx.decoder.error(*pepper,
                        "must be the name of an environment variable ([A-Za-z_][A-Za-z0-9_]*) "
                        "that holds the pepper, not the pepper itself");
    }
  }
  const auto admin_keys = auth.optional("admin_keys");
  if (!admin_keys) {
    return;
  }
  NameIndex ids;
  for (const Located& item : ctx.decoder.sequence(*admin_keys)) {
    const Mapping key(ctx.decoder, item, {{"id", "hash"}});
    if (!key.valid()) {
      continue;
    }
    policies::AdminKeySpec spec;
    decodeKeyId(ctx.decoder, key.required("id"), ids, spec.id);
    decodeHash(ctx, key.required("hash"), spec.hash);
    out.admin_keys.push_back(std::move(spec));
  }
}

void decodeTeams(AccessContext& ctx, const Located& where, std::vector<policies::TeamSpec>& out) {
  const Mapping teams(ctx.decoder, where, std::nullopt);
  for (const Mapping::Entry& entry : teams.entries()) {
    if (!isValidName(entry.key)) {
      ctx.decoder.error(entry.key_at, strCat("invalid name '", entry.key, "' (", kNameRule, ")"));
      continue;
    }
    policies::TeamSpec team{entry.key, {}, {}};
    const Mapping spec(ctx.decoder, entry.value, {{"allow", "limits"}});
    if (const auto allow = spec.optional("allow")) {
      decodeScopes(ctx, *allow, team.allow);
    }
    if (const auto limits = spec.optional("limits")) {
      decodeLimits(ctx.decoder, *limits, team.limits);
    }
    out.push_back(std::move(team));
  }
}

void decodeExpiry(Decoder& decoder, const std::optional<Located>& value,
                  std::optional<std::chrono::system_clock::time_point>& out) {
  if (!value) {
    return;
  }
  const auto text = decoder.scalar(*value, "a date (e.g. 2027-06-30) or a UTC timestamp");
  if (!text) {
    return;
  }
  const auto parsed = parseExpiry(*text);
  if (!parsed) {
    decoder.error(*value, parsed.error());
    return;
  }
  out = *parsed;
}

KeySpec decodeKey(AccessContext& ctx, const Located& where, NameIndex& ids) {
  const Mapping key(
      ctx.decoder, where,
      {{"id", "hash", "team", "allow", "limits", "sensitivity_floor", "expires", "disabled"}});
  KeySpec out;
  if (!key.valid()) {
    return out;
  }
  decodeKeyId(ctx.decoder, key.required("id"), ids, out.id);
  decodeHash(ctx, key.required("hash"), out.hash);
  ctx.decoder.readName(key.optional("team"), out.team);
  if (const auto allow = key.optional("allow")) {
    decodeScopes(ctx, *allow, out.allow);
  }
  if (const auto limits = key.optional("limits")) {
    decodeLimits(ctx.decoder, *limits, out.limits);
  }
  readLevel(ctx, key.optional("sensitivity_floor"), out.sensitivity_floor);
  decodeExpiry(ctx.decoder, key.optional("expires"), out.expires);
  ctx.decoder.readBool(key.optional("disabled"), out.disabled);
  return out;
}

void decodeLimitsSection(AccessContext& ctx, const Located& where, policies::LimitsConfig& out) {
  using OnBudgetExhausted = policies::LimitsConfig::OnBudgetExhausted;
  const Mapping limits(
      ctx.decoder, where,
      {{"default_max_tokens", "min_output_tokens", "on_budget_exhausted", "downgrade_tier"}});
  ctx.decoder.readInteger(limits.optional("default_max_tokens"), out.default_max_tokens, 1);
  ctx.decoder.readInteger(limits.optional("min_output_tokens"), out.min_output_tokens, 1);
  const auto action = limits.optional("on_budget_exhausted");
  const bool action_ok =
      ctx.decoder.readEnum(action, kOnBudgetExhausted, "action", out.on_budget_exhausted) ||
      !action;
  const auto tier = limits.optional("downgrade_tier");
  readTier(ctx, tier, out.downgrade_tier);
  if (!action_ok || !limits.valid()) {
    return;
  }
  const bool downgrade = out.on_budget_exhausted == OnBudgetExhausted::Downgrade;
  if (downgrade && !tier) {
    ctx.decoder.error(*action,
                      "downgrade needs limits.downgrade_tier (the tier that serves a team or key "
                      "whose budget is spent)");
  } else if (!downgrade && tier) {
    ctx.decoder.error(*tier, "only applies with on_budget_exhausted: downgrade");
  }
}

void decodeState(Decoder& decoder, const Located& where, policies::StateConfig& out) {
  const Mapping state(decoder, where, {{"store", "sqlite", "redis"}});
  decoder.readEnum(state.optional("store"), kStateStores, "store", out.store);
  if (const auto sqlite = state.optional("sqlite")) {
    const Mapping settings(decoder, *sqlite, {{"path"}});
    decoder.readNonEmptyString(settings.optional("path"), out.sqlite_path);
  }
  if (const auto redis = state.optional("redis")) {
    const Mapping settings(decoder, *redis, {{"url", "timeout", "fail", "sync"}});
    const auto url = settings.optional("url");
    std::string text;
    if (decoder.readNonEmptyString(url, text)) {
      if (const auto address = parseRedisUrl(text)) {
        out.redis_url = std::move(text);
      } else {
        decoder.error(*url, address.error());
      }
    }
    decoder.readDuration(settings.optional("timeout"), out.redis_timeout);
    decoder.readEnum(settings.optional("fail"), kFailModes, "fail mode", out.fail_open);
    if (const auto sync = settings.optional("sync")) {
      if (decoder.readDuration(sync, out.redis_sync) &&
          (out.redis_sync < kMinRedisSync || out.redis_sync > kMaxRedisSync)) {
        decoder.error(*sync, "must be between 10ms and 10s (or absent: exact, one script per "
                             "request)");
      }
    }
  }
}

}  // namespace

// The levels the file declares, as decodeDlp() kept them; nullopt when `sensitivity.levels` was
// reported invalid (decodeDlp then kept the defaults, and checking against those is noise).
std::optional<SensitivityLevels> declaredLevels(const std::optional<Located>& sensitivity,
                                                const SensitivityLevels& decoded) {
  if (!sensitivity) {
    return decoded;
  }
  const YAML::Node& node = sensitivity->node;
  if (!node.IsMap()) {
    return std::nullopt;
  }
  const YAML::Node levels = node["levels"];
  if (!levels || levels.IsNull()) {
    return decoded;
  }
  if (!levels.IsSequence() || levels.size() != decoded.names().size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < levels.size(); ++i) {
    if (!levels[i].IsScalar() || levels[i].Scalar() != decoded.names()[i]) {
      return std::nullopt;
    }
  }
  return decoded;
}

void decodeAccess(Decoder& decoder, const Located& root, const AccessSections& sections,
                  Config& config) {
  AccessContext ctx{decoder, {}, declaredLevels(sections.sensitivity, config.dlp_policy.levels)};
  for (const router::TierSpec& tier : config.catalog.tiers) {
    ctx.tiers.insert(tier.name);
  }
  if (sections.auth) {  // first: hashes need to know whether a pepper is configured
    decodeAuth(ctx, *sections.auth, config.auth);
  }
  if (sections.teams) {
    decodeTeams(ctx, *sections.teams, config.auth.teams);
  }
  if (sections.keys) {
    NameIndex ids;
    for (const Located& item : decoder.sequence(*sections.keys)) {
      config.auth.keys.push_back(decodeKey(ctx, item, ids));
    }
  }
  if (sections.limits) {
    decodeLimitsSection(ctx, *sections.limits, config.limits);
  }
  if (sections.state) {
    decodeState(decoder, *sections.state, config.state);
  }
  // The policy-level rule: a gateway that serves nobody is a mistake, and one that serves
  // everybody must say so.
  const bool keys_invalid = sections.keys && !sections.keys->node.IsSequence();
  if (config.auth.keys.empty() && !config.auth.anonymous && !keys_invalid && !ctx.auth_invalid) {
    decoder.error(sections.keys ? *sections.keys : root,
                  "no keys: add keys, or set auth.anonymous: true to serve anonymous traffic");
  }
}

}  // namespace sy::config
