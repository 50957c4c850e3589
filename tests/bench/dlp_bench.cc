// DLP scan throughput (Google Benchmark): the default pack on 1 KB, 16 KB and 1 MB prompts,
// clean (prose, code and numbers, no findings), dense (a finding every ~120 bytes), and clean
// prose in other scripts (the Unicode folding path of the normalizer).
//   <build>/tests/bench/dlp_bench [--benchmark_filter=Clean]
// Targets (issue 3): >= 200 MB/s per core on clean text, <= 20 us for a clean 1 KB prompt.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/gitleaks_pack.h"
#include "policies/dlp_engine.h"
#include "policies/dlp_transform.h"
#include "policies/media_payload.h"
#include "policies/streaming_redactor.h"

namespace {

using sy::policies::DlpAction;
using sy::policies::DlpConfig;
using sy::policies::DlpEngine;
using sy::policies::Finding;
using sy::policies::StreamingRedactor;
using sy::policies::decodeBase64Strict;
using sy::policies::MediaFormat;
using sy::policies::mediaPayload;
using sy::policies::printableRuns;
using sy::policies::sniffMedia;

std::string toBase64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

const DlpEngine& engine() {
  static const std::unique_ptr<const DlpEngine> instance = [] {
    auto created = DlpEngine::create(DlpConfig{});
    if (!created) {
      std::abort();
    }
    return std::move(*created);
  }();
  return *instance;
}

struct Rng {
  uint64_t state;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

constexpr std::string_view kWords[] = {
    "the",          "model",     "request",       "should",   "explain",
    "how",          "a",         "team",          "can",      "improve",
    "its",          "quarterly", "report",        "and",      "summarize",
    "the",          "main",      "points",        "in",       "three",
    "bullet",       "lists",     "for",           "each",     "customer",
    "segment",      "we",        "need",          "to",       "compare",
    "revenue",      "growth",    "with",          "last",     "year",
    "while",        "keeping",   "costs",         "under",    "control",
    "please",       "write",     "function",      "that",     "returns",
    "sorted",       "values",    "from",          "input",    "array",
    "of",           "integers",  "using",         "merge",    "sort",
    "algorithm",    "then",      "analyze",       "time",     "complexity",
    "translate",    "this",      "paragraph",     "into",     "French",
    "keep",         "tone",      "formal",        "but",      "friendly",
    "draft",        "email",     "asking",        "manager",  "about",
    "deadline",     "project",   "plan",          "includes", "milestones",
    "risks",        "budget",    "total",         "percent",  "increase",
    "between",      "January",   "March",         "what",     "are",
    "benefits",     "drawbacks", "microservices", "compared", "monolith",
    "architecture", "given",     "table",         "below",    "calculate",
    "average",      "order",     "value",         "per",      "region",
    "dataset",      "contains",  "columns",       "date",     "amount",
    "status"};

std::string cleanText(size_t size) {
  Rng rng{0x5eed};
  std::string text;
  text.reserve(size + 64);
  while (text.size() < size) {
    switch (rng.below(12)) {
      case 0:
        text += std::to_string(1990 + rng.below(35)) + " ";
        break;
      case 1:
        text += std::to_string(rng.below(1000)) + "." + std::to_string(rng.below(100)) + "% ";
        break;
      case 2:
        text +=
            "\n```python\ndef total(items):\n    return sum(x.price * x.qty for x in items)\n```\n";
        break;
      default:
        for (int w = 0; w < 12; ++w) {
          text += kWords[rng.below(std::size(kWords))];
          text += w == 11 ? ". " : " ";
        }
    }
  }
  text.resize(size);
  return text;
}

std::string denseText(size_t size) {
  static const std::vector<std::string> kValues = {
      "jane.doe@example.com",      "+1 415 555 0132",
      "4111 1111 1111 1111",       "GB82 WEST 1234 5698 7654 32",
      "SSN 536-22-1234",           "10.20.30.40",
      "password=\"Zx9qLw2rTb7m\"", "postgres://svc:Qz7Lm2Xp9Rt@db.internal/main",
      "born on 04/23/1987",        "2001:db8::ff00:42:8329"};
  Rng rng{0xd15e};
  std::string text;
  text.reserve(size + 128);
  size_t i = 0;
  while (text.size() < size) {
    for (int w = 0; w < 14; ++w) {
      text += kWords[rng.below(std::size(kWords))];
      text += ' ';
    }
    text += kValues[i++ % kValues.size()] + ". ";
  }
  text.resize(size);
  return text;
}

// Clean prose in other scripts (Cyrillic, Greek, CJK, accented Latin) with numbers: every
// character goes through the Unicode folding of the normalizer.
std::string unicodeText(size_t size) {
  static constexpr std::string_view kUnicodeWords[] = {
      "отчёт",  "квартал", "выручка", "клиент",  "проект",  "срок",
      "бюджет", "команда", "έκθεση",  "πελάτης", "έργο",    "προϋπολογισμός",
      "報告",   "顧客",    "予算",    "équipe",  "réunion", "über",
      "größe",  "año",     "mañana",  "2024",    "15,5%"};
  Rng rng{0x0b1};
  std::string text;
  text.reserve(size + 64);
  while (text.size() < size) {
    for (int w = 0; w < 12; ++w) {
      text += kUnicodeWords[rng.below(std::size(kUnicodeWords))];
      text += w == 11 ? ". " : " ";
    }
  }
  text.resize(size);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
    text.pop_back();  // do not end inside a UTF-8 sequence
  }
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) {
    text.pop_back();
  }
  return text;
}

