#include "router/difficulty.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

namespace sy::router {

// Generated at build time from router/data/difficulty_weights.txt (router/CMakeLists.txt).
extern const char* const kBuiltinDifficultyWeights;

namespace {

std::unexpected<Error> formatError(std::string_view source, size_t line, std::string problem) {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                   std::string(source) + ":" + std::to_string(line) + ": " + std::move(problem));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Splits on runs of spaces/tabs.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out.push_back(line.substr(start, i - start));
    }
  }
  return out;
}

bool parseDouble(std::string_view text, double& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

template <class T>
bool parseUnsigned(std::string_view text, T& out, int base = 10) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

std::string_view toString(DifficultyLabel label) {
  return label == DifficultyLabel::Complex ? "complex" : "routine";
}

namespace {
constexpr std::array<std::string_view, kDomainCount> kDomainNames = {
    "general", "code", "math", "science", "legal", "medical", "finance", "creative"};
}  // namespace

std::string_view toString(Domain domain) { return kDomainNames[static_cast<size_t>(domain)]; }

std::optional<Domain> parseDomain(std::string_view name) {
  for (size_t i = 0; i < kDomainNames.size(); ++i) {
    if (kDomainNames[i] == name) {
      return static_cast<Domain>(i);
    }
  }
  return std::nullopt;
}

Result<std::shared_ptr<const DifficultyModel>> DifficultyModel::parse(
    std::string_view text, std::string_view source_name) {
  std::shared_ptr<DifficultyModel> model(new DifficultyModel());
  std::vector<float> hashed(difficulty::kHashSize, 0.0f);  // compacted once the file is read
  std::vector<bool> dense_seen(difficulty::kDenseCount, false);
  std::vector<bool> domain_seen(kDomainCount, false);
  std::map<uint32_t, std::array<float, kDomainCount>> domain_hashed;
  bool header = false;
  bool config = false;
  bool threshold = false;
  bool bias = false;

  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') {
      continue;
    }
    std::vector<std::string_view> f = fields(line);
    std::string_view key = f[0];
    if (!header) {
      if (key != "sy-difficulty" || f.size() != 2) {
        return formatError(source_name, line_no, "expected 'sy-difficulty 1' before anything else");
      }
      if (f[1] != "1") {
        return formatError(source_name, line_no,
                           "unsupported format version '" + std::string(f[1]) + "'");
      }
      header = true;
      continue;
    }
    auto expectFields = [&](size_t n) { return f.size() == n; };
    if (key == "config") {
      uint64_t hash = 0;
      if (!expectFields(2) || !parseUnsigned(f[1], hash, 16)) {
        return formatError(source_name, line_no, "expected 'config <hex hash>'");
      }
      if (hash != difficulty::configHash()) {
        char expected[32];
        std::snprintf(expected, sizeof expected, "%016llx",
                      static_cast<unsigned long long>(difficulty::configHash()));
        return formatError(source_name, line_no,
                           "feature config " + std::string(f[1]) + " does not match this build (" +
                               expected + "): retrain with scripts/train-difficulty");
      }
      config = true;
    } else if (key == "threshold") {
      double value = 0;
      if (!expectFields(2) || !parseDouble(f[1], value) || value <= 0 || value >= 1) {
        return formatError(source_name, line_no, "expected 'threshold <number in (0,1)>'");
      }
      model->threshold_ = value;
      threshold = true;
    } else if (key == "bias") {
      if (!expectFields(2) || !parseDouble(f[1], model->bias_)) {
        return formatError(source_name, line_no, "expected 'bias <number>'");
      }
      bias = true;
    } else if (key == "dense") {
      double value = 0;
      if (!expectFields(3) || !parseDouble(f[2], value)) {
        return formatError(source_name, line_no, "expected 'dense <name> <number>'");
      }
      size_t index = 0;
      while (index < difficulty::kDenseCount && difficulty::denseName(index) != f[1]) {
        ++index;
      }
      if (index == difficulty::kDenseCount) {
        return formatError(source_name, line_no,
                           "unknown dense feature '" + std::string(f[1]) + "'");
      }
      if (dense_seen[index]) {
        return formatError(source_name, line_no,
                           "duplicate dense feature '" + std::string(f[1]) + "'");
      }
      dense_seen[index] = true;
      model->dense_[index] = static_cast<float>(value);
    } else if (key == "hashed") {
      uint32_t bucket = 0;
      double value = 0;
      if (!expectFields(3) || !parseUnsigned(f[1], bucket) || !parseDouble(f[2], value)) {
        return formatError(source_name, line_no, "expected 'hashed <bucket> <number>'");
      }
      if (bucket >= difficulty::kHashSize) {
        return formatError(source_name, line_no,
                           "bucket " + std::to_string(bucket) + " out of range (< " +
                               std::to_string(difficulty::kHashSize) + ")");
      }
      if (hashed[bucket] != 0) {
        return formatError(source_name, line_no, "duplicate bucket " + std::to_string(bucket));
      }
      hashed[bucket] = static_cast<float>(value);
      model->hashed_count_ += value != 0 ? 1 : 0;
    } else if (key == "domain") {
      double value = 0;
      std::optional<Domain> domain = f.size() == 3 ? parseDomain(f[1]) : std::nullopt;
      if (!domain || !parseDouble(f[2], value)) {
        return formatError(source_name, line_no, "expected 'domain <domain name> <number>'");
      }
      if (domain_seen[static_cast<size_t>(*domain)]) {
        return formatError(source_name, line_no, "duplicate domain '" + std::string(f[1]) + "'");
      }
      domain_seen[static_cast<size_t>(*domain)] = true;
      model->domain_bias_[static_cast<size_t>(*domain)] = static_cast<float>(value);
    } else if (key == "domain_hashed") {
      uint32_t bucket = 0;
      std::array<float, kDomainCount> weights{};
      bool ok = f.size() == 2 + kDomainCount && parseUnsigned(f[1], bucket);
      for (size_t i = 0; ok && i < kDomainCount; ++i) {
        double value = 0;
        ok = parseDouble(f[2 + i], value);
        weights[i] = static_cast<float>(value);
      }
      if (!ok) {
        return formatError(source_name, line_no,
                           "expected 'domain_hashed <bucket>' and " +
                               std::to_string(kDomainCount) + " numbers");
      }
      if (bucket >= difficulty::kHashSize) {
        return formatError(source_name, line_no,
                           "bucket " + std::to_string(bucket) + " out of range (< " +
                               std::to_string(difficulty::kHashSize) + ")");
      }
      if (!domain_hashed.emplace(bucket, weights).second) {
        return formatError(source_name, line_no, "duplicate domain bucket " + std::to_string(bucket));
      }
    } else {
      return formatError(source_name, line_no, "unknown key '" + std::string(key) + "'");
    }
  }
  const size_t domains = static_cast<size_t>(std::count(domain_seen.begin(), domain_seen.end(), true));
  if ((domains != 0 || !domain_hashed.empty()) && domains != kDomainCount) {
    return formatError(source_name, line_no,
                       "the domain model needs a 'domain' line for each of the " +
                           std::to_string(kDomainCount) + " domains");
  }
  model->has_domain_ = domains == kDomainCount;
  model->domain_present_.assign(difficulty::kHashSize / 64, 0);
  model->domain_rank_.assign(difficulty::kHashSize / 64, 0);
  for (const auto& [bucket, weights] : domain_hashed) {  // in bucket order
    model->domain_present_[bucket >> 6] |= uint64_t{1} << (bucket & 63);
    // 8 bits per weight and one scale per bucket: 12 bytes a bucket instead of 32, so the
    // lookups of a request stay in L2 (the weights file has 3 significant digits anyway).
    float max_abs = 0;
    for (float w : weights) {
      max_abs = std::max(max_abs, std::fabs(w));
    }
    const float scale = max_abs > 0 ? max_abs / 127 : 1;
    model->domain_scales_.push_back(scale);
    for (float w : weights) {
      model->domain_weights_.push_back(static_cast<int8_t>(std::lround(w / scale)));
    }
  }
  uint32_t rank = 0;
  for (size_t word = 0; word < model->domain_present_.size(); ++word) {
    model->domain_rank_[word] = rank;
    rank += static_cast<uint32_t>(std::popcount(model->domain_present_[word]));
  }
  if (!header) {
    return formatError(source_name, line_no == 0 ? 1 : line_no, "empty weights file");
  }
  const char* missing = !config ? "config" : !threshold ? "threshold" : !bias ? "bias" : nullptr;
  if (missing != nullptr) {
    return formatError(source_name, line_no, std::string("missing '") + missing + "' line");
  }
  model->compactHashed(hashed);
  return std::shared_ptr<const DifficultyModel>(std::move(model));
}

