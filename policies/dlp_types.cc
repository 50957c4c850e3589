#include "policies/dlp_types.h"

namespace sy::policies {

std::string_view toString(DetectorClass detector_class) {
  switch (detector_class) {
    case DetectorClass::Pii:
      return "pii";
    case DetectorClass::Secret:
      return "secret";
    case DetectorClass::Injection:
      return "injection";
    case DetectorClass::Custom:
      return "custom";
  }
  return "unknown";
}

std::string_view toString(DlpAction action) {
  switch (action) {
    case DlpAction::Allow:
      return "allow";
    case DlpAction::Redact:
      return "redact";
    case DlpAction::Mask:
      return "mask";
    case DlpAction::Pseudonymize:
      return "pseudonymize";
  }
  return "unknown";
}

std::string labelFor(std::string_view detector_id) {
  // Detectors named after how they find a value, not what it is, get the name of the value.
  if (detector_id == "secret.generic_assignment") {
    return "SECRET";
  }
  if (detector_id == "secret.database_url" || detector_id == "secret.url_credentials") {
    return "PASSWORD";  // they report the password inside the URL
  }
  if (detector_id == "secret.http_credentials") {
    return "CREDENTIALS";
  }
  size_t dot = detector_id.rfind('.');
  std::string_view tail = dot == std::string_view::npos ? detector_id : detector_id.substr(dot + 1);
  std::string label;
  label.reserve(tail.size());
  for (char c : tail) {
    if (c >= 'a' && c <= 'z') {
      label.push_back(static_cast<char>(c - 'a' + 'A'));
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      label.push_back(c);
    } else {
      label.push_back('_');
    }
  }
  if (label.empty()) {
    label = "REDACTED";
  }
  return label;
}

}  // namespace sy::policies
