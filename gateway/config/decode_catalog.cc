// Decoders for the catalog sections: `backends`, `tiers` and `models`, and their references.
#include <map>
#include <set>

#include "gateway/config/decode_sections.h"

#include "connectors/connector.h"
#include "gateway/config/value_parsers.h"

namespace sy::config {
namespace {

using router::BackendSpec;

// Names seen so far -> 1-based line of their first definition.
using NameIndex = std::map<std::string, int, std::less<>>;

constexpr std::string_view kReservedAuto = "'auto' is reserved (it selects the default tier)";

bool decodeUrl(Decoder& decoder, const std::optional<Located>& value, BackendSpec& out) {
  if (!decoder.readNonEmptyString(value, out.url)) {
    return false;
  }
  auto address = parseUpstreamUrl(out.url);
  if (!address) {
    decoder.error(*value, address.error());
    return false;
  }
  out.address = std::move(*address);
  return true;
}

// Never echoes the value: a secret pasted here by mistake must not reach the logs.
void decodeApiKeyEnv(Decoder& decoder, const std::optional<Located>& value, std::string& out) {
  std::string name;
  if (!decoder.readString(value, name)) {
    return;
  }
  if (!isValidEnvVarName(name)) {
    decoder.error(*value,
                  "must be the name of an environment variable ([A-Za-z_][A-Za-z0-9_]*) that "
                  "holds the key, not the key itself");
    return;
  }
  out = std::move(name);
}

}  // namespace

// Shared with decodeAccounting (the baseline price).
void decodeCost(Decoder& decoder, const Located& where, router::Cost& out) {
  const Mapping cost(decoder, where, {{"input_per_mtok", "output_per_mtok"}});
  decoder.readNumber(cost.optional("input_per_mtok"), out.input_per_mtok);
  decoder.readNumber(cost.optional("output_per_mtok"), out.output_per_mtok);
}

namespace {

void decodeTimeouts(Decoder& decoder, const Located& where, router::BackendTimeouts& out) {
  const Mapping timeouts(decoder, where, {{"connect", "first_byte", "idle"}});
  decoder.readDuration(timeouts.optional("connect"), out.connect);
  decoder.readDuration(timeouts.optional("first_byte"), out.first_byte);
  decoder.readDuration(timeouts.optional("idle"), out.idle);
}

// Reads the backend's name and records it in `names`, reporting duplicates. An invalid name is
// still recorded so that references to it do not add "unknown backend" noise.
void decodeBackendName(Decoder& decoder, const Mapping& backend, NameIndex& names,
                       std::string& out) {
  const auto value = backend.required("name");
  const bool valid = decoder.readName(value, out);
  if (!value || !value->node.IsScalar()) {
    return;
  }
  const std::string& name = value->node.Scalar();
  const auto [it, inserted] = names.emplace(name, value->mark.line + 1);
  if (valid && !inserted) {
    decoder.error(*value,
                  strCat("duplicate backend name '", name, "' (first at line ", it->second, ")"));
  }
}

BackendSpec decodeBackend(Decoder& decoder, const Located& where, NameIndex& names) {
  const Mapping backend(
      decoder, where,
      {{"name", "kind", "url", "model", "api_key_env", "location", "region", "license", "cost",
        "context_window", "ca_file", "timeouts", "max_idle_connections"}});
  BackendSpec out;
  if (!backend.valid()) {
    return out;
  }
  decodeBackendName(decoder, backend, names, out.name);
  const auto kind = backend.optional("kind");
  if (decoder.readEnum(kind, kBackendKinds, "kind", out.kind) &&
      !connectors::hasConnector(out.kind)) {
    decoder.error(*kind, strCat("kind '", toString(out.kind),
                                "' has no connector yet (only 'openai' is supported in this "
                                "release)"));
  }
  const bool url_ok = decodeUrl(decoder, backend.required("url"), out);
  decoder.readNonEmptyString(backend.required("model"), out.model);
  decodeApiKeyEnv(decoder, backend.optional("api_key_env"), out.api_key_env);
  decoder.readEnum(backend.optional("location"), kLocations, "location", out.location);
  decoder.readString(backend.optional("region"), out.region);
  decoder.readEnum(backend.optional("license"), kLicenses, "license", out.license);
  if (const auto cost = backend.optional("cost")) {
    decodeCost(decoder, *cost, out.cost);
  }
  decoder.readInteger(backend.optional("context_window"), out.context_window, 1);
  const auto ca_file = backend.optional("ca_file");
  if (decoder.readNonEmptyString(ca_file, out.ca_file) && url_ok && !out.address.tls) {
    decoder.error(*ca_file, "only valid with an https url");
  }
  if (const auto timeouts = backend.optional("timeouts")) {
    decodeTimeouts(decoder, *timeouts, out.timeouts);
  }
  decoder.readInteger(backend.optional("max_idle_connections"), out.max_idle_connections, 0);
  return out;
}

void decodeBackends(Decoder& decoder, const Located& where, NameIndex& names,
                    std::vector<BackendSpec>& out) {
  const std::vector<Located> items = decoder.sequence(where);
  if (items.empty() && where.node.IsSequence()) {
    decoder.error(where, "must not be empty");
  }
  for (const Located& item : items) {
    out.push_back(decodeBackend(decoder, item, names));
  }
}

// Checks a tier or alias name (the map key): charset and the reserved "auto".
bool checkKeyName(Decoder& decoder, const Mapping::Entry& entry, bool alias) {
  if (alias ? !isValidAliasName(entry.key) : !isValidName(entry.key)) {
    decoder.error(entry.key_at, strCat("invalid name '", entry.key, "' (",
                                       alias ? kAliasNameRule : kNameRule, ")"));
    return false;
  }
  if (entry.key == "auto") {
    decoder.error(entry.key_at, kReservedAuto);
    return false;
  }
  return true;
}

router::TierSpec decodeTier(Decoder& decoder, const Mapping::Entry& entry,
                            const NameIndex& backend_names) {
  router::TierSpec out{entry.key, {}};
  const Mapping tier(decoder, entry.value, {{"backends"}});
  const auto list = tier.required("backends");
  if (!list) {
    return out;
  }
  const std::vector<Located> items = decoder.sequence(*list);
  if (items.empty() && list->node.IsSequence()) {
    decoder.error(*list, "must not be empty");
  }
  for (const Located& item : items) {
    std::string name;
    if (!decoder.readString(item, name)) {
      continue;
    }
    if (!backend_names.contains(name)) {
      decoder.error(item, strCat("unknown backend '", name, "'"));
    } else if (std::find(out.backends.begin(), out.backends.end(), name) != out.backends.end()) {
      decoder.error(item, strCat("duplicate backend '", name, "' in this tier"));
    } else {
      out.backends.push_back(std::move(name));
    }
  }
  return out;
}

void decodeTiers(Decoder& decoder, const Located& where, const NameIndex& backend_names,
                 std::set<std::string, std::less<>>& tier_names,
                 std::vector<router::TierSpec>& out) {
  const Mapping tiers(decoder, where, std::nullopt);
  if (tiers.valid() && tiers.entries().empty()) {
    decoder.error(where, "must not be empty");
  }
  for (const Mapping::Entry& entry : tiers.entries()) {
    tier_names.insert(entry.key);
    if (checkKeyName(decoder, entry, /*alias=*/false)) {
      out.push_back(decodeTier(decoder, entry, backend_names));
    }
  }
}

void decodeAlias(Decoder& decoder, const Mapping::Entry& entry, const NameIndex& backend_names,
                 const std::set<std::string, std::less<>>& tier_names,
                 std::vector<router::ModelAliasSpec>& out) {
  const Mapping alias(decoder, entry.value, {{"backend", "tier"}});
  if (!alias.valid()) {
    return;
  }
  router::ModelAliasSpec spec{entry.key, {}, {}};
  const bool has_backend = alias.contains("backend");
  const bool has_tier = alias.contains("tier");
  if (has_backend == has_tier) {
    decoder.error(alias.where(), has_backend ? "set exactly one of 'backend' or 'tier', not both"
                                             : "missing required key 'backend' or 'tier'");
    return;
  }
  const auto target = alias.required(has_backend ? "backend" : "tier");
  std::string& name = has_backend ? spec.backend : spec.tier;
  if (!decoder.readString(target, name)) {
    return;
  }
  const bool known = has_backend ? backend_names.contains(name) : tier_names.contains(name);
  if (!known) {
    decoder.error(*target, strCat("unknown ", has_backend ? "backend" : "tier", " '", name, "'"));
    return;
  }
  out.push_back(std::move(spec));
}

void decodeModels(Decoder& decoder, const Located& where, const NameIndex& backend_names,
                  const std::set<std::string, std::less<>>& tier_names,
                  std::vector<router::ModelAliasSpec>& out) {
  const Mapping models(decoder, where, std::nullopt);
  for (const Mapping::Entry& entry : models.entries()) {
    if (!checkKeyName(decoder, entry, /*alias=*/true)) {
      continue;
    }
    if (tier_names.contains(entry.key)) {
      decoder.error(entry.key_at, strCat("alias '", entry.key, "' is already a tier name"));
      continue;
    }
    decodeAlias(decoder, entry, backend_names, tier_names, out);
  }
}

}  // namespace

void decodeCatalog(Decoder& decoder, const std::optional<Located>& backends,
                   const std::optional<Located>& tiers, const std::optional<Located>& models,
                   router::CatalogSpec& out) {
  NameIndex backend_names;
  std::set<std::string, std::less<>> tier_names;
  if (backends) {
    decodeBackends(decoder, *backends, backend_names, out.backends);
  }
  if (tiers) {
    decodeTiers(decoder, *tiers, backend_names, tier_names, out.tiers);
  }
  if (models) {
    decodeModels(decoder, *models, backend_names, tier_names, out.models);
  }
}

}  // namespace sy::config
