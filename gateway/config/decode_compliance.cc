// Decoder for `compliance` (what the policy's routes may reach, for `switchyard lint`), and the
// positions of the routing rules that lint reports at.
#include <algorithm>

#include "gateway/config/decode_sections.h"
#include "gateway/config/value_parsers.h"

namespace sy::config {
namespace {

// A non-empty list: an empty one would allow nothing, which is never what a policy means.
std::vector<Located> nonEmptyList(Decoder& decoder, const Located& where, std::string_view what) {
  std::vector<Located> items = decoder.sequence(where);
  if (items.empty() && where.node.IsSequence()) {
    decoder.error(where, strCat("must not be empty (omit it to allow every ", what, ")"));
  }
  return items;
}

void decodeLicenses(Decoder& decoder, const Located& where, std::vector<router::License>& out) {
  for (const Located& item : nonEmptyList(decoder, where, "license category")) {
    router::License license{};
    if (!decoder.readEnum(item, kLicenses, "license", license)) {
      continue;
    }
    if (std::find(out.begin(), out.end(), license) != out.end()) {
      decoder.error(item, strCat("duplicate license '", item.node.Scalar(), "'"));
      continue;
    }
    out.push_back(license);
  }
}

void decodeRegions(Decoder& decoder, const Located& where, std::vector<std::string>& out) {
  for (const Located& item : nonEmptyList(decoder, where, "region")) {
    std::string region;
    if (!decoder.readNonEmptyString(item, region)) {
      continue;
    }
    if (std::find(out.begin(), out.end(), region) != out.end()) {
      decoder.error(item, strCat("duplicate region '", region, "'"));
      continue;
    }
    out.push_back(std::move(region));
  }
}

// The value under `key` of a mapping node, located as decoders locate it (its key's mark when
// null); nullopt when absent.
std::optional<Located> child(const Located& where, std::string_view key) {
  for (const auto& pair : where.node) {
    if (pair.first.IsScalar() && pair.first.Scalar() == key) {
      const bool null = pair.second.IsNull() || pair.second.Mark().is_null();
      return Located{pair.second, strCat(where.path, ".", key),
                     null ? pair.first.Mark() : pair.second.Mark()};
    }
  }
  return std::nullopt;
}

}  // namespace

void decodeCompliance(Decoder& decoder, const Located& where, ComplianceSpec& out) {
  const Mapping compliance(decoder, where, {{"licenses", "regions"}});
  if (const auto licenses = compliance.optional("licenses")) {
    decodeLicenses(decoder, *licenses, out.licenses);
  }
  if (const auto regions = compliance.optional("regions")) {
    decodeRegions(decoder, *regions, out.regions);
  }
}

void recordRoutingLocations(const std::optional<Located>& routing, Config& config) {
  if (!routing || !routing->node.IsSequence()) {
    return;
  }
  size_t index = 0;
  for (const YAML::Node& item : routing->node) {
    const Located rule{item, strCat(routing->path, "[", index++, "]"),
                       item.Mark().is_null() ? routing->mark : item.Mark()};
    recordLocation(config.locations, rule);
    if (!item.IsMap()) {
      continue;
    }
    for (const std::string_view key : {"route", "transform"}) {
      if (const auto value = child(rule, key)) {
        recordLocation(config.locations, *value);
      }
    }
    const auto fallback = child(rule, "fallback");
    if (!fallback || !fallback->node.IsSequence()) {
      continue;
    }
    size_t fallback_index = 0;
    for (const YAML::Node& tier : fallback->node) {
      recordLocation(config.locations,
                     Located{tier, strCat(fallback->path, "[", fallback_index++, "]"),
                             tier.Mark().is_null() ? fallback->mark : tier.Mark()});
    }
  }
}

void recordTreeLocations(const std::optional<Located>& where, Config& config) {
  if (!where) {
    return;
  }
  recordLocation(config.locations, *where);
  if (where->node.IsSequence()) {
    size_t index = 0;
    for (const YAML::Node& item : where->node) {
      recordTreeLocations(Located{item, strCat(where->path, "[", index++, "]"),
                                  item.Mark().is_null() ? where->mark : item.Mark()},
                          config);
    }
  } else if (where->node.IsMap()) {
    for (const auto& entry : where->node) {
      if (entry.first.IsScalar()) {
        recordTreeLocations(Located{entry.second, strCat(where->path, ".", entry.first.Scalar()),
                                    entry.second.Mark().is_null() ? entry.first.Mark()
                                                                  : entry.second.Mark()},
                            config);
      }
    }
  }
}

}  // namespace sy::config
