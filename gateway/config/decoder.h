// Internal to gateway/config (and the cases files of `switchyard test`, decoded with the same
// strictness in gateway/cli/test_cases.cc): the strict YAML walker. Decoder collects every located error of
// one load; Mapping checks one YAML mapping (unknown and duplicate keys, required keys).
// Not thread-safe: one Decoder per load, on one thread. Mappings and Located values hold
// yaml-cpp node handles, which keep their document alive.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/config/str_cat.h"

namespace sy::config {

// A node to decode, its path for messages ("backends[0].url") and where problems with it are
// reported. For a null map value, `mark` is the key's: yaml-cpp places implicit nulls at the
// next token, often on another line.
struct Located {
  YAML::Node node;
  std::string path;
  YAML::Mark mark;
};

// Levenshtein distance, for "did you mean" hints on misspelt names.
size_t editDistance(std::string_view a, std::string_view b);

class Decoder {
 public:
  // `sources` (null: one file): maps assembled line numbers to files (see SourceMap); it must
  // outlive the decoder and may grow while decoding (each included file adds itself).
  explicit Decoder(std::string file, const SourceMap* sources = nullptr)
      : file_(std::move(file)), sources_(sources) {}

  // Records "path: message" ("message" when path is empty) at `mark` (0-based, as yaml-cpp).
  void error(const YAML::Mark& mark, std::string_view path, std::string_view message);
  void error(const Located& where, std::string_view message) {
    error(where.mark, where.path, message);
  }

  bool hasErrors() const { return !errors_.empty(); }
  // The file `mark` is in (an included one, or the policy file itself), as named to the loader:
  // paths written in a policy file are relative to it.
  std::string fileOf(const YAML::Mark& mark) const;
  // Every error so far, sorted by position (stable: same position keeps report order), each
  // located in its own file.
  ConfigErrors takeErrors();
  // "line N", or "file:N" when `mark` is in another file than `other` (for "first at ...").
  std::string lineOf(const YAML::Mark& mark, const YAML::Mark& other) const;

  // The items of a sequence, located as "path[i]"; reports anything else and returns none.
  std::vector<Located> sequence(const Located& where);

  // The scalar text of `where`, or nullopt after "expected <expected>, got <what it is>".
  std::optional<std::string> scalar(const Located& where, std::string_view expected);

  // Each read* decodes `value` into `out` when it is present and valid, and returns true.
  // Absent: returns false silently (`out` keeps its default). Invalid: reports, returns false.
  bool readString(const std::optional<Located>& value, std::string& out);
  // Strict booleans: `yes`, `on` and `1` are typos in a security policy, not spellings of true.
  bool readBool(const std::optional<Located>& value, bool& out);
  bool readNonEmptyString(const std::optional<Located>& value, std::string& out);
  bool readName(const std::optional<Located>& value, std::string& out);  // [A-Za-z0-9._-]+
  bool readInteger(const std::optional<Located>& value, uint32_t& out, uint32_t min);
  bool readNumber(const std::optional<Located>& value, double& out);  // finite, >= 0
  bool readDuration(const std::optional<Located>& value, std::chrono::milliseconds& out);
  bool readSize(const std::optional<Located>& value, uint64_t& out,
                uint64_t max = std::numeric_limits<uint64_t>::max());
  bool readSize(const std::optional<Located>& value, uint32_t& out);
  bool readListenAddress(const std::optional<Located>& value, ListenAddress& out);

  // `table` is one of the k* spelling tables of value_parsers.h; `what` names the enum ("kind").
  template <class Enum, size_t N>
  bool readEnum(const std::optional<Located>& value,
                const std::array<std::pair<std::string_view, Enum>, N>& table,
                std::string_view what, Enum& out);

 private:
  std::string file_;
  const SourceMap* sources_ = nullptr;
  ConfigErrors errors_;  // lines across the assembled files until takeErrors()
};

// "a mapping", "a sequence", "null" or the quoted scalar text, for "expected X, got Y".
std::string describeNode(const YAML::Node& node);

// "letters, digits, ..." hint shared by every name error.
inline constexpr std::string_view kNameRule = "use letters, digits, '.', '_' and '-'";
inline constexpr std::string_view kAliasNameRule =
    "use letters, digits, '.', '_', '-', ':', '/' and the globs '*' and '?', not starting with '/'";

class Mapping {
 public:
  struct Entry {
    std::string key;
    Located key_at;  // the key node itself (node, "path.key", mark)
    Located value;
  };

  // Opens `where` as a mapping. With `allowed_keys` (a fixed schema), other keys are reported
  // as unknown; with nullopt (maps keyed by user names), every key is accepted. Duplicate keys
  // and non-scalar keys are reported and skipped. If `where` is not a mapping, reports it and
  // valid() is false (then every lookup is absent and entries() is empty).
  Mapping(Decoder& decoder, const Located& where,
          std::optional<std::initializer_list<std::string_view>> allowed_keys);

  bool valid() const { return valid_; }
  const Located& where() const { return where_; }
  const std::vector<Entry>& entries() const { return entries_; }

  // The value under `key`, or nullopt when absent or explicitly null (`key: ~`).
  std::optional<Located> optional(std::string_view key) const;
  // The value under `key`, null included (the reader reports it); when absent, reports
  // "missing required key" at the mapping and returns nullopt.
  std::optional<Located> required(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }  // null included

 private:
  const Entry* find(std::string_view key) const;

  Decoder& decoder_;
  Located where_;
  bool valid_ = false;
  std::vector<Entry> entries_;
};

template <class Enum, size_t N>
bool Decoder::readEnum(const std::optional<Located>& value,
                       const std::array<std::pair<std::string_view, Enum>, N>& table,
                       std::string_view what, Enum& out) {
  if (!value) {
    return false;
  }
  const auto text = scalar(*value, "a string");
  if (!text) {
    return false;
  }
  std::string expected;
  for (const auto& [name, enum_value] : table) {
    if (name == *text) {
      out = enum_value;
      return true;
    }
    expected += strCat(expected.empty() ? "" : ", ", name);
  }
  error(*value, strCat("unknown ", what, " '", *text, "' (expected one of: ", expected, ")"));
  return false;
}

}  // namespace sy::config
