// Difficulty classification latency (Google Benchmark): DifficultyModel::builtin()->score() on a
// short (~60 B), a 1 KB and an 8 KB prompt (prose with numbers, a code block and a question), and
// a 1 KB prompt with 4 KB of conversation context.
//   <build>/tests/bench/difficulty_bench
// Target (difficulty classifier issue): <= 20 us for a 1 KB prompt.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "router/difficulty.h"

namespace {

using sy::router::DifficultyModel;

// Hand-written filler: a mix of prose, numbers, a small code block and a question.
std::string prompt(size_t bytes) {
  static constexpr std::string_view kParts[] = {
      "Our team ships a billing service that handles about 4,000 invoices per hour. ",
      "Each invoice has between 3 and 40 line items, and taxes depend on the region. ",
      "```python\ndef total(items):\n    return sum(i.price * i.qty for i in items)\n```\n",
      "Explain why the totals drift by a few cents after currency conversion, step by step. ",
      "Then propose a fix that keeps rounding consistent and must not change stored values. ",
      "What is the expected error after 12 conversions if each rounds to 2 decimals? ",
  };
  std::string out;
  for (size_t i = 0; out.size() < bytes; ++i) {
    out += kParts[i % std::size(kParts)];
  }
  out.resize(bytes);
  return out;
}

void score(benchmark::State& state, size_t bytes, size_t context_bytes) {
  auto model = DifficultyModel::builtin();
  std::string request = prompt(bytes);
  std::string context = prompt(context_bytes);
  std::vector<std::string_view> texts;
  if (context_bytes > 0) {
    texts.push_back(context);
  }
  texts.push_back(request);
  for (auto _ : state) {
    benchmark::DoNotOptimize(model->score(texts));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes + context_bytes));
}

void BM_DifficultyShort(benchmark::State& state) { score(state, 60, 0); }
void BM_Difficulty1KB(benchmark::State& state) { score(state, 1024, 0); }
void BM_Difficulty8KB(benchmark::State& state) { score(state, 8 * 1024, 0); }
void BM_Difficulty1KBWithContext(benchmark::State& state) { score(state, 1024, 4096); }

BENCHMARK(BM_DifficultyShort)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Difficulty1KB)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Difficulty8KB)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Difficulty1KBWithContext)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
