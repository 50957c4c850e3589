// Fuzz target: an OpenAI-surface request body (chat completions or embeddings) decoded into the
// canonical request, inspected by DLP and built into each connector's upstream request, as the
// pipeline does (tests/fuzz/decode_support.h). Input: an option byte (bit 4: embeddings), then
// the body.
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
  ctx.surface = sy::connectors::Surface::OpenAi;
  const bool embeddings = input.option & 4;
  ctx.operation = embeddings ? sy::server::Operation::Embeddings : sy::server::Operation::Chat;
  ctx.api = embeddings ? sy::connectors::Endpoint::Embeddings
                       : sy::connectors::Endpoint::ChatCompletions;
  sy::fuzz::decodeInspectBuild(input.rest, ctx);
  return 0;
}
