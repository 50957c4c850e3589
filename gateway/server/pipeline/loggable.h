// Client-chosen strings on their way to logs, audit records and metrics. A value the policy
// names (a model, tier or "auto"; a data-plane path) is written as it is; anything else is
// written as "<unknown:xxxxxxxx>", the first 8 hex digits of its SHA-256, so that a secret a
// client sends as `model` (or as a path) is never written out, while equal values still group
// together. Pure functions: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "router/catalog.h"

namespace sy::server {

// "<unknown:" + the first 8 lowercase hex digits of SHA-256(value) + ">".
std::string unknownWithHash(std::string_view value);

// `requested_model` when the catalog names it exactly ("auto", a tier, an alias; "" stays ""),
// unknownWithHash(requested_model) otherwise (a pattern's match included).
std::string loggableModel(const router::Catalog& catalog, std::string_view requested_model);

// `path` when the data plane serves it, unknownWithHash(path) otherwise.
std::string loggablePath(std::string_view path);

}  // namespace sy::server
