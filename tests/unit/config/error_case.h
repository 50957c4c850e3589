// Table-driven config error tests: one YAML snippet per case, with the exact errors it must
// produce (none = it must load). The TEST_P lives in config_errors_test.cc; each *_test.cc adds
// its own table with INSTANTIATE_TEST_SUITE_P. Test-only; no shared state.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sy::config {

struct ErrorCase {
  std::string name;                 // the gtest case name: letters and digits only
  std::string yaml;                 // loaded as "policy.yaml"
  std::vector<std::string> errors;  // ConfigError::str() of each, in order; empty = loads
};

inline void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

inline std::string errorCaseName(const testing::TestParamInfo<ErrorCase>& info) {
  return info.param.name;
}

class ConfigErrorTest : public testing::TestWithParam<ErrorCase> {};

// Served anonymously: a policy without keys needs it (see kCatalog).
inline constexpr std::string_view kAnonymous = "auth: {anonymous: true}\n";

// A valid catalog (lines 1-4), appended after the section under test, and (line 5) kAnonymous so
// that the "no keys" rule stays out of cases about other sections.
inline constexpr std::string_view kCatalog =
    "backends:\n"
    "  - {name: a, url: http://h, model: m}\n"
    "tiers:\n"
    "  t: {backends: [a]}\n"
    "auth: {anonymous: true}\n";

// `cases` with kAnonymous appended to each YAML, for tables whose YAML does not end with kCatalog.
inline std::vector<ErrorCase> servedAnonymously(std::vector<ErrorCase> cases) {
  for (ErrorCase& c : cases) {
    c.yaml += kAnonymous;
  }
  return cases;
}

// One valid backend `a` plus `fields` (each line indented by 4 spaces): the first field is on
// line 5, and its value starts at column 7 + the key's length.
inline std::string backendWith(std::string_view fields) {
  return std::string("backends:\n  - name: a\n    url: http://h\n    model: m\n")
      .append(fields)
      .append("tiers:\n  t: {backends: [a]}\n");
}

}  // namespace sy::config
