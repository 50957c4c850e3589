// Writing JSON text by hand on hot paths (the gateway's per-token stream events, the mock's
// replies), where building boost::json values only to serialize them would cost more than the
// event itself. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sy {

// Appends `text` as a JSON string literal: quoted, with '"', '\\' and control characters
// escaped. `text` must be valid UTF-8 (it is passed through as it is).
void appendJsonString(std::string& out, std::string_view text);

}  // namespace sy
