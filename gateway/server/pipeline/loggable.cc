#include "gateway/server/pipeline/loggable.h"

#include "policies/keys.h"

namespace sy::server {

std::string unknownWithHash(std::string_view value) {
  // hashKey without a pepper is "sha256:<64 hex>" of the value.
  const std::string hash = policies::hashKey(value, "");
  constexpr std::string_view kPrefix = "sha256:";
  return "<unknown:" + (hash.size() > kPrefix.size() ? hash.substr(kPrefix.size(), 8) : "") + ">";
}

std::string loggableModel(const router::Catalog& catalog, std::string_view requested_model) {
  if (requested_model.empty() || catalog.isName(requested_model)) {
    return std::string(requested_model);
  }
  return unknownWithHash(requested_model);
}

std::string loggablePath(std::string_view path) {
  static constexpr std::string_view kPaths[] = {"/v1/chat/completions", "/v1/embeddings",
                                                "/v1/models", "/v1/messages",
                                                "/v1/messages/count_tokens"};
  for (std::string_view known : kPaths) {
    if (path == known) {
      return std::string(path);
    }
  }
  return unknownWithHash(path);
}

}  // namespace sy::server
