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

// A client-sent name (a field, a block type, a role) fit to be echoed in an error or a log:
// quoted when it is plain lower-case snake_case of at most 40 characters and 8 digits, as every
// name of the APIs the gateway speaks; otherwise "(a name that is not shown)" (it may be data:
// a key, a card number).
bool isPlainName(std::string_view name);
std::string quotedName(std::string_view name);

// A client-sent model name, URL path or method fit to be echoed in an error: 1-64 of
// [A-Za-z0-9._:/-] with a letter, at most 12 digits (no card or phone number) and no segment
// (between . _ : / -) longer than 24 characters (no key or token), as model ids and API paths are
// ("meta-llama/Llama-3.1-8B-Instruct", "claude-3-5-sonnet-20241022", "/v2/chat/completions").
// Anything else may be data and is not shown.
bool isEchoableName(std::string_view name);

}  // namespace sy
