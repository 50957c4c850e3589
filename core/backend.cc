#include "core/backend.h"

namespace sy {

std::string_view toString(BackendKind kind) {
  switch (kind) {
    case BackendKind::OpenAi:
      return "openai";
    case BackendKind::Ollama:
      return "ollama";
    case BackendKind::Anthropic:
      return "anthropic";
    case BackendKind::AzureOpenAi:
      return "azure-openai";
  }
  return "openai";
}

std::string_view defaultHealthPath(BackendKind kind) {
  return kind == BackendKind::Ollama ? "/api/version" : "/health";
}

std::string healthCheckTarget(const BackendSpec& backend) {
  std::string_view base = backend.address.base_path;
  if (base.ends_with("/v1")) {
    base.remove_suffix(3);
  }
  return std::string(base) + backend.health.path;
}

std::string_view toString(Location location) {
  return location == Location::SelfHosted ? "self-hosted" : "external";
}

std::string_view toString(License license) {
  switch (license) {
    case License::OsiOpenSource:
      return "osi-open-source";
    case License::OpenWeight:
      return "open-weight";
    case License::SourceAvailable:
      return "source-available";
    case License::Proprietary:
      return "proprietary";
  }
  return "proprietary";
}

}  // namespace sy
