// Fuzz target: the backend connectors' answer translators (connectors/*.cc `newTranslator`),
// which turn an upstream answer into the canonical (OpenAI) answer: Anthropic Messages streams
// and bodies (anthropic -> canonical), OpenAI-compatible and Azure OpenAI ones. Input: an option
// byte, then the upstream body; its last bytes choose where it is cut into chunks. Option bits:
// value % 3 picks the connector (OpenAI, Anthropic, Azure), 8 an error status (500), 16 the
// client asked for usage, 32 the client speaks Anthropic, 64 an event stream (else a body), 128
// the OpenAI connector is a Responses-only backend's (the answer is read as a Responses answer).
// Invariants: no crash, leak or hang, and usage is never invented by an error answer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/anthropic.h"
#include "connectors/azure_openai.h"
#include "connectors/openai.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace sy::connectors;

const Connector& connector(uint8_t which) {
  static const OpenAiConnector openai;
  static const OpenAiConnector responses_only(sy::ServedApis{false, true});
  static const AnthropicConnector anthropic;
  static const AzureOpenAiConnector azure;
  switch (which % 3) {
    case 0:
      return (which & 128) ? responses_only : openai;
    case 1:
      return anthropic;
    default:
      return azure;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = sy::fuzz::splitOption(data, size);
  if (!input.ok) {
    return 0;
  }
  const uint8_t option = input.option;
  const unsigned status = (option & 8) ? 500 : 200;
  const TranslatorOptions options{
      .client_wants_usage = (option & 16) != 0,
      .client = (option & 32) ? Surface::Anthropic : Surface::OpenAi,
      .upstream_api = (option & 128) ? UpstreamApi::Responses : UpstreamApi::Default};
  auto translator = connector(option).newTranslator(Endpoint::ChatCompletions, status,
                                                    (option & 64) != 0, options);
  sy::fuzz::feedInChunks(input.rest, sy::fuzz::tailCuts(input.rest),
                         [&](std::string chunk, bool end) { (void)translator->onChunk(chunk, end); });
  (void)translator->usage();
  return 0;
}
