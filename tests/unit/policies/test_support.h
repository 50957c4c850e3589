// Helpers shared by the policies unit tests: engines built from small configs, finding
// queries, and deterministic fake tokens (so no secret-looking literal lives in the sources).
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policies/dlp_config.h"
#include "policies/dlp_engine.h"

namespace sy::policies::testing {

// Standard padded base64 of `bytes` (binary files in request bodies are sent so).
inline std::string toBase64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Pseudonym tokens carry a random part ("<EMAIL_7Q2FX>"). For comparisons, rewrites each
// distinct token to "<LABEL_n>", n counting distinct tokens per label in order of appearance,
// so that "same value, same token" and "different values, different tokens" stay visible.
inline std::string numberTokens(std::string_view text) {
  constexpr size_t kRandom = 5;
  std::map<std::string, std::string, std::less<>> renamed;
  std::map<std::string, int, std::less<>> per_label;
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('<', pos);
    if (open == std::string_view::npos) {
      break;
    }
    size_t close = open + 1;
    while (close < text.size() && ((text[close] >= 'A' && text[close] <= 'Z') ||
                                   (text[close] >= '0' && text[close] <= '9') ||
                                   text[close] == '_')) {
      ++close;
    }
    const size_t length = close - open + 1;
    if (close < text.size() && text[close] == '>' && length >= kRandom + 4 &&
        text[close - kRandom - 1] == '_') {
      std::string_view token = text.substr(open, length);
      auto it = renamed.find(token);
      if (it == renamed.end()) {
        std::string label(text.substr(open + 1, close - kRandom - 2 - open));
        const int n = ++per_label[label];
        it = renamed.emplace(std::string(token), "<" + label + "_" + std::to_string(n) + ">").first;
      }
      out.append(text.substr(pos, open - pos));
      out.append(it->second);
      pos = close + 1;
      continue;
    }
    out.append(text.substr(pos, open + 1 - pos));
    pos = open + 1;
  }
  out.append(text.substr(pos));
  return out;
}

inline std::unique_ptr<const DlpEngine> makeEngine(const DlpConfig& config = {}) {
  auto engine = DlpEngine::create(config);
  EXPECT_TRUE(engine.has_value()) << (engine ? "" : engine.error().message);
  return engine ? std::move(*engine) : nullptr;
}

inline CustomRule patternRule(std::string name, std::string pattern,
                              std::string level = "confidential", bool case_insensitive = false) {
  CustomRule rule;
  rule.name = std::move(name);
  rule.pattern = std::move(pattern);
  rule.level = std::move(level);
  rule.case_insensitive = case_insensitive;
  return rule;
}

inline CustomRule keywordRule(std::string name, std::vector<std::string> keywords,
                              bool case_insensitive = false) {
  CustomRule rule;
  rule.name = std::move(name);
  rule.keywords = std::move(keywords);
  rule.case_insensitive = case_insensitive;
  return rule;
}

// The default pack plus the best-effort detectors that are off by default.
inline DlpConfig everythingConfig() {
  DlpConfig config;
  config.detectors.push_back({"person_name", true, ""});
  config.detectors.push_back({"street_address", true, ""});
  return config;
}

inline const DlpEngine& defaultEngine() {
  static const auto engine = makeEngine();
  return *engine;
}

inline const DlpEngine& everythingEngine() {
  static const auto engine = makeEngine(everythingConfig());
  return *engine;
}

// The text of every finding of `detector_id` in `text`.
inline std::vector<std::string> valuesOf(const DlpEngine& engine, std::string_view text,
                                         std::string_view detector_id,
                                         TextSource source = TextSource::User) {
  std::vector<std::string> values;
  for (const auto& f : engine.scan(text, source)) {
    if (f.detector_id == detector_id) {
      values.emplace_back(text.substr(f.start, f.end - f.start));
    }
  }
  return values;
}

inline bool hasClass(const DlpEngine& engine, std::string_view text, DetectorClass cls,
                     TextSource source = TextSource::User) {
  for (const auto& f : engine.scan(text, source)) {
    if (f.detector_class == cls) {
      return true;
    }
  }
  return false;
}

// Deterministic pseudo-random characters from `alphabet` (xorshift; seed selects the stream).
inline std::string fakeToken(std::string_view alphabet, size_t length, uint64_t seed) {
  std::string out;
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
  for (size_t i = 0; i < length; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out.push_back(alphabet[x % alphabet.size()]);
  }
  return out;
}

inline constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kUpperBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
inline constexpr std::string_view kHex = "0123456789abcdef";
inline constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace sy::policies::testing
