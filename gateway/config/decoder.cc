#include "gateway/config/decoder.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "gateway/config/value_parsers.h"

namespace sy::config {
namespace {

int oneBased(int zero_based) { return zero_based < 0 ? 0 : zero_based + 1; }

// Where to report a problem with `node`, falling back to `fallback` (its key or container)
// for nulls and nodes without a position.
YAML::Mark markOf(const YAML::Node& node, const YAML::Mark& fallback) {
  if (node.IsNull() || node.Mark().is_null()) {
    return fallback;
  }
  return node.Mark();
}

// Messages echo values from the file; escaping control characters keeps one error per line.
std::string escapeControls(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += strCat("\\x", kHex[byte >> 4], kHex[byte & 0xf]);
    } else {
      out += c;
    }
  }
  return out;
}

std::string joinKeys(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (std::string_view key : keys) {
    out += strCat(out.empty() ? "" : ", ", key);
  }
  return out;
}

}  // namespace

std::string describeNode(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      return strCat("'", node.Scalar(), "'");
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "null";
}

void Decoder::error(const YAML::Mark& mark, std::string_view path, std::string_view message) {
  errors_.push_back(
      ConfigError{file_, oneBased(mark.line), oneBased(mark.column),
                  escapeControls(path.empty() ? message : strCat(path, ": ", message))});
}

ConfigErrors Decoder::takeErrors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  if (sources_ != nullptr) {
    for (ConfigError& error : errors_) {
      std::tie(error.file, error.line) = sources_->locate(error.line, error.file);
    }
  }
  return std::exchange(errors_, {});
}

std::string Decoder::lineOf(const YAML::Mark& mark, const YAML::Mark& other) const {
  const int line = oneBased(mark.line);
  if (sources_ == nullptr) {
    return strCat("line ", line);
  }
  const auto [file, local] = sources_->locate(line, file_);
  if (file == sources_->locate(oneBased(other.line), file_).first) {
    return strCat("line ", local);
  }
  return strCat(file, ":", local);
}

std::string Decoder::fileOf(const YAML::Mark& mark) const {
  return sources_ == nullptr ? file_ : sources_->locate(oneBased(mark.line), file_).first;
}

std::pair<std::string, int> SourceMap::locate(int line, const std::string& fallback) const {
  if (files.empty() || line <= 0) {
    return {files.empty() ? fallback : files.front().path, line};
  }
  const File* in = &files.front();
  for (const File& file : files) {
    if (file.first_line <= line && file.first_line >= in->first_line) {
      in = &file;
    }
  }
  return {in->path, line - in->first_line + 1};
}

std::vector<Located> Decoder::sequence(const Located& where) {
  std::vector<Located> items;
  if (!where.node.IsSequence()) {
    error(where, strCat("expected a sequence, got ", describeNode(where.node)));
    return items;
  }
  size_t index = 0;
  for (const YAML::Node& item : where.node) {
    items.push_back(Located{item, strCat(where.path, "[", index++, "]"), markOf(item, where.mark)});
  }
  return items;
}

std::optional<std::string> Decoder::scalar(const Located& where, std::string_view expected) {
  if (!where.node.IsScalar()) {
    error(where, strCat("expected ", expected, ", got ", describeNode(where.node)));
    return std::nullopt;
  }
  return where.node.Scalar();
}

bool Decoder::readBool(const std::optional<Located>& value, bool& out) {
  if (!value) {
    return false;
  }
  const auto text = scalar(*value, "true or false");
  if (!text) {
    return false;
  }
  if (*text != "true" && *text != "false") {
    error(*value, strCat("expected true or false, got '", *text, "'"));
    return false;
  }
  out = *text == "true";
  return true;
}

bool Decoder::readString(const std::optional<Located>& value, std::string& out) {
  if (!value) {
    return false;
  }
  auto text = scalar(*value, "a string");
  if (!text) {
    return false;
  }
  out = std::move(*text);
  return true;
}

bool Decoder::readNonEmptyString(const std::optional<Located>& value, std::string& out) {
  std::string text;
  if (!readString(value, text)) {
    return false;
  }
  if (text.empty()) {
    error(*value, "must not be empty");
    return false;
  }
  out = std::move(text);
  return true;
}

bool Decoder::readName(const std::optional<Located>& value, std::string& out) {
  std::string text;
  if (!readString(value, text)) {
    return false;
  }
  if (!isValidName(text)) {
    error(*value, strCat("invalid name '", text, "' (", kNameRule, ")"));
    return false;
  }
  out = std::move(text);
  return true;
}

