#include "gateway/cli/test_cases.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>

#include "gateway/config/decoder.h"

namespace sy::cli {
namespace {

namespace json = boost::json;
using config::Decoder;
using config::Located;
using config::Mapping;
using config::strCat;

// The request keys that are not body fields.
constexpr std::array<std::string_view, 7> kRequestMeta = {
    "key", "team", "surface", "endpoint", "headers", "body", "prompt"};

// A YAML value as JSON. Quoted scalars are strings; plain ones are booleans, null or numbers
// when they read as such (YAML's core schema), strings otherwise.
json::value toJson(Decoder& decoder, const Located& where) {
  const YAML::Node& node = where.node;
  if (node.IsMap()) {
    json::object out;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        decoder.error(entry.first.Mark(), where.path, "keys must be strings");
        continue;
      }
      const std::string& key = entry.first.Scalar();
      out[key] = toJson(decoder, Located{entry.second, strCat(where.path, ".", key),
                                         entry.second.Mark()});
    }
    return out;
  }
  if (node.IsSequence()) {
    json::array out;
    for (const Located& item : decoder.sequence(where)) {
      out.push_back(toJson(decoder, item));
    }
    return out;
  }
  if (!node.IsScalar()) {
    return nullptr;
  }
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") {  // quoted: always a string
    return json::string(text);
  }
  if (text == "true" || text == "false") {
    return text == "true";
  }
  if (text == "null" || text == "~") {
    return nullptr;
  }
  if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) != 0 ||
                        text[0] == '-')) {
    boost::system::error_code ec;
    json::value number = json::parse(text, ec);
    if (!ec && number.is_number()) {
      return number;
    }
  }
  return json::string(text);
}

// A request: its meta fields into `out`, its body fields merged into `body` (defaults first).
void decodeRequest(Decoder& decoder, const Located& where, TestCase& out, json::object& body,
                   std::optional<std::string>& raw_body) {
  const Mapping request(decoder, where, std::nullopt);
  decoder.readString(request.optional("key"), out.key);
  decoder.readString(request.optional("team"), out.team);
  if (decoder.readString(request.optional("surface"), out.surface) && out.surface != "openai" &&
      out.surface != "anthropic" && out.surface != "responses") {
    decoder.error(*request.optional("surface"), "expected openai, anthropic or responses");
  }
  if (decoder.readString(request.optional("endpoint"), out.endpoint) && out.endpoint != "chat" &&
      out.endpoint != "embeddings") {
    decoder.error(*request.optional("endpoint"), "expected chat or embeddings");
  }
  if (const auto headers = request.optional("headers")) {
    const Mapping map(decoder, *headers, std::nullopt);
    for (const Mapping::Entry& entry : map.entries()) {
      std::string value;
      if (decoder.readString(entry.value, value)) {
        std::string name = entry.key;
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        out.headers.emplace_back(std::move(name), std::move(value));
      }
    }
  }
  if (request.contains("prompt") && !request.optional("prompt")) {
    body.erase("messages");  // `prompt: ~`: none (for a case whose defaults have one)
  }
  if (const auto prompt = request.optional("prompt")) {
    std::string text;
    if (decoder.readString(prompt, text)) {
      body["messages"] = json::array{json::object{{"role", "user"}, {"content", text}}};
    }
  }
  // Body fields last: `messages` wins over `prompt`.
  for (const Mapping::Entry& entry : request.entries()) {
    const std::string& key = entry.key;
    if (std::find(kRequestMeta.begin(), kRequestMeta.end(), key) == kRequestMeta.end()) {
      body[key] = toJson(decoder, entry.value);
    }
  }
  if (const auto text = request.optional("body")) {
    if (text->node.IsScalar()) {
      raw_body = text->node.Scalar();
    } else {
      raw_body = json::serialize(toJson(decoder, *text));
    }
  }
}

void readOptionalName(Decoder& decoder, const Mapping& map, std::string_view key,
                      std::optional<std::string>& out) {
  if (!map.contains(key)) {
    return;
  }
  const auto value = map.optional(key);
  std::string text;
  if (!value) {  // `key: ~`: expects none
    out = "";
  } else if (decoder.readString(value, text)) {
    out = std::move(text);
  }
}

