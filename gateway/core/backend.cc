#include "gateway/core/backend.h"

namespace sy {

std::string_view toString(BackendKind kind) {
  switch (kind) {
    case BackendKind::OpenAi:
      return "openai";
    case BackendKind::Anthropic:
      return "anthropic";
    case BackendKind::AzureOpenAi:
      return "azure-openai";
  }
  return "openai";
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
