// Key hash comparison and authentication cost (Google Benchmark).
//   <build>/tests/bench/key_compare_bench [--benchmark_filter=Compare]
// The Compare rows come in pairs, first-byte vs last-byte mismatch: the constant-time comparison
// takes the same time for both (no early exit), where a naive loop that stops at the first
// difference, shown for contrast, does not. The
// unit test (keys_test.cc, ConstantTimeEqualTest) proves the same by counting byte reads; this
// shows it on a clock, which unit tests must not assert on.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "policies/keys.h"

namespace {

using sy::policies::KeyDigest;

// Two digests that differ only at `position` (0 = first byte, 31 = last).
struct Pair {
  KeyDigest a;
  KeyDigest b;
  explicit Pair(size_t position) {
    a.fill(0x5a);
    b = a;
    b[position] ^= 0x01;
  }
};

void BM_CompareConstantTime(benchmark::State& state) {
  Pair pair(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(pair.a);
    benchmark::DoNotOptimize(pair.b);
    bool equal = sy::policies::constantTimeEqual(pair.a, pair.b, pair.a.size());
    benchmark::DoNotOptimize(equal);
  }
}
BENCHMARK(BM_CompareConstantTime)->ArgName("mismatch_at")->Arg(0)->Arg(31);

// What not to do: returns at the first difference, so its time tells where that is.
bool earlyExitEqual(const KeyDigest& a, const KeyDigest& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

void BM_CompareEarlyExit(benchmark::State& state) {
  Pair pair(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(pair.a);
    benchmark::DoNotOptimize(pair.b);
    bool equal = earlyExitEqual(pair.a, pair.b);
    benchmark::DoNotOptimize(equal);
  }
}
BENCHMARK(BM_CompareEarlyExit)->ArgName("mismatch_at")->Arg(0)->Arg(31);

// The whole check per request: parse, look up, hash (SHA-256), compare. Arg 0: the right key;
// 1: the right id with a wrong secret; 2: an unknown id (same work, by design).
void BM_Authenticate(benchmark::State& state) {
  const std::string key = sy::policies::generateKey("analytics-batch").value();
  sy::policies::AuthConfig config;
  config.keys.emplace_back();
  config.keys.back().id = "analytics-batch";
  config.keys.back().hash = sy::policies::hashKey(key, "");
  const auto ring = sy::policies::KeyRing::create(config, sy::SensitivityLevels(), "").value();
  const std::string presented = state.range(0) == 0 ? key
                                : state.range(0) == 1
                                    ? sy::policies::generateKey("analytics-batch").value()
                                    : sy::policies::generateKey("ghost").value();
  const std::string header = "Bearer " + presented;
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    auto result = ring.authenticate(header, "", now);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_Authenticate)->ArgName("valid0_wrong1_unknown2")->Arg(0)->Arg(1)->Arg(2);

}  // namespace

BENCHMARK_MAIN();
