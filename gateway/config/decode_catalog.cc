// Decoders for the catalog sections: `backends`, `tiers` and `models`, and their references.
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <utility>

#include "gateway/config/decode_sections.h"

#include "connectors/connector.h"
#include "gateway/config/value_parsers.h"

namespace sy::config {
namespace {

using router::BackendSpec;
using sy::Capabilities;
using sy::HealthCheckSpec;
using router::Location;

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
  const Mapping cost(decoder, where,
                     {{"input_per_mtok", "output_per_mtok", "cached_input_per_mtok"}});
  decoder.readNumber(cost.optional("input_per_mtok"), out.input_per_mtok);
  decoder.readNumber(cost.optional("output_per_mtok"), out.output_per_mtok);
  if (const auto cached = cost.optional("cached_input_per_mtok")) {
    double price = 0;
    decoder.readNumber(cached, price);
    out.cached_input_per_mtok = price;
  }
}

void recordLocation(SourceLocations& locations, const Located& where) {
  const auto oneBased = [](int zero_based) { return zero_based < 0 ? 0 : zero_based + 1; };
  locations[where.path] = SourcePosition{oneBased(where.mark.line), oneBased(where.mark.column)};
}

namespace {

constexpr uint32_t kMaxWeight = 1000;

// `capabilities:` spellings, in documentation order.
constexpr std::array<std::pair<std::string_view, bool Capabilities::*>, 3> kCapabilities{{
    {"tools", &Capabilities::tools},
    {"vision", &Capabilities::vision},
    {"json_mode", &Capabilities::json_mode},
}};

// "10s" for whole seconds, else "1500ms": durations as a policy would spell them.
std::string formatDuration(std::chrono::milliseconds duration) {
  return duration.count() % 1000 == 0 ? strCat(duration.count() / 1000, "s")
                                      : strCat(duration.count(), "ms");
}

void decodeWeight(Decoder& decoder, const std::optional<Located>& value, uint32_t& out) {
  uint32_t weight = 0;
  if (!decoder.readInteger(value, weight, 1)) {
    return;
  }
  if (weight > kMaxWeight) {
    decoder.error(*value, strCat("must be <= ", kMaxWeight, ", got '", value->node.Scalar(), "'"));
    return;
  }
  out = weight;
}

// A list of capability names: exactly those are true. `[]` is a backend with none of them.
void decodeCapabilities(Decoder& decoder, const Located& where, Capabilities& out) {
  Capabilities listed{false, false, false};
  std::vector<bool Capabilities::*> seen;
  for (const Located& item : decoder.sequence(where)) {
    bool Capabilities::*field = nullptr;
    if (!decoder.readEnum(item, kCapabilities, "capability", field)) {
      continue;
    }
    if (std::find(seen.begin(), seen.end(), field) != seen.end()) {
      decoder.error(item, strCat("duplicate capability '", item.node.Scalar(), "'"));
      continue;
    }
    seen.push_back(field);
    listed.*field = true;
  }
  if (where.node.IsSequence()) {
    out = listed;
  }
}

// `health_check:` true, false, or {path, interval, timeout} (enabled). The defaults, set by the
// caller, depend on the backend's location (enabled) and kind (path).
void decodeHealthCheck(Decoder& decoder, const Located& where, HealthCheckSpec& out) {
  if (where.node.IsScalar()) {
    decoder.readBool(where, out.enabled);
    return;
  }
  if (!where.node.IsMap()) {
    decoder.error(where,
                  strCat("expected true, false or a mapping, got ", describeNode(where.node)));
    return;
  }
  const Mapping check(decoder, where, {{"path", "interval", "timeout"}});
  out.enabled = true;
  const auto path = check.optional("path");
  std::string text;
  if (decoder.readString(path, text)) {
    if (!text.starts_with('/')) {
      decoder.error(*path, strCat("must start with '/', got '", text, "'"));
    } else {
      out.path = std::move(text);
    }
  }
  const auto interval = check.optional("interval");
  std::chrono::milliseconds duration{0};
  bool interval_ok = !interval;
  if (decoder.readDuration(interval, duration)) {
    if (duration < std::chrono::seconds(1)) {
      decoder.error(*interval, strCat("must be at least 1s, got '", interval->node.Scalar(), "'"));
    } else {
      out.interval = duration;
      interval_ok = true;
    }
  }
  const auto timeout = check.optional("timeout");
  if (decoder.readDuration(timeout, duration)) {
    if (duration < std::chrono::milliseconds(100)) {
      decoder.error(*timeout, strCat("must be at least 100ms, got '", timeout->node.Scalar(), "'"));
    } else if (interval_ok && duration >= out.interval) {
      decoder.error(*timeout,
                    strCat("must be shorter than the interval (", formatDuration(out.interval),
                           "), got '", timeout->node.Scalar(), "'"));
    } else {
      out.timeout = duration;
    }
  } else if (!timeout && interval_ok && out.timeout >= out.interval) {
    decoder.error(*interval,
                  strCat("must be longer than the timeout (", formatDuration(out.timeout),
                         "), got '", interval->node.Scalar(), "'"));
  }
}

// `api:` spellings (chat, responses), in documentation order.
constexpr std::array<std::pair<std::string_view, bool sy::ServedApis::*>, 2> kApis{{
    {"chat", &sy::ServedApis::chat_completions},
    {"responses", &sy::ServedApis::responses},
}};

// `api:` one of kApis or a non-empty list of them: exactly those are served. Only the kinds that
// speak the OpenAI wire format through the OpenAI connector (openai, ollama) have a choice; the
// default (set by the caller) depends on the kind.
void decodeApis(Decoder& decoder, const Located& where, BackendKind kind, sy::ServedApis& out) {
  if (kind != BackendKind::OpenAi && kind != BackendKind::Ollama) {
    decoder.error(where, "only valid for kinds 'openai' and 'ollama'");
    return;
  }
  if (where.node.IsScalar()) {
    bool sy::ServedApis::*field = nullptr;
    if (decoder.readEnum(where, kApis, "api", field)) {
      out = sy::ServedApis{false, false};
      out.*field = true;
    }
    return;
  }
  if (!where.node.IsSequence()) {
    decoder.error(where, strCat("expected 'chat', 'responses' or a list of them, got ",
                                describeNode(where.node)));
    return;
  }
  const std::vector<Located> items = decoder.sequence(where);
  if (items.empty()) {
    decoder.error(where, "must not be empty");
    return;
  }
  sy::ServedApis listed{false, false};
  bool ok = true;
  for (const Located& item : items) {
    bool sy::ServedApis::*field = nullptr;
    if (!decoder.readEnum(item, kApis, "api", field)) {
      ok = false;
    } else if (listed.*field) {
      decoder.error(item, strCat("duplicate api '", item.node.Scalar(), "'"));
      ok = false;
    } else {
      listed.*field = true;
    }
  }
  if (ok) {
    out = listed;
  }
}

// An Azure OpenAI deployment name: it becomes a URL path segment, so only unreserved characters.
bool isValidDeploymentName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// Azure OpenAI's dated API versions: YYYY-MM-DD, optionally with a suffix ("-preview").
bool isValidAzureApiVersion(std::string_view version) {
  const auto digits = [&](size_t from, size_t count) {
    return std::all_of(version.begin() + from, version.begin() + from + count,
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  if (version.size() < 10 || !digits(0, 4) || version[4] != '-' || !digits(5, 2) ||
      version[7] != '-' || !digits(8, 2)) {
    return false;
  }
  const std::string_view suffix = version.substr(10);
  return suffix.empty() || (suffix.size() >= 2 && suffix.size() <= 32 && suffix[0] == '-' &&
                            std::all_of(suffix.begin() + 1, suffix.end(),
                                        [](char c) { return c >= 'a' && c <= 'z'; }));
}

// `deployment` and `api_version`: required for kind azure-openai, rejected for the other kinds
// (they would be silently ignored there).
void decodeAzureFields(Decoder& decoder, const Mapping& backend, BackendSpec& out) {
  if (out.kind != sy::BackendKind::AzureOpenAi) {
    for (std::string_view key : {"deployment", "api_version"}) {
      if (const auto value = backend.optional(key)) {
        decoder.error(*value, "only valid with kind azure-openai");
      }
    }
    return;
  }
  const auto deployment = backend.required("deployment");
  std::string text;
  if (decoder.readNonEmptyString(deployment, text)) {
    if (isValidDeploymentName(text)) {
      out.deployment = std::move(text);
    } else {
      decoder.error(*deployment, strCat("invalid deployment name '", text,
                                        "' (use 1-64 letters, digits, '.', '_' and '-', starting "
                                        "with a letter or digit)"));
    }
  }
  const auto api_version = backend.required("api_version");
  if (decoder.readNonEmptyString(api_version, text)) {
    if (isValidAzureApiVersion(text)) {
      out.api_version = std::move(text);
    } else {
      decoder.error(*api_version, strCat("invalid api_version '", text,
                                         "' (use a dated version such as 2024-10-21 or "
                                         "2025-01-01-preview)"));
    }
  }
}

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
      {{"name", "kind", "url", "model", "deployment", "api_version", "api_key_env", "location",
        "region", "license", "cost", "context_window", "ca_file", "timeouts",
        "max_idle_connections", "weight", "capabilities", "api", "health_check", "max_tokens"}});
  BackendSpec out;
  if (!backend.valid()) {
    return out;
  }
  decodeBackendName(decoder, backend, names, out.name);
  const auto kind = backend.optional("kind");
  const bool kind_read = decoder.readEnum(kind, kBackendKinds, "kind", out.kind);
  if (kind_read && !connectors::hasConnector(out.kind)) {
    decoder.error(*kind, strCat("kind '", toString(out.kind),
                                "' has no connector in this build"));
  }
  const bool url_ok = decodeUrl(decoder, backend.required("url"), out);
  decoder.readNonEmptyString(backend.required("model"), out.model);
  if (!kind || kind_read) {  // a misspelt kind would make every Azure field look misplaced
    decodeAzureFields(decoder, backend, out);
  }
  decodeApiKeyEnv(decoder, backend.optional("api_key_env"), out.api_key_env);
  if (out.kind == sy::BackendKind::AzureOpenAi) {
    out.location = Location::External;  // a third party's cloud unless the policy says otherwise
  }
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
  decodeWeight(decoder, backend.optional("weight"), out.weight);
  const auto max_tokens = backend.optional("max_tokens");
  if (decoder.readInteger(max_tokens, out.max_tokens, 1) && out.kind != BackendKind::Anthropic) {
    decoder.error(*max_tokens, "only valid for kind 'anthropic' (which requires max_tokens)");
  }
  // Anthropic has no JSON mode (the connector refuses response_format json_*): route such
  // requests elsewhere unless the policy says otherwise.
  out.capabilities.json_mode = out.kind != BackendKind::Anthropic;
  if (const auto capabilities = backend.optional("capabilities")) {
    decodeCapabilities(decoder, *capabilities, out.capabilities);
  }
  // OpenAI's API and vLLM serve the Responses API beside chat completions; Ollama's OpenAI-
  // compatible API is taken to serve chat only unless the policy says otherwise.
  out.apis.responses = out.kind == BackendKind::OpenAi;
  if (const auto apis = backend.optional("api"); apis && (!kind || kind_read)) {
    decodeApis(decoder, *apis, out.kind, out.apis);
  }
  // Anthropic's and Azure OpenAI's APIs have no health endpoint: their backends are checked only
  // when the policy says so (and an external backend is not checked by default).
  out.health.enabled = out.location == Location::SelfHosted && out.kind != BackendKind::Anthropic &&
                       out.kind != BackendKind::AzureOpenAi;
  out.health.path = defaultHealthPath(out.kind);
  if (const auto health = backend.optional("health_check")) {
    decodeHealthCheck(decoder, *health, out.health);
  }
  return out;
}

void decodeBackends(Decoder& decoder, const Located& where, NameIndex& names,
                    std::vector<BackendSpec>& out, SourceLocations& locations) {
  const std::vector<Located> items = decoder.sequence(where);
  if (items.empty() && where.node.IsSequence()) {
    decoder.error(where, "must not be empty");
  }
  for (const Located& item : items) {
    recordLocation(locations, item);
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
                            const NameIndex& backend_names, SourceLocations& locations) {
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
      recordLocation(locations, item);
      out.backends.push_back(std::move(name));
    }
  }
  return out;
}

void decodeTiers(Decoder& decoder, const Located& where, const NameIndex& backend_names,
                 std::set<std::string, std::less<>>& tier_names, std::vector<router::TierSpec>& out,
                 SourceLocations& locations) {
  const Mapping tiers(decoder, where, std::nullopt);
  if (tiers.valid() && tiers.entries().empty()) {
    decoder.error(where, "must not be empty");
  }
  for (const Mapping::Entry& entry : tiers.entries()) {
    tier_names.insert(entry.key);
    if (checkKeyName(decoder, entry, /*alias=*/false)) {
      recordLocation(locations, entry.key_at);
      out.push_back(decodeTier(decoder, entry, backend_names, locations));
    }
  }
}

void decodeAlias(Decoder& decoder, const Mapping::Entry& entry, const NameIndex& backend_names,
                 const std::set<std::string, std::less<>>& tier_names,
                 std::vector<router::ModelAliasSpec>& out, SourceLocations& locations) {
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
  recordLocation(locations, entry.key_at);
  recordLocation(locations, *target);
  out.push_back(std::move(spec));
}

void decodeModels(Decoder& decoder, const Located& where, const NameIndex& backend_names,
                  const std::set<std::string, std::less<>>& tier_names,
                  std::vector<router::ModelAliasSpec>& out, SourceLocations& locations) {
  const Mapping models(decoder, where, std::nullopt);
  for (const Mapping::Entry& entry : models.entries()) {
    if (!checkKeyName(decoder, entry, /*alias=*/true)) {
      continue;
    }
    if (tier_names.contains(entry.key)) {
      decoder.error(entry.key_at, strCat("alias '", entry.key, "' is already a tier name"));
      continue;
    }
    decodeAlias(decoder, entry, backend_names, tier_names, out, locations);
  }
}

}  // namespace

void decodeCatalog(Decoder& decoder, const std::optional<Located>& backends,
                   const std::optional<Located>& tiers, const std::optional<Located>& models,
                   router::CatalogSpec& out, SourceLocations& locations) {
  NameIndex backend_names;
  std::set<std::string, std::less<>> tier_names;
  if (backends) {
    decodeBackends(decoder, *backends, backend_names, out.backends, locations);
  }
  if (tiers) {
    decodeTiers(decoder, *tiers, backend_names, tier_names, out.tiers, locations);
  }
  if (models) {
    decodeModels(decoder, *models, backend_names, tier_names, out.models, locations);
  }
}

}  // namespace sy::config
