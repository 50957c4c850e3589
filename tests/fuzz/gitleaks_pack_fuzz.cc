// Fuzz target: the gitleaks TOML rule-pack reader (gateway/config/gitleaks_pack.cc) that loads
// `dlp.rule_packs` files, and the DLP engine built from a pack it accepts (the rules compiled
// into the scanner's RE2 set, as a snapshot does). Input: the TOML file. Invariants: no crash
// or escaping exception; every error names the file; a pack loaded without errors either builds
// an engine or is refused by it with a message, and that engine scans the file's own text with
// findings inside it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/config/gitleaks_pack.h"
#include "policies/dlp_engine.h"
#include "tests/fuzz/fuzz_util.h"

using sy::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const sy::fuzz::MemFile file(text);
  sy::config::GitleaksLoad load = sy::config::loadGitleaksPack(file.path(), "rules.toml");
  for (const std::string& error : load.errors) {
    check(error.starts_with("rules.toml"));
  }
  if (!load.errors.empty() || load.pack.rules.empty()) {
    return 0;
  }
  sy::policies::DlpConfig config;
  config.default_pack = false;  // the pack alone: the default detectors have their own target
  config.rule_packs.push_back(std::move(load.pack));
  auto engine = sy::policies::DlpEngine::create(config);
  if (!engine) {
    check(!engine.error().message.empty());
    return 0;
  }
  for (const auto& finding : (*engine)->scan(text)) {
    check(finding.start <= finding.end && finding.end <= size);
  }
  return 0;
}
