// Internal to gateway/config: the decoders of the policy file's sections, one per group. Each
// fills its struct from a located YAML node, overwriting only the fields the file sets (defaults
// live in the structs), and reports every problem to the Decoder. Not thread-safe (see Decoder).
#pragma once

#include <optional>

#include "gateway/config/config.h"
#include "gateway/config/decoder.h"
#include "router/catalog.h"

namespace sy::config {

void decodeServer(Decoder& decoder, const Located& where, ServerConfig& out);
void decodeAdmin(Decoder& decoder, const Located& where, AdminConfig& out);

// backends and tiers are required (nullopt means absent: already reported by the caller's
// Mapping::required); models is optional. Cross-references are checked here.
void decodeCatalog(Decoder& decoder, const std::optional<Located>& backends,
                   const std::optional<Located>& tiers, const std::optional<Located>& models,
                   router::CatalogSpec& out);

}  // namespace sy::config
