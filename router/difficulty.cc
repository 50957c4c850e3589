#include "router/difficulty.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
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

Result<std::shared_ptr<const DifficultyModel>> DifficultyModel::parse(
    std::string_view text, std::string_view source_name) {
  std::shared_ptr<DifficultyModel> model(new DifficultyModel());
  std::vector<float> hashed(difficulty::kHashSize, 0.0f);  // compacted once the file is read
  std::vector<bool> dense_seen(difficulty::kDenseCount, false);
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
    } else {
      return formatError(source_name, line_no, "unknown key '" + std::string(key) + "'");
    }
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
  for (uint32_t bucket : features.words) {
    words += hashedWeight(bucket);
  }
  float chars = 0;
  for (uint32_t bucket : features.chars) {
    chars += hashedWeight(bucket);
  }
  logit += static_cast<double>(words) * features.word_scale +
           static_cast<double>(chars) * features.char_scale;
  return DifficultyScore{sigmoid(logit), features.high_stakes};
}

DifficultyScore DifficultyModel::score(std::span<const std::string_view> texts) const {
  thread_local difficulty::Features features;
  difficulty::extract(texts, features);
  return score(features);
}

}  // namespace sy::router
