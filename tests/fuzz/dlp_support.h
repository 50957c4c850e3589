// The DLP engine the DLP fuzz targets (dlp_scan, streaming_redactor) scan with: the default
// detector pack plus person names, street addresses, a custom regex and custom keywords.
#pragma once

#include <cstdlib>

#include "policies/dlp_engine.h"
#include "tests/fuzz/fuzz_util.h"

namespace sy::fuzz {

inline const policies::DlpEngine& dlpEngine() {
  using namespace sy::policies;
  static const auto engine = [] {
    DlpConfig config;
    config.detectors.push_back({"person_name", true, ""});
    config.detectors.push_back({"street_address", true, ""});
    CustomRule codename;
    codename.name = "codename";
    codename.pattern = "(?i)\\bproject\\s+(\\w+)";
    config.custom.push_back(codename);
    CustomRule marker;
    marker.name = "marker";
    marker.keywords = {"internal only", "secret"};
    config.custom.push_back(marker);
    auto created = DlpEngine::create(config);
    check(created.has_value());
    return std::move(*created);
  }();
  return *engine;
}

}  // namespace sy::fuzz