std::optional<std::vector<std::string>> readList(Decoder& decoder,
                                                 const std::optional<Located>& value) {
  if (!value) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const Located& item : decoder.sequence(*value)) {
    std::string text;
    if (decoder.readString(item, text)) {
      out.push_back(std::move(text));
    }
  }
  return out;
}

void decodeExpect(Decoder& decoder, const Located& where, Expectations& out) {
  const Mapping expect(decoder, where,
                       {{"action", "status", "code", "tier", "backend", "backends", "model", "rule",
                         "blocked_by", "detectors", "sensitivity", "difficulty", "upstream"}});
  for (const auto& [key, field] : {std::pair{"action", &out.action}, {"code", &out.code},
                                   {"tier", &out.tier}, {"backend", &out.backend},
                                   {"model", &out.model}, {"rule", &out.rule},
                                   {"blocked_by", &out.blocked_by},
                                   {"sensitivity", &out.sensitivity},
                                   {"difficulty", &out.difficulty}}) {
    readOptionalName(decoder, expect, key, *field);
  }
  if (out.action && *out.action != "allow" && *out.action != "redact" && *out.action != "block" &&
      *out.action != "error") {
    decoder.error(*expect.optional("action"), "expected allow, redact, block or error");
  }
  uint32_t status = 0;
  if (decoder.readInteger(expect.optional("status"), status, 100)) {
    out.status = status;
  }
  if (expect.contains("backends") && !expect.optional("backends")) {
    out.backends = std::vector<std::string>{};  // `backends: ~`: no candidate
  } else {
    out.backends = readList(decoder, expect.optional("backends"));
  }
  out.detectors = readList(decoder, expect.optional("detectors"));
  if (const auto upstream = expect.optional("upstream")) {
    out.expects_upstream = true;
    const Mapping map(decoder, *upstream, {{"contains", "excludes"}});
    out.upstream_contains = readList(decoder, map.optional("contains")).value_or(std::vector<std::string>{});
    out.upstream_excludes = readList(decoder, map.optional("excludes")).value_or(std::vector<std::string>{});
  }
}

void decodeCases(Decoder& decoder, const std::string& path, const YAML::Node& root,
                 std::vector<TestCase>& out) {
  const Mapping top(decoder, Located{root, "", root.Mark()}, {{"defaults", "cases"}});
  TestCase defaults;
  json::object default_body;
  std::optional<std::string> default_raw;
  if (const auto base = top.optional("defaults")) {
    decodeRequest(decoder, *base, defaults, default_body, default_raw);
  }
  const auto cases = top.required("cases");
  if (!cases) {
    return;
  }
  for (const Located& item : decoder.sequence(*cases)) {
    const Mapping entry(decoder, item, {{"name", "request", "expect"}});
    if (!entry.valid()) {
      continue;
    }
    TestCase test = defaults;
    test.file = path;
    test.line = item.mark.line + 1;
    decoder.readNonEmptyString(entry.required("name"), test.name);
    json::object body = default_body;
    std::optional<std::string> raw = default_raw;
    if (const auto request = entry.required("request")) {
      decodeRequest(decoder, *request, test, body, raw);
    }
    test.body = raw ? *raw : json::serialize(body);
    if (const auto expect = entry.required("expect")) {
      decodeExpect(decoder, *expect, test.expect);
    }
    out.push_back(std::move(test));
  }
}

}  // namespace

std::expected<std::vector<TestCase>, config::ConfigErrors> loadTestCases(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return std::unexpected(config::ConfigErrors{{path, 0, 0, "cannot read file"}});
  }
  std::stringstream contents;
  contents << file.rdbuf();
  Decoder decoder(path);
  std::vector<TestCase> cases;
  try {
    const YAML::Node root = YAML::Load(contents.str());
    decodeCases(decoder, path, root, cases);
  } catch (const YAML::Exception& e) {
    decoder.error(e.mark, "", strCat("invalid YAML: ", e.msg));
  }
  if (decoder.hasErrors()) {
    return std::unexpected(decoder.takeErrors());
  }
  if (cases.empty()) {
    return std::unexpected(config::ConfigErrors{{path, 0, 0, "no cases"}});
  }
  return cases;
}

}  // namespace sy::cli
