// Fuzz target for the protocol translators: the SSE scanner, the Anthropic Messages surface
// (client requests into the canonical request; canonical answers, bodies and streams, back into
// Anthropic's format) and the backend connectors' request builders and response translators
// (OpenAI, Anthropic, Azure OpenAI, and OpenAI toward a backend that serves only the Responses
// API). The first byte picks the translator; the rest is its input,
// and streams are cut into chunks at places the input's bytes choose. Invariants: nothing
// crashes or hangs; every event an Anthropic stream encoder writes is a named event whose data
// is a JSON object with that `type`; a request either translates or fails with a 400.
// With SY_FUZZ=ON (clang) it links libFuzzer; otherwise translator_fuzz_replay_test replays
// corpus/.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "connectors/anthropic.h"
#include "connectors/anthropic_answer.h"
#include "connectors/anthropic_inbound.h"
#include "connectors/azure_openai.h"
#include "connectors/openai.h"
#include "connectors/responses_backend.h"
#include "connectors/sse.h"

namespace {

using namespace sy::connectors;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// Feeds `input` in chunks whose sizes come from `cuts` (cycled), so every split is reachable.
template <class Feed>
void feedInChunks(std::string_view input, std::string_view cuts, Feed&& feed) {
  size_t at = 0;
  size_t i = 0;
  while (at < input.size()) {
    const size_t size =
        cuts.empty() ? input.size() : 1 + static_cast<uint8_t>(cuts[i++ % cuts.size()]) % 64;
    const size_t n = std::min(size, input.size() - at);
    feed(std::string(input.substr(at, n)), false);
    at += n;
  }
  feed(std::string(), true);
}

// Every event of an Anthropic stream the gateway writes is well formed.
void checkAnthropicEvents(std::string_view text) {
  SseParser parser;
  for (const SseEvent& event : parser.feed(text)) {
    check(!event.event.empty());
    boost::system::error_code ec;
    const boost::json::value data = boost::json::parse(event.data, ec);
    check(!ec && data.is_object());
    const boost::json::value* type = data.get_object().if_contains("type");
    check(type != nullptr && type->is_string() && type->get_string() == event.event);
  }
}

std::optional<boost::json::object> parseObject(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  return std::move(value.get_object());
}

sy::BackendSpec fuzzBackend() {
  sy::BackendSpec spec;
  spec.name = "fuzz";
  spec.model = "fuzz-model";
  spec.deployment = "dep";
  spec.api_version = "2024-10-21";
  return spec;
}

// `which` % 3 picks the kind; bit 64 makes the OpenAI one a Responses-only backend's.
const Connector& connector(uint8_t which) {
  static const OpenAiConnector openai;
  static const OpenAiConnector responses_only(sy::ServedApis{false, true});
  static const AnthropicConnector anthropic;
  static const AzureOpenAiConnector azure;
  switch (which % 3) {
    case 0:
      return (which & 64) ? responses_only : openai;
    case 1:
      return anthropic;
    default:
      return azure;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const uint8_t mode = data[0];
  const uint8_t option = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  // The chunk sizes come from the input itself (its last bytes), so a seed fixes its splits.
  const std::string_view cuts = input.substr(input.size() > 16 ? input.size() - 16 : 0);
  switch (mode % 6) {
    case 0: {  // SSE scanner
      SseParser parser(256);
      feedInChunks(input, cuts, [&](std::string chunk, bool) { parser.feed(chunk); });
      break;
    }
    case 1: {  // Anthropic surface: a client's Messages request into the canonical request
      if (auto request = parseObject(input)) {
        auto canonical = anthropicToChat(*request, {}, option & 1);
        check(canonical || sy::toHttpStatus(canonical.error()) == 400);
      }
      break;
    }
    case 2: {  // Anthropic surface: a canonical answer (stream or body) into Anthropic's format
      const bool stream = option & 1;
      const unsigned status = (option & 2) ? 429 : 200;
      auto encoder = newAnthropicEncoder(status, stream, "fuzz");
      std::string out;
      feedInChunks(input, cuts, [&](std::string chunk, bool end) {
        check(encoder->encode(chunk, end).has_value());
        out += chunk;
      });
      if (stream && status == 200) {
        checkAnthropicEvents(out);
      } else {
        check(parseObject(out).has_value());
      }
      break;
    }
    case 3: {  // backend connectors: the upstream request from a canonical body
      if (auto body = parseObject(input)) {
        const auto endpoint = (option & 4) ? Endpoint::Embeddings : Endpoint::ChatCompletions;
        auto request = connector(option).buildRequest(endpoint, *body, fuzzBackend(), "k", "r");
        check(request || sy::toHttpStatus(request.error()) / 100 == 4);
      }
      break;
    }
    case 4:
    case 5: {  // backend connectors: upstream answers into the canonical answer
      const bool stream = mode % 6 == 4;
      const unsigned status = (option & 8) ? 500 : 200;
      const TranslatorOptions options{
          .client_wants_usage = (option & 16) != 0,
          .client = (option & 32) ? Surface::Anthropic : Surface::OpenAi,
          .upstream_api = (option & 64) ? UpstreamApi::Responses : UpstreamApi::Default};
      auto translator =
          connector(option).newTranslator(Endpoint::ChatCompletions, status, stream, options);
      feedInChunks(input, cuts,
                   [&](std::string chunk, bool end) { (void)translator->onChunk(chunk, end); });
      (void)translator->usage();
      break;
    }
  }
  return 0;
}