void DifficultyModel::compactHashed(const std::vector<float>& dense) {
  present_.assign(dense.size() / 64, 0);
  rank_.assign(dense.size() / 64, 0);
  values_.clear();
  for (size_t word = 0; word < present_.size(); ++word) {
    rank_[word] = static_cast<uint32_t>(values_.size());
    for (size_t bit = 0; bit < 64; ++bit) {
      const float value = dense[word * 64 + bit];
      if (value != 0) {
        present_[word] |= uint64_t{1} << bit;
        values_.push_back(value);
      }
    }
  }
}

Result<std::shared_ptr<const DifficultyModel>> DifficultyModel::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return makeError(ErrorCode::NotFound, ErrorSource::Config,
                     path + ": cannot read the difficulty weights file");
  }
  std::ostringstream content;
  content << in.rdbuf();
  return parse(content.str(), path);
}

std::shared_ptr<const DifficultyModel> DifficultyModel::builtin() {
  static const std::shared_ptr<const DifficultyModel> model = [] {
    auto parsed = parse(kBuiltinDifficultyWeights, "router/data/difficulty_weights.txt");
    if (!parsed) {
      std::fprintf(stderr, "embedded difficulty weights are invalid: %s\n",
                   parsed.error().message.c_str());
      std::abort();
    }
    return *parsed;
  }();
  return model;
}

