// The full routing decision of one request (Google Benchmark): DLP scan of the prompt, difficulty
// classification, and the first matching rule of a five-rule table, as the gateway does them
// before forwarding. Reports the mean and, as counters, the p50 and p99 of single decisions.
//   <build>/tests/bench/decision_bench
// Target (issue 4): a full decision <= 50 us p99 for a 1 KB prompt.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/sensitivity.h"
#include "policies/dlp_engine.h"
#include "router/difficulty.h"
#include "router/routing.h"

namespace {

using namespace sy;

const policies::DlpEngine& engine() {
  static const auto instance = [] {
    auto created = policies::DlpEngine::create(policies::DlpConfig{});
    if (!created) {
      std::abort();
    }
    return std::move(*created);
  }();
  return *instance;
}

const router::RouteTable& table() {
  static const router::RouteTable instance = [] {
    router::CatalogSpec catalog;
    for (const auto& [name, location] : {std::pair("llama", Location::SelfHosted),
                                         std::pair("gpt", Location::External)}) {
      BackendSpec backend;
      backend.name = name;
      backend.location = location;
      catalog.backends.push_back(backend);
    }
    catalog.tiers = {{"local", {"llama"}}, {"frontier", {"gpt"}}};
    const SensitivityLevels levels;
    auto rule = [](std::string name, router::RouteCondition when, std::string route) {
      router::RouteRuleSpec spec;
      spec.name = std::move(name);
      spec.when = std::move(when);
      spec.route = std::move(route);
      return spec;
    };
    std::vector<router::RouteRuleSpec> rules;
    router::RouteCondition secrets;
    secrets.detectors = {"secrets"};
    rules.push_back(rule("secrets-never-leave", secrets, ""));
    rules.back().action = router::RouteAction::Block;
    router::RouteCondition restricted;
    restricted.sensitivity = *LevelCondition::parse(">= restricted", levels);
    rules.push_back(rule("restricted-stays-home", restricted, "local"));
    router::RouteCondition hard_pii;
    hard_pii.complex = true;
    hard_pii.sensitivity = *LevelCondition::parse("confidential", levels);
    rules.push_back(rule("hard-with-pii", hard_pii, "frontier"));
    rules.back().transform = router::Transform::Pseudonymize;
    router::RouteCondition hard;
    hard.complex = true;
    hard.models = {"auto"};
    rules.push_back(rule("hard-goes-out", hard, "frontier"));
    rules.push_back(rule("everything-else", {}, "local"));
    auto created = router::RouteTable::create({{}, std::move(rules)}, catalog);
    if (!created) {
      std::abort();
    }
    return std::move(*created);
  }();
  return instance;
}

// About `bytes` of ordinary prose with a question at the end (hand-written, not dataset text).
std::string prompt(size_t bytes) {
  static constexpr std::string_view kSentence =
      "Our team needs a short summary of the quarterly planning notes, with the three main risks "
      "and who owns each follow-up. ";
  std::string text;
  while (text.size() + kSentence.size() < bytes) {
    text += kSentence;
  }
  text += "What should we do first, and why?";
  return text;
}

void decide(const std::string& text, const router::DifficultyModel& model) {
  const std::vector<policies::Finding> findings = engine().scan(text);
  std::vector<std::string_view> detectors;
  for (const policies::Finding& finding : findings) {
    detectors.push_back(finding.detector_id);
  }
  const std::string_view segment = text;
  const router::DifficultyScore difficulty = model.score(std::span(&segment, 1));
  router::RouteInput input;
  input.difficulty_score = difficulty.score;
  input.complex = difficulty.label(model.defaultThreshold()) == router::DifficultyLabel::Complex;
  input.high_stakes = difficulty.high_stakes;
  input.detectors = detectors;
  input.requested_model = "auto";
  input.endpoint = "chat";
  input.prompt_tokens = text.size() / 4;
  benchmark::DoNotOptimize(&table().match(input));
}

void BM_FullDecision(benchmark::State& state) {
  const std::string text = prompt(static_cast<size_t>(state.range(0)));
  const auto model = router::DifficultyModel::builtin();
  std::vector<double> micros;
  micros.reserve(1 << 16);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    decide(text, *model);
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[micros.size() * 99 / 100];
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_FullDecision)->Arg(256)->Arg(1024)->Arg(8192);

}  // namespace

BENCHMARK_MAIN();
