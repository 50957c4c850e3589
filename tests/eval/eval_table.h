// The one markdown table dlp_eval prints. Single-threaded value types.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sy::eval {

inline std::optional<double> ratio(size_t num, size_t den) {
  if (den == 0) {
    return std::nullopt;
  }
  return static_cast<double>(num) / static_cast<double>(den);
}

struct Row {
  Row(std::string suite_name, std::string slice_name)
      : suite(std::move(suite_name)), slice(std::move(slice_name)) {}

  std::string suite;
  std::string slice;
  size_t items = 0;
  std::optional<double> precision;
  std::optional<double> recall;
  std::optional<double> f1;
  std::optional<double> fp_rate;  // share of negatives flagged
  std::string notes;

  void setPrf(size_t pred_ok, size_t predicted, size_t gold_ok, size_t gold) {
    precision = ratio(pred_ok, predicted);
    recall = ratio(gold_ok, gold);
    double p = precision.value_or(0);
    double r = recall.value_or(0);
    if (predicted == 0) {
      precision.reset();
    }
    f1 = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
};

struct Table {
  std::vector<Row> rows;

  static std::string cell(const std::optional<double>& v, bool percent = false) {
    if (!v.has_value()) {
      return "–";
    }
    char buffer[32];
    if (percent) {
      std::snprintf(buffer, sizeof buffer, "%.1f%%", *v * 100);
    } else {
      std::snprintf(buffer, sizeof buffer, "%.3f", *v);
    }
    return buffer;
  }

  void print() const {
    std::printf("| suite | slice | n | precision | recall | F1 | flagged negatives | notes |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---|\n");
    for (const Row& r : rows) {
      std::printf("| %s | %s | %zu | %s | %s | %s | %s | %s |\n", r.suite.c_str(), r.slice.c_str(),
                  r.items, cell(r.precision).c_str(), cell(r.recall).c_str(), cell(r.f1).c_str(),
                  cell(r.fp_rate, true).c_str(), r.notes.c_str());
    }
  }
};

}  // namespace sy::eval