DifficultyScore DifficultyModel::score(const difficulty::Features& features) const {
  double logit = bias_;
  for (size_t i = 0; i < difficulty::kDenseCount; ++i) {
    logit += static_cast<double>(dense_[i]) * features.dense[i];
  }
  float words = 0;
  float chars = 0;
  if (hashed_count_ != 0) {  // the shipped weights have none (tests/eval/README.md)
    for (uint32_t bucket : features.words) {
      words += hashedWeight(bucket);
    }
    for (uint32_t bucket : features.chars) {
      chars += hashedWeight(bucket);
    }
  }
  logit += static_cast<double>(words) * features.word_scale +
           static_cast<double>(chars) * features.char_scale;
  return DifficultyScore{sigmoid(logit), features.high_stakes, domainOf(features)};
}

Domain DifficultyModel::domainOf(const difficulty::Features& features) const {
  if (!has_domain_) {
    return Domain::General;
  }
  // Word unigrams (the even entries; odd ones are bigrams, which carry the phrasing of the
  // training sources more than their subject) and character 4-grams (word stems: "econom").
  auto add = [this](uint32_t bucket, std::array<float, kDomainCount>& sums) {
    const uint64_t word = domain_present_[bucket >> 6];
    const uint64_t bit = uint64_t{1} << (bucket & 63);
    if ((word & bit) == 0) {
      return;
    }
    const uint32_t index =
        domain_rank_[bucket >> 6] + static_cast<uint32_t>(std::popcount(word & (bit - 1)));
    const int8_t* q = &domain_weights_[index * kDomainCount];
    const float scale = domain_scales_[index];
    for (size_t i = 0; i < kDomainCount; ++i) {
      sums[i] += scale * static_cast<float>(q[i]);
    }
  };
  std::array<float, kDomainCount> sums{};
  for (size_t k = 0; k < features.words.size(); k += 2) {
    add(features.words[k], sums);
  }
  std::array<float, kDomainCount> char_sums{};
  for (uint32_t bucket : features.chars) {
    add(bucket, char_sums);
  }
  size_t best = 0;
  float best_logit = 0;
  for (size_t i = 0; i < kDomainCount; ++i) {
    const float logit =
        domain_bias_[i] + sums[i] * features.word_scale + char_sums[i] * features.char_scale;
    if (i == 0 || logit > best_logit) {
      best = i;
      best_logit = logit;
    }
  }
  return static_cast<Domain>(best);
}

DifficultyScore DifficultyModel::score(std::span<const std::string_view> texts) const {
  thread_local difficulty::Features features;
  difficulty::extract(texts, features);
  return score(features);
}

}  // namespace sy::router
