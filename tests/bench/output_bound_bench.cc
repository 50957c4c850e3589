// What bounding a stream's output costs (Google Benchmark): OutputBound::clip over the canonical
// stream of the proxy benchmark's mock (a role chunk, 20 content chunks, a finish chunk and
// [DONE]), one event per chunk as the mock sends them, and the same stream in one chunk; and the
// cut itself (the finish chunk built from the dropped event). The proxy-level cost is in
// proxy_overhead.sh (sy-sqlite and sy-redis have limits, so their streams are bounded).
//   <build>/tests/bench/output_bound_bench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "gateway/server/pipeline/output_bound.h"

namespace {

constexpr int kEvents = 20;

std::vector<std::string> streamEvents() {
  std::vector<std::string> events;
  const std::string head =
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",)";
  events.push_back(head + R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},)"
                          R"("finish_reason":null}]})"
                          "\n\n");
  for (int i = 0; i < kEvents; ++i) {
    events.push_back(head + R"("choices":[{"index":0,"delta":{"content":" lorem"},)"
                            R"("finish_reason":null}]})"
                            "\n\n");
  }
  events.push_back(head + R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
                          "\n\ndata: [DONE]\n\n");
  return events;
}

void BM_ClipStreamEventPerChunk(benchmark::State& state) {
  const auto events = streamEvents();
  for (auto _ : state) {
    sy::server::OutputBound bound(1024);
    for (const std::string& event : events) {
      std::string chunk = event;
      benchmark::DoNotOptimize(bound.clip(chunk));
    }
  }
  state.counters["us_per_event"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(events.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_ClipStreamEventPerChunk);

void BM_ClipWholeStreamInOneChunk(benchmark::State& state) {
  std::string whole;
  for (const std::string& event : streamEvents()) {
    whole += event;
  }
  for (auto _ : state) {
    sy::server::OutputBound bound(1024);
    std::string chunk = whole;
    benchmark::DoNotOptimize(bound.clip(chunk));
  }
}
BENCHMARK(BM_ClipWholeStreamInOneChunk);

void BM_CutAtTheCap(benchmark::State& state) {
  std::string whole;
  for (const std::string& event : streamEvents()) {
    whole += event;
  }
  for (auto _ : state) {
    sy::server::OutputBound bound(10);
    std::string chunk = whole;
    benchmark::DoNotOptimize(bound.clip(chunk));
  }
}
BENCHMARK(BM_CutAtTheCap);

}  // namespace

BENCHMARK_MAIN();
