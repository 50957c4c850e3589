// loadConfigFile / loadConfigString: the boundary with yaml-cpp (its exceptions stop here) and
// the top level of the policy file.
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <system_error>

#include "gateway/config/config.h"
#include "gateway/config/decode_sections.h"
#include "gateway/config/decoder.h"

namespace sy::config {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

std::expected<std::string, std::string> readFile(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    return std::unexpected(std::generic_category().message(errno));
  }
  std::string contents;
  char buffer[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    contents.append(buffer, n);
  }
  if (std::ferror(file.get())) {
    return std::unexpected(std::generic_category().message(errno));
  }
  return contents;
}

namespace {

// Records where each document starts; nothing else is needed to count documents.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  // YAML::EventHandler
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Where the first three documents of `yaml` start. Never YAML::LoadAll: in yaml-cpp 0.7 it loops
// forever, allocating, on a stray token such as a leading ',' (jbeder/yaml-cpp#1040, fixed in
// 0.8 by #1319), because the parser keeps returning empty documents without consuming input.
// Throws YAML::Exception on a syntax error.
std::vector<YAML::Mark> documentStarts(const std::string& yaml) {
  std::istringstream stream(yaml);
  YAML::Parser parser(stream);
  DocumentStarts handler;
  for (int i = 0; i < 3; ++i) {
    if (!parser.HandleNextDocument(handler)) {
      break;
    }
  }
  return handler.marks;
}

// More than one document: either a real second one, or the parser stuck on a stray token
// (a document starting where the previous one started).
void reportExtraDocument(Decoder& decoder, const std::string& yaml,
                         const std::vector<YAML::Mark>& starts) {
  const bool stuck =
      starts[1].pos == starts[0].pos || (starts.size() > 2 && starts[2].pos == starts[1].pos);
  if (!stuck) {
    decoder.error(starts[1], "", "only one YAML document is allowed per file");
    return;
  }
  const auto pos = static_cast<size_t>(starts[1].pos);
  decoder.error(starts[1], "",
                pos < yaml.size() ? strCat("invalid YAML: unexpected '", yaml[pos], "'")
                                  : std::string("invalid YAML: unexpected end of input"));
}

}  // namespace

std::optional<YAML::Node> parseDocument(Decoder& decoder, const std::string& yaml) {
  try {
    const std::vector<YAML::Mark> starts = documentStarts(yaml);
    if (starts.size() > 1) {
      reportExtraDocument(decoder, yaml, starts);
      return std::nullopt;
    }
    YAML::Node root = YAML::Load(yaml);
    if (!root.IsNull()) {
      return root;
    }
    decoder.error(YAML::Mark(), "",
                  "empty configuration (expected a mapping with at least 'backends' and 'tiers')");
  } catch (const YAML::DeepRecursion& e) {
    decoder.error(e.mark, "", "invalid YAML: nesting is too deep");
  } catch (const YAML::Exception& e) {
    decoder.error(e.mark, "", strCat("invalid YAML: ", e.msg));
  }
  return std::nullopt;
}

