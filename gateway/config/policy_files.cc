// `include:`: a policy split over several files (a team owns its keys, the DLP owners their
// custom rules), assembled into one YAML document before anything is decoded, so that every
// consumer (serve and its reloads, lint, explain, test) decodes the same policy.
//
// Each file keeps its own positions: its text is parsed after as many blank lines as all the
// files before it have lines, so the YAML positions of all files form one numbering, which
// SourceMap turns back into "file:line" (yaml-cpp marks carry no file name).
#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "gateway/config/decode_sections.h"

namespace sy::config {
namespace {

namespace fs = std::filesystem;

// How a section set in two files is merged. Lists append, in file order; named maps take the
// union (a name defined twice is a duplicate key, reported at its second definition). Ordered
// rule lists (routing, dlp.actions) and single settings have one owner: their order or value
// would otherwise depend on how files are included.
enum class Merge { Append, Union, Nested, Once };

Merge mergeOf(std::string_view path) {
  static constexpr std::pair<std::string_view, Merge> kRules[] = {
      {"backends", Merge::Append},       {"keys", Merge::Append},
      {"dlp.custom", Merge::Append},     {"dlp.allow_patterns", Merge::Append},
      {"auth.admin_keys", Merge::Append}, {"tiers", Merge::Union},
      {"models", Merge::Union},          {"teams", Merge::Union},
      {"dlp.detectors", Merge::Union},   {"dlp", Merge::Nested},
      {"auth", Merge::Nested},
  };
  for (const auto& [name, merge] : kRules) {
    if (name == path) {
      return merge;
    }
  }
  return Merge::Once;
}

constexpr std::string_view kSplittable =
    "backends, keys, tiers, models, teams, dlp.custom, dlp.allow_patterns, dlp.detectors and "
    "auth.admin_keys";

using Entries = std::vector<std::pair<YAML::Node, YAML::Node>>;

// True when `text` has nothing but blank lines and comments.
bool onlyComments(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#') {
      return false;
    }
    at = end + 1;
  }
  return true;
}

YAML::Node toMap(const Entries& entries) {
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& [key, value] : entries) {
    out.force_insert(key, value);  // the key node itself: its position stays with it
  }
  return out;
}

class Assembler {
 public:
  Assembler(Decoder& decoder, SourceMap& sources) : decoder_(decoder), sources_(sources) {}

  // `text` of `path` (`canonical` for cycle checks) with its includes merged in.
  std::optional<YAML::Node> load(const std::string& text, const std::string& path,
                                 const fs::path& canonical) {
    const int first_line = next_line_;
    sources_.files.push_back({path, first_line, text});
    next_line_ = first_line + static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    std::optional<YAML::Node> root =
        parseDocument(decoder_, std::string(static_cast<size_t>(first_line - 1), '\n') + text);
    if (!root || !root->IsMap()) {
      return root;  // the decoder reports a root that is not a mapping
    }
    const YAML::Node& includes = std::as_const(*root)["include"];
    if (!includes.IsDefined()) {
      return root;
    }
    Entries own;
    YAML::Mark include_mark;
    for (const auto& entry : *root) {
      if (entry.first.IsScalar() && entry.first.Scalar() == "include") {
        include_mark = entry.first.Mark();
      } else {
        own.emplace_back(entry.first, entry.second);
      }
    }
    YAML::Node merged = toMap(own);
    stack_.push_back(canonical);
    for (const Located& item : includedFiles(includes, include_mark)) {
      if (auto child = include(item, path)) {
        merged = mergeMaps(merged, *child, "");
      }
    }
    stack_.pop_back();
    return merged;
  }

 private:
  std::vector<Located> includedFiles(const YAML::Node& includes, const YAML::Mark& mark) {
    const Located where{includes, "include", includes.IsNull() ? mark : includes.Mark()};
    if (includes.IsNull()) {
      return {};
    }
    if (includes.IsScalar()) {
      return {where};
    }
    return decoder_.sequence(where);
  }

