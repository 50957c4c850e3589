// Fuzz target: an Anthropic Messages request body (POST /v1/messages, or count_tokens) decoded
// into the canonical request by connectors/anthropic_inbound.cc through the pipeline's decode
// phase, inspected by DLP (the client's own body, with the Anthropic shapes) and built into each
// connector's upstream request (tests/fuzz/decode_support.h). Input: an option byte (bit 1:
// count_tokens), then the body.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/decode_support.h"

// The policy snapshot is built before the first input, so its set-up never counts against
// -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sy::fuzz::decodeSnapshot();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = sy::fuzz::splitOption(data, size);
  if (!input.ok) {
    return 0;
  }
  sy::server::RequestContext ctx;
  ctx.surface = sy::connectors::Surface::Anthropic;
  ctx.operation = (input.option & 1) ? sy::server::Operation::CountTokens
                                     : sy::server::Operation::Chat;
  ctx.api = sy::connectors::Endpoint::ChatCompletions;
  sy::fuzz::decodeInspectBuild(input.rest, ctx);
  return 0;
}