namespace {

std::expected<Config, ConfigErrors> loadFile(const std::string& path, bool is_candidate);

// `shadow: FILE`: the candidate is loaded and validated now, so that whatever reads this policy
// (serve, a reload, lint, explain, test) reads the candidate too. Its own errors are reported
// after the one at `shadow:` (they name its file).
// A candidate's own `shadow:` is an error in its file, and is not followed (nor, so, is a policy
// that names itself).
void decodeShadow(Decoder& decoder, const Located& value, Config& config,
                  ConfigErrors& candidate_errors, bool is_candidate) {
  std::string name;
  if (!decoder.readNonEmptyString(value, name)) {
    return;
  }
  if (is_candidate) {
    decoder.error(value, "a candidate policy may not name a shadow of its own");
    return;
  }
  namespace fs = std::filesystem;
  const std::string path =
      (fs::path(decoder.fileOf(value.mark)).parent_path() / name).lexically_normal().string();
  auto candidate = loadFile(path, /*is_candidate=*/true);
  if (!candidate) {
    decoder.error(value,
                  strCat("the candidate policy '", path, "' is invalid (its errors follow)"));
    candidate_errors = std::move(candidate.error());
    return;
  }
  config.shadow = ShadowSpec{path, std::make_shared<const Config>(std::move(*candidate))};
}

// `candidate_errors`: the shadow candidate's own errors, reported after the policy's.
void decodeConfig(Decoder& decoder, const YAML::Node& root, Config& config,
                  ConfigErrors& candidate_errors, bool is_candidate) {
  const Located where{root, "", root.Mark()};
  const Mapping top(decoder, where,
                    {{"server", "admin", "backends", "tiers", "models", "sensitivity", "dlp",
                      "auth", "teams", "keys", "limits", "state", "audit", "accounting",
                      "resilience", "difficulty", "routing", "compliance", "responses", "include",
                      "shadow"}});
  if (!top.valid()) {
    return;
  }
  if (const auto server = top.optional("server")) {
    decodeServer(decoder, *server, config.server);
  }
  if (const auto admin = top.optional("admin")) {
    decodeAdmin(decoder, *admin, config.admin);
  }
  // Sequenced on purpose: "missing required key" errors share a position, so report order counts.
  const auto backends = top.required("backends");
  const auto tiers = top.required("tiers");
  const auto models = top.optional("models");
  decodeCatalog(decoder, backends, tiers, models, config.catalog, config.locations);
  decodeDlp(decoder, top.optional("sensitivity"), top.optional("dlp"), config.dlp,
            config.dlp_policy);
  if (const auto audit = top.optional("audit")) {
    decodeAudit(decoder, *audit, config.audit);
  }
  decodeAccounting(decoder, top.optional("accounting"), config.catalog, config.accounting);
  if (const auto resilience = top.optional("resilience")) {
    decodeResilience(decoder, *resilience, config.resilience);
  }
  // After the catalog and dlp: keys and teams name tiers and sensitivity levels.
  decodeAccess(
      decoder, where,
      AccessSections{top.optional("auth"), top.optional("teams"), top.optional("keys"),
                     top.optional("limits"), top.optional("state"), top.optional("sensitivity")},
      config);
  // After access: rules name teams and key ids, besides tiers, levels and detectors.
  decodeRouting(
      decoder,
      RoutingSections{top.optional("difficulty"), top.optional("routing"),
                      top.optional("sensitivity"), top.optional("teams"), top.optional("keys")},
      config);
  // After routing: lint reads the rules' positions; compliance only feeds `switchyard lint`.
  recordRoutingLocations(top.optional("routing"), config);
  for (const std::string_view section : {"keys", "teams", "dlp", "responses"}) {
    recordTreeLocations(top.optional(section), config);
  }
  if (const auto compliance = top.optional("compliance")) {
    decodeCompliance(decoder, *compliance, config.compliance);
  }
  if (const auto responses = top.optional("responses")) {
    decodeResponses(decoder, *responses, config.responses);
  }
  if (const auto shadow = top.optional("shadow")) {
    decodeShadow(decoder, *shadow, config, candidate_errors, is_candidate);
  }
}

}  // namespace

std::string ConfigError::str() const { return strCat(file, ":", line, ":", column, ": ", message); }

namespace {

std::expected<Config, ConfigErrors> loadString(const std::string& yaml,
                                               const std::string& source_name, bool is_candidate) {
  Config config;
  config.source = source_name;
  Decoder decoder(source_name, &config.sources);
  ConfigErrors candidate_errors;
  try {
    if (const auto root = assemblePolicy(decoder, yaml, source_name, config.sources)) {
      decodeConfig(decoder, *root, config, candidate_errors, is_candidate);
    }
  } catch (const std::exception& e) {  // bad_alloc, or a yaml-cpp surprise: never escapes
    decoder.error(YAML::Mark::null_mark(), "", strCat("internal error while loading: ", e.what()));
  } catch (...) {
    decoder.error(YAML::Mark::null_mark(), "", "internal error while loading");
  }
  if (decoder.hasErrors()) {
    ConfigErrors errors = decoder.takeErrors();
    errors.insert(errors.end(), std::make_move_iterator(candidate_errors.begin()),
                  std::make_move_iterator(candidate_errors.end()));
    return std::unexpected(std::move(errors));
  }
  return config;
}

std::expected<Config, ConfigErrors> loadFile(const std::string& path, bool is_candidate) {
  auto contents = readFile(path);
  if (!contents) {
    return std::unexpected(
        ConfigErrors{ConfigError{path, 0, 0, strCat("cannot read file: ", contents.error())}});
  }
  return loadString(*contents, path, is_candidate);
}

}  // namespace

std::expected<Config, ConfigErrors> loadConfigString(const std::string& yaml,
                                                     const std::string& source_name) {
  return loadString(yaml, source_name, /*is_candidate=*/false);
}

std::expected<Config, ConfigErrors> loadConfigFile(const std::string& path) {
  return loadFile(path, /*is_candidate=*/false);
}

}  // namespace sy::config
