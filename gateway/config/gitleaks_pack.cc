#include "gateway/config/gitleaks_pack.h"

#include <re2/re2.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

namespace sy::config {
namespace {

using policies::PackAllowlist;
using policies::PackRule;

constexpr int64_t kRegexMaxMem = 8 << 20;

struct Reader {
  const std::string& display;
  std::vector<std::string>& errors;

  std::string at(const toml::source_region& region) const {
    return display + ":" + std::to_string(region.begin.line) + ":" +
           std::to_string(region.begin.column);
  }
  void error(const toml::node& node, std::string_view message) {
    errors.push_back(at(node.source()) + ": " + std::string(message));
  }

  // Rejects keys outside `known` (a typo in a security rule must not pass silently).
  void checkKeys(const toml::table& table, std::initializer_list<std::string_view> known,
                 std::string_view what) {
    for (const auto& [key, value] : table) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        error(value, std::string(what) + ": unknown key '" + std::string(key.str()) + "'");
      }
    }
  }

  bool readString(const toml::table& table, std::string_view key, std::string& out) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return false;
    }
    if (const auto* s = node->as_string()) {
      out = s->get();
      return true;
    }
    error(*node, std::string(key) + ": expected a string");
    return false;
  }

  void readStrings(const toml::table& table, std::string_view key, std::vector<std::string>& out) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      error(*node, std::string(key) + ": expected an array of strings");
      return;
    }
    for (const toml::node& item : *array) {
      if (const auto* s = item.as_string()) {
        out.push_back(s->get());
      } else {
        error(item, std::string(key) + ": expected a string");
      }
    }
  }

  bool checkRegex(const toml::node& node, const std::string& regex, std::string_view what) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(kRegexMaxMem);
    const RE2 re(regex, options);
    if (!re.ok()) {
      error(node, std::string(what) + ": invalid regex: " + re.error());
    }
    return re.ok();
  }

  // One allowlist table; `what` names it in messages.
  PackAllowlist allowlist(const toml::table& table, const std::string& what,
                          std::vector<std::string>* target_rules) {
    checkKeys(table,
              {"description", "condition", "regexTarget", "regexes", "stopwords", "paths",
               "commits", "targetRules"},
              what);
    PackAllowlist out;
    std::string condition = "OR";
    readString(table, "condition", condition);
    if (condition == "AND" || condition == "and") {
      out.all = true;
    } else if (condition != "OR" && condition != "or" && condition != "") {
      error(*table.get("condition"), what + ": condition must be OR or AND");
    }
    std::string target = "secret";
    if (readString(table, "regexTarget", target)) {
      if (target == "secret") {
        out.target = PackAllowlist::Target::Secret;
      } else if (target == "match") {
        out.target = PackAllowlist::Target::Match;
      } else if (target == "line") {
        out.target = PackAllowlist::Target::Line;
      } else {
        error(*table.get("regexTarget"), what + ": regexTarget must be secret, match or line");
      }
    }
    if (const toml::array* regexes = table["regexes"].as_array()) {
      for (const toml::node& item : *regexes) {
        const auto* s = item.as_string();
        if (s == nullptr) {
          error(item, what + ": regexes: expected a string");
        } else if (checkRegex(item, s->get(), what)) {
          out.regexes.push_back(s->get());
        }
      }
    } else if (table.contains("regexes")) {
      error(*table.get("regexes"), what + ": regexes: expected an array of strings");
    }
    readStrings(table, "stopwords", out.stopwords);
    std::vector<std::string> ignored;
    readStrings(table, "paths", ignored);
    readStrings(table, "commits", ignored);
    out.has_path_criteria = !ignored.empty();
    if (target_rules != nullptr) {
      readStrings(table, "targetRules", *target_rules);
    } else if (table.contains("targetRules")) {
      error(*table.get("targetRules"),
            what + ": targetRules belongs in a top-level [[allowlists]]");
    }
    return out;
  }

  // Applies to a prompt at all: an OR list of only paths/commits never matches text.
  static bool usable(const PackAllowlist& list) {
    return !list.regexes.empty() || !list.stopwords.empty();
  }

  void rule(const toml::table& table, GitleaksLoad& load) {
    checkKeys(table,
              {"id", "description", "regex", "secretGroup", "entropy", "keywords", "path", "tags",
               "allowlist", "allowlists", "skipReport"},
              "rule");
    PackRule out;
    out.where = at(table.source());
    if (!readString(table, "id", out.id) || out.id.empty()) {
      errors.push_back(out.where + ": rule: id is required");
      return;
    }
    const std::string what = "rule '" + out.id + "'";
    readString(table, "description", out.description);
    if (table.contains("path")) {
      load.skipped_ids.push_back(out.id);  // needs a file path: nothing to match in a prompt
      return;
    }
    const toml::node* regex = table.get("regex");
    if (regex == nullptr) {
      errors.push_back(out.where + ": " + what + ": regex is required (path-free rules)");
      return;
    }
    if (!readString(table, "regex", out.regex) || !checkRegex(*regex, out.regex, what)) {
      return;
    }
    if (const toml::node* group = table.get("secretGroup")) {
      const auto* value = group->as_integer();
      if (value == nullptr || value->get() < 0 || value->get() > 15) {
        error(*group, what + ": secretGroup must be an integer in [0, 15]");
      } else {
        out.secret_group = static_cast<int>(value->get());
      }
    }
    if (const toml::node* entropy = table.get("entropy")) {
      std::optional<double> value = entropy->value<double>();
      if (!value || *value < 0 || *value > 8) {
        error(*entropy, what + ": entropy must be a number in [0, 8]");
      } else {
        out.entropy = *value;
      }
    }
    readStrings(table, "keywords", out.keywords);
    for (std::string& keyword : out.keywords) {
      std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    std::erase_if(out.keywords, [](const std::string& k) { return k.empty(); });
    if (const toml::table* single = table["allowlist"].as_table()) {
      PackAllowlist list = allowlist(*single, what + " allowlist", nullptr);
      if (usable(list)) {
        out.allowlists.push_back(std::move(list));
      }
    }
    if (const toml::array* lists = table["allowlists"].as_array()) {
      for (const toml::node& item : *lists) {
        if (const toml::table* list_table = item.as_table()) {
          PackAllowlist list = allowlist(*list_table, what + " allowlist", nullptr);
          if (usable(list)) {
            out.allowlists.push_back(std::move(list));
          }
        } else {
          error(item, what + ": allowlists: expected tables");
        }
      }
    }
    load.pack.rules.push_back(std::move(out));
  }
};

}  // namespace