  // The root of the file `item` names (relative to `from`'s folder), or nullopt after reporting
  // why it cannot be included.
  std::optional<YAML::Node> include(const Located& item, const std::string& from) {
    const auto name = decoder_.scalar(item, "a file path");
    if (!name) {
      return std::nullopt;
    }
    if (name->empty()) {
      decoder_.error(item, "must not be empty");
      return std::nullopt;
    }
    const fs::path path = (fs::path(from).parent_path() / *name).lexically_normal();
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    if (ec) {
      canonical = path;
    }
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i] == canonical) {
        std::string cycle;
        for (size_t j = i; j < stack_.size(); ++j) {
          cycle += strCat(stack_[j].filename().string(), " -> ");
        }
        decoder_.error(item, strCat("include cycle: ", cycle, canonical.filename().string()));
        return std::nullopt;
      }
    }
    if (!seen_.insert(canonical).second) {
      decoder_.error(item, strCat("'", path.string(), "' is already included"));
      return std::nullopt;
    }
    if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {  // a device never ends
      decoder_.error(item, strCat("'", path.string(), "' is not a regular file"));
      return std::nullopt;
    }
    const auto text = readFile(path.string());
    if (!text) {
      decoder_.error(item, strCat("cannot read '", path.string(), "': ", text.error()));
      return std::nullopt;
    }
    std::string_view contents = *text;
    if (contents.starts_with("\xEF\xBB\xBF")) {  // a BOM is only valid at the start of a stream
      contents.remove_prefix(3);
    }
    if (onlyComments(contents)) {  // a team's file with nothing (left) in it: no sections
      sources_.files.push_back({path.string(), next_line_, std::string(contents)});
      next_line_ += static_cast<int>(std::count(contents.begin(), contents.end(), '\n')) + 1;
      return YAML::Node(YAML::NodeType::Map);
    }
    auto root = load(std::string(contents), path.string(), canonical);
    if (root && !root->IsMap()) {
      decoder_.error(Located{*root, "", root->Mark()},
                     strCat("expected a mapping of policy sections, got ", describeNode(*root)));
      return std::nullopt;
    }
    return root;
  }

  // `into` with the sections of `from` merged in (see Merge); `prefix` is the path of the maps.
  YAML::Node mergeMaps(const YAML::Node& into, const YAML::Node& from, const std::string& prefix) {
    Entries entries;
    for (const auto& entry : into) {
      entries.emplace_back(entry.first, entry.second);
    }
    for (const auto& entry : from) {
      const auto same = std::find_if(entries.begin(), entries.end(), [&](const auto& existing) {
        return entry.first.IsScalar() && existing.first.IsScalar() &&
               existing.first.Scalar() == entry.first.Scalar();
      });
      if (same == entries.end()) {
        entries.emplace_back(entry.first, entry.second);
        continue;
      }
      const std::string path = strCat(prefix, entry.first.Scalar());
      YAML::Node& have = same->second;
      const YAML::Node& add = entry.second;
      switch (mergeOf(path)) {
        case Merge::Append:
          if (have.IsSequence() && add.IsSequence()) {
            YAML::Node list(YAML::NodeType::Sequence);
            for (const YAML::Node& item : have) {
              list.push_back(item);
            }
            for (const YAML::Node& item : add) {
              list.push_back(item);
            }
            have = list;
            continue;
          }
          break;
        case Merge::Union:
          if (have.IsMap() && add.IsMap()) {
            Entries both;
            for (const YAML::Node* map : std::initializer_list<const YAML::Node*>{&have, &add}) {
              for (const auto& item : *map) {
                both.emplace_back(item.first, item.second);
              }
            }
            have = toMap(both);  // a name in both: Mapping reports the duplicate key
            continue;
          }
          break;
        case Merge::Nested:
          if (have.IsMap() && add.IsMap()) {
            have = mergeMaps(have, add, path + ".");
            continue;
          }
          break;
        case Merge::Once:
          decoder_.error(entry.first.Mark(), path,
                         strCat("already set at ", decoder_.lineOf(same->first.Mark(), entry.first.Mark()),
                                " (only ", kSplittable, " may be split across included files)"));
          continue;
      }
      decoder_.error(entry.first.Mark(), path,
                     strCat("already set at ", decoder_.lineOf(same->first.Mark(), entry.first.Mark()),
                            " as ", describeNode(have), ": both must be ",
                            mergeOf(path) == Merge::Append ? "sequences" : "mappings"));
    }
    return toMap(entries);
  }

  Decoder& decoder_;
  SourceMap& sources_;
  int next_line_ = 1;
  std::vector<fs::path> stack_;  // the files being included, outermost first
  std::set<fs::path> seen_;
};

}  // namespace

std::optional<YAML::Node> assemblePolicy(Decoder& decoder, const std::string& yaml,
                                         const std::string& path, SourceMap& sources) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  if (ec) {
    canonical = path;
  }
  return Assembler(decoder, sources).load(yaml, path, canonical);
}

}  // namespace sy::config