bool Decoder::readInteger(const std::optional<Located>& value, uint32_t& out, uint32_t min) {
  if (!value) {
    return false;
  }
  const auto text = scalar(*value, "an integer");
  if (!text) {
    return false;
  }
  const auto parsed = parseUnsigned(*text, std::numeric_limits<uint32_t>::max());
  if (!parsed) {
    error(*value, parsed.error());
    return false;
  }
  if (*parsed < min) {
    error(*value, min == 1 ? strCat("must be > 0, got '", *text, "'")
                           : strCat("must be >= ", min, ", got '", *text, "'"));
    return false;
  }
  out = static_cast<uint32_t>(*parsed);
  return true;
}

bool Decoder::readNumber(const std::optional<Located>& value, double& out) {
  if (!value) {
    return false;
  }
  const auto text = scalar(*value, "a number");
  if (!text) {
    return false;
  }
  const auto parsed = parseNonNegativeNumber(*text);
  if (!parsed) {
    error(*value, parsed.error());
    return false;
  }
  out = *parsed;
  return true;
}

bool Decoder::readDuration(const std::optional<Located>& value, std::chrono::milliseconds& out) {
  if (!value) {
    return false;
  }
  const auto text = scalar(*value, "a duration (e.g. 10s)");
  if (!text) {
    return false;
  }
  const auto parsed = parseDuration(*text);
  if (!parsed) {
    error(*value, parsed.error());
    return false;
  }
  out = *parsed;
  return true;
}

bool Decoder::readSize(const std::optional<Located>& value, uint64_t& out, uint64_t max) {
  if (!value) {
    return false;
  }
  const auto text = scalar(*value, "a size (e.g. 8MiB)");
  if (!text) {
    return false;
  }
  const auto parsed = parseSize(*text);
  if (!parsed) {
    error(*value, parsed.error());
    return false;
  }
  if (*parsed > max) {
    error(*value, strCat("size '", *text, "' is too large (max ", max, " bytes)"));
    return false;
  }
  out = *parsed;
  return true;
}

bool Decoder::readSize(const std::optional<Located>& value, uint32_t& out) {
  uint64_t size = 0;
  if (!readSize(value, size, std::numeric_limits<uint32_t>::max())) {
    return false;
  }
  out = static_cast<uint32_t>(size);
  return true;
}

bool Decoder::readListenAddress(const std::optional<Located>& value, ListenAddress& out) {
  if (!value) {
    return false;
  }
  const auto text = scalar(*value, "a listen address (host:port)");
  if (!text) {
    return false;
  }
  auto parsed = parseListenAddress(*text);
  if (!parsed) {
    error(*value, parsed.error());
    return false;
  }
  out = std::move(*parsed);
  return true;
}

Mapping::Mapping(Decoder& decoder, const Located& where,
                 std::optional<std::initializer_list<std::string_view>> allowed_keys)
    : decoder_(decoder), where_(where), valid_(where.node.IsMap()) {
  if (!valid_) {
    decoder_.error(where_, strCat("expected a mapping, got ", describeNode(where_.node)));
    return;
  }
  std::map<std::string, YAML::Mark, std::less<>> first_line;
  for (const auto& pair : where_.node) {
    const YAML::Node& key = pair.first;
    const YAML::Mark key_mark = markOf(key, where_.mark);
    if (!key.IsScalar()) {
      decoder_.error(key_mark, where_.path, "keys must be strings");
      continue;
    }
    const std::string path =
        where_.path.empty() ? key.Scalar() : strCat(where_.path, ".", key.Scalar());
    if (allowed_keys && std::find(allowed_keys->begin(), allowed_keys->end(), key.Scalar()) ==
                            allowed_keys->end()) {
      decoder_.error(key_mark, path,
                     strCat("unknown key (expected one of: ", joinKeys(*allowed_keys), ")"));
      continue;
    }
    const auto [it, inserted] = first_line.emplace(key.Scalar(), key_mark);
    if (!inserted) {
      decoder_.error(key_mark, path,
                     strCat("duplicate key (first at ", decoder_.lineOf(it->second, key_mark), ")"));
      continue;
    }
    entries_.push_back(Entry{key.Scalar(), Located{key, path, key_mark},
                             Located{pair.second, path, markOf(pair.second, key_mark)}});
  }
}

const Mapping::Entry* Mapping::find(std::string_view key) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const Entry& entry) { return entry.key == key; });
  return it == entries_.end() ? nullptr : &*it;
}

std::optional<Located> Mapping::optional(std::string_view key) const {
  const Entry* entry = find(key);
  if (entry == nullptr || entry->value.node.IsNull()) {
    return std::nullopt;
  }
  return entry->value;
}

std::optional<Located> Mapping::required(std::string_view key) const {
  const Entry* entry = find(key);
  if (entry == nullptr) {
    if (valid_) {
      decoder_.error(where_, strCat("missing required key '", key, "'"));
    }
    return std::nullopt;
  }
  return entry->value;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

}  // namespace sy::config