GitleaksLoad loadGitleaksPack(const std::string& path, const std::string& display) {
  GitleaksLoad load;
  load.pack.source = display;
  Reader reader{display, load.errors};
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    if (begin.line == 0) {
      load.errors.push_back(display + ": " + std::string(e.description()));
    } else {
      load.errors.push_back(display + ":" + std::to_string(begin.line) + ":" +
                            std::to_string(begin.column) + ": " + std::string(e.description()));
    }
    return load;
  }
  reader.checkKeys(root, {"title", "description", "minVersion", "allowlist", "allowlists", "rules"},
                   "gitleaks config");
  if (root.contains("extend")) {
    reader.error(*root.get("extend"), "[extend] is not supported: list every rule in the file");
  }
  if (const toml::table* global = root["allowlist"].as_table()) {
    PackAllowlist list = reader.allowlist(*global, "[allowlist]", nullptr);
    if (Reader::usable(list)) {
      load.pack.global_allowlists.push_back(std::move(list));
    }
  }
  std::vector<std::pair<std::vector<std::string>, PackAllowlist>> targeted;
  if (const toml::array* lists = root["allowlists"].as_array()) {
    for (const toml::node& item : *lists) {
      const toml::table* table = item.as_table();
      if (table == nullptr) {
        reader.error(item, "allowlists: expected tables");
        continue;
      }
      std::vector<std::string> targets;
      PackAllowlist list = reader.allowlist(*table, "[[allowlists]]", &targets);
      if (!Reader::usable(list)) {
        continue;
      }
      if (targets.empty()) {
        load.pack.global_allowlists.push_back(std::move(list));
      } else {
        targeted.emplace_back(std::move(targets), std::move(list));
      }
    }
  }
  if (const toml::array* rules = root["rules"].as_array()) {
    for (const toml::node& item : *rules) {
      if (const toml::table* table = item.as_table()) {
        reader.rule(*table, load);
      } else {
        reader.error(item, "rules: expected [[rules]] tables");
      }
    }
  } else if (root.contains("rules")) {
    reader.error(*root.get("rules"), "rules: expected [[rules]] tables");
  }
  for (auto& [targets, list] : targeted) {
    for (PackRule& rule : load.pack.rules) {
      if (std::find(targets.begin(), targets.end(), rule.id) != targets.end()) {
        rule.allowlists.push_back(list);
      }
    }
  }
  return load;
}

}  // namespace sy::config
