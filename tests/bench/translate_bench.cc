// The Anthropic translations per request and per streamed event (Google Benchmark): a client's
// Messages request into the canonical request, the canonical stream into Anthropic events (20
// text deltas, as the proxy benchmark's mock sends), and an Anthropic backend's stream into the
// canonical one. The proxy-level cost, next to nginx, is in proxy_overhead.sh (sy-messages,
// sy-anthropic).
//   <build>/tests/bench/translate_bench
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "connectors/anthropic.h"
#include "connectors/anthropic_answer.h"
#include "connectors/anthropic_inbound.h"

namespace {

namespace json = boost::json;
constexpr int kEvents = 20;

std::string canonicalStream() {
  std::string out;
  for (int i = 0; i < kEvents; ++i) {
    json::object chunk{
        {"id", "chatcmpl-1"},
        {"object", "chat.completion.chunk"},
        {"choices", json::array{json::object{{"index", 0}, {"delta", {{"content", " lorem"}}}}}}};
    out += "data: " + json::serialize(chunk) + "\n\n";
  }
  out += R"(data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})";
  out += "\n\ndata: [DONE]\n\n";
  return out;
}

std::string anthropicStream() {
  std::string out =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],"
      "\"usage\":{\"input_tokens\":200,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
  for (int i = 0; i < kEvents; ++i) {
    out +=
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\" lorem\"}}\n\n";
  }
  out +=
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\"},\"usage\":{\"output_tokens\":20}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  return out;
}

// Event by event, as the gateway relays them.
std::vector<std::string> split(const std::string& stream) {
  std::vector<std::string> events;
  for (size_t at = 0; at < stream.size();) {
    const size_t end = stream.find("\n\n", at) + 2;
    events.push_back(stream.substr(at, end - at));
    at = end;
  }
  return events;
}

void BM_AnthropicRequestToCanonical(benchmark::State& state) {
  const std::string claim =
      "Summarize the following claim in three bullet points, then list any missing documents. "
      "The claimant reports water damage in the kitchen after a pipe burst on a Sunday; the "
      "plumber's invoice and photos are attached, the adjuster's visit is pending.";
  const json::object request{
      {"model", "auto"},
      {"max_tokens", 256},
      {"system", "You are a helpful assistant for an insurance company's claims department."},
      {"messages", json::array{json::object{{"role", "user"}, {"content", claim}}}}};
  for (auto _ : state) {
    auto canonical = sy::connectors::anthropicToChat(request, {});
    benchmark::DoNotOptimize(canonical);
  }
}
BENCHMARK(BM_AnthropicRequestToCanonical);

void BM_CanonicalStreamToAnthropicEvents(benchmark::State& state) {
  const auto events = split(canonicalStream());
  for (auto _ : state) {
    auto encoder = sy::connectors::newAnthropicEncoder(200, true, "claude-x");
    for (size_t i = 0; i < events.size(); ++i) {
      std::string chunk = events[i];
      (void)encoder->encode(chunk, i + 1 == events.size());
      benchmark::DoNotOptimize(chunk);
    }
  }
  state.counters["us_per_event"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kEvents,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_CanonicalStreamToAnthropicEvents);

void BM_AnthropicBackendStreamToCanonical(benchmark::State& state) {
  const auto events = split(anthropicStream());
  const sy::connectors::AnthropicConnector connector;
  for (auto _ : state) {
    auto translator =
        connector.newTranslator(sy::connectors::Endpoint::ChatCompletions, 200, true, {});
    for (size_t i = 0; i < events.size(); ++i) {
      std::string chunk = events[i];
      (void)translator->onChunk(chunk, i + 1 == events.size());
      benchmark::DoNotOptimize(chunk);
    }
  }
}
BENCHMARK(BM_AnthropicBackendStreamToCanonical);

}  // namespace

BENCHMARK_MAIN();
