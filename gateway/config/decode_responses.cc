// Decoder for `responses` (the Responses API's conversation store): the settings and their
// bounds; where the responses live is `state.store`'s choice.
#include "gateway/config/decode_sections.h"

namespace sy::config {
namespace {
constexpr std::array<std::pair<std::string_view, BuiltinTools>, 2> kBuiltinTools{{
    {"refuse", BuiltinTools::Refuse},
    {"allow", BuiltinTools::Allow},
}};
}  // namespace

void decodeResponses(Decoder& decoder, const Located& where, ResponsesSpec& out) {
  const Mapping responses(decoder, where,
                          {{"store", "ttl", "max_bytes_per_response", "max_responses_per_key",
                            "builtin_tools"}});
  decoder.readBool(responses.optional("store"), out.store);
  decoder.readDuration(responses.optional("ttl"), out.ttl);
  decoder.readSize(responses.optional("max_bytes_per_response"), out.max_bytes_per_response,
                   kMaxStoredResponseBytes);
  decoder.readInteger(responses.optional("max_responses_per_key"), out.max_responses_per_key, 1);
  decoder.readEnum(responses.optional("builtin_tools"), kBuiltinTools, "builtin_tools",
                   out.builtin_tools);
}

}  // namespace sy::config