void scanBenchmark(benchmark::State& state, const std::string& text) {
  const DlpEngine& e = engine();
  size_t findings = 0;
  for (auto _ : state) {
    auto result = e.scan(text);
    findings = result.size();
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["findings"] = static_cast<double>(findings);
}

void BM_ScanClean(benchmark::State& state) {
  scanBenchmark(state, cleanText(static_cast<size_t>(state.range(0))));
}
BENCHMARK(BM_ScanClean)->Arg(1 << 10)->Arg(16 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

// The prompt of the proxy benchmark's request (tests/bench/chat_request.json, scanned whole as
// one text): what DLP costs per request in tests/bench/proxy_overhead.sh's `switchyard` row.
void BM_ScanBenchRequest(benchmark::State& state) {
  std::ifstream in(std::string(SY_SOURCE_DIR) + "/tests/bench/chat_request.json", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) {
    state.SkipWithError("tests/bench/chat_request.json not found");
    return;
  }
  scanBenchmark(state, text);
}
BENCHMARK(BM_ScanBenchRequest)->Unit(benchmark::kMicrosecond);

// The default pack plus gitleaks' default configuration as a rule pack (dlp.rule_packs), read
// from ../shared/data next to the repository; skipped when the file is not there.
const DlpEngine* engineWithGitleaksPack() {
  static const std::unique_ptr<const DlpEngine> instance =
      []() -> std::unique_ptr<const DlpEngine> {
    const std::string path = std::string(SY_SOURCE_DIR) + "/../shared/data/gitleaks/gitleaks.toml";
    auto load = sy::config::loadGitleaksPack(path, "gitleaks.toml");
    if (!load.errors.empty()) {
      return nullptr;
    }
    DlpConfig config;
    config.rule_packs.push_back(std::move(load.pack));
    auto created = DlpEngine::create(config);
    return created ? std::move(*created) : nullptr;
  }();
  return instance.get();
}

void BM_ScanCleanGitleaksPack(benchmark::State& state) {
  const DlpEngine* e = engineWithGitleaksPack();
  if (e == nullptr) {
    state.SkipWithError("../shared/data/gitleaks/gitleaks.toml not found");
    return;
  }
  const std::string text = cleanText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto result = e->scan(text);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ScanCleanGitleaksPack)
    ->Arg(1 << 10)
    ->Arg(16 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMicrosecond);

void BM_ScanDense(benchmark::State& state) {
  scanBenchmark(state, denseText(static_cast<size_t>(state.range(0))));
}
BENCHMARK(BM_ScanDense)->Arg(1 << 10)->Arg(16 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

void BM_ScanUnicode(benchmark::State& state) {
  scanBenchmark(state, unicodeText(static_cast<size_t>(state.range(0))));
}
BENCHMARK(BM_ScanUnicode)->Arg(1 << 10)->Arg(16 << 10)->Unit(benchmark::kMicrosecond);

// Random printable ASCII (a hostile client's body, or base64-like blobs): text that keeps
// leading the scanner's automaton into states it has not built yet, unlike prose.
std::string randomText(size_t size) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "
      "!\"#$%&'()*+,-./:;<=>?@[]^_{|}~";
  Rng rng{0x5eed1234abcdULL};
  std::string text;
  text.reserve(size);
  while (text.size() < size) {
    text.push_back(kAlphabet[rng.below(kAlphabet.size())]);
  }
  return text;
}

void BM_ScanRandom(benchmark::State& state) {
  scanBenchmark(state, randomText(static_cast<size_t>(state.range(0))));
}

// The same, but a text never seen before on every iteration, as a hostile client sends them:
// the automata cannot reuse the states the previous texts built (the benchmarks above scan one
// text again and again, so after the first iteration they measure warm automata).
void BM_ScanFreshRandom(benchmark::State& state) {
  const DlpEngine& e = engine();
  const size_t size = static_cast<size_t>(state.range(0));
  Rng rng{0xf4e54ULL};
  std::string text(size, ' ');
  constexpr std::string_view kBase64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (auto _ : state) {
    state.PauseTiming();
    for (char& c : text) {
      c = kBase64[rng.below(kBase64.size())];
    }
    state.ResumeTiming();
    auto result = e.scan(text);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_ScanFreshRandom)
    ->Arg(1 << 10)
    ->Arg(16 << 10)
    ->Arg(256 << 10)
    ->Unit(benchmark::kMicrosecond);

// An image as a client sends it (image_url.url: a data URL of random-looking base64).
void BM_ScanDataUrl(benchmark::State& state) {
  constexpr std::string_view kBase64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  Rng rng{0xda7a0123ULL};
  std::string text = "data:image/png;base64,";
  while (text.size() < static_cast<size_t>(state.range(0))) {
    text.push_back(kBase64[rng.below(kBase64.size())]);
  }
  scanBenchmark(state, text);
}
BENCHMARK(BM_ScanDataUrl)->Arg(16 << 10)->Arg(256 << 10)->Unit(benchmark::kMicrosecond);

// What the request walker does with a binary file's data URL now (Kind::Media): decode the
// base64, recognize the format by its first bytes, and scan only the file's printable runs.
// A fresh PNG-signed file of random bytes every iteration, as BM_ScanFreshRandom's text: the two
// compare the old cost of such a field (its base64 scanned as text) with the new one.
void BM_ReadMediaFresh(benchmark::State& state) {
  const DlpEngine& e = engine();
  const size_t size = static_cast<size_t>(state.range(0));  // of the base64
  Rng rng{0x3ed1aULL};
  std::string bytes(size / 4 * 3, '\0');
  std::string url;
  std::string decoded;
  for (auto _ : state) {
    state.PauseTiming();
    for (char& c : bytes) {
      c = static_cast<char>(rng.below(256));
    }
    bytes.replace(0, 8, "\x89PNG\r\n\x1a\n");
    url = "data:image/png;base64," + toBase64(bytes);
    state.ResumeTiming();
    const auto payload = mediaPayload(url);
    if (!payload || !decodeBase64Strict(*payload, decoded) ||
        sniffMedia(decoded) != MediaFormat::Image) {
      state.SkipWithError("not read as an image");
      break;
    }
    auto result = e.scan(printableRuns(decoded));
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_ReadMediaFresh)
    ->Arg(1 << 10)
    ->Arg(16 << 10)
    ->Arg(256 << 10)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScanRandom)
    ->Arg(1 << 10)
    ->Arg(16 << 10)
    ->Arg(64 << 10)
    ->Arg(256 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMicrosecond);

// A streamed 16 KB answer in 40-byte deltas (typical SSE chunk size).
void BM_StreamClean16K(benchmark::State& state) {
  std::string text = cleanText(16 << 10);
  for (auto _ : state) {
    StreamingRedactor redactor(
        &engine(), [](const Finding&) { return DlpAction::Redact; }, nullptr);
    size_t out = 0;
    for (size_t i = 0; i < text.size(); i += 40) {
      out += redactor.feed(std::string_view(text).substr(i, 40)).size();
    }
    out += redactor.finish().size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_StreamClean16K)->Unit(benchmark::kMicrosecond);

void BM_CreateDefaultEngine(benchmark::State& state) {
  for (auto _ : state) {
    auto created = DlpEngine::create(DlpConfig{});
    benchmark::DoNotOptimize(created);
  }
}
BENCHMARK(BM_CreateDefaultEngine)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
