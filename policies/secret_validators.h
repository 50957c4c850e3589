// Internal to the DLP engine: validators of the secrets pack (see detector_spec.h for the
// contract). Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "policies/detector_spec.h"

namespace sy::policies {

// Vendor-prefixed tokens: not a documentation placeholder, enough entropy for their length.
bool validateToken(const MatchInput& input, Span& value);
// Slack tokens: the entropy gate applies to the random part after the last '-'.
bool validateSlackToken(const MatchInput& input, Span& value);
// Like validateToken, and the value mixes upper case, lower case and digits.
bool validateMixedToken(const MatchInput& input, Span& value);
// `password = "..."`, `api_key: ...`, `"token", "..."`: the key name must end in a secret word
// and the value must look random (entropy gate, placeholders, identifiers and paths excluded).
bool validateGenericAssignment(const MatchInput& input, Span& value);
// A value assigned to a key naming a service (`twitter_api_key = ...`, `MAPBOX: pk....`): at
// least 14 characters with a digit, random-looking (entropy, not words, paths or placeholders).
bool validateServiceAssignment(const MatchInput& input, Span& value);
// `Authorization: Bearer ...` header values.
bool validateAuthorizationHeader(const MatchInput& input, Span& value);
// `curl -u user:password`.
bool validateCurlUser(const MatchInput& input, Span& value);
// scheme://user:password@host, split into database schemes and the rest.
bool validateDatabaseUrl(const MatchInput& input, Span& value);
bool validateUrlCredentials(const MatchInput& input, Span& value);
// `user:password` pairs (bundler credentials).
bool validateCredentialPair(const MatchInput& input, Span& value);
bool validatePrivateKey(const MatchInput& input, Span& value);
// Switchyard API keys (syk_<id>_<secret><check>): the value must pass parseKey(), whose CRC32
// check characters tell a real key from a look-alike.
bool validateSwitchyardKey(const MatchInput& input, Span& value);

// Obvious non-secrets: "password", "changeme", "null", "admin", "123456", ... (any case).
bool isCommonValue(std::string_view value);

// Exposed for tests.
bool secretKeyName(std::string_view identifier, bool* password_like);
bool looksLikeWords(std::string_view value);
bool enoughEntropy(std::string_view value, double min_entropy);

}  // namespace sy::policies
