// Fuzz target: the policy loader (gateway/config: YAML through yaml-cpp into the strict decoder,
// loadConfigString) and, for a policy it accepts, the snapshot a reload would publish
// (Snapshot::build: catalog, connectors, DLP engine; upstream keys not read). Input: the policy
// YAML. Invariants: no crash or escaping exception ("Never throws"); a refusal has at least one
// error and every error a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gateway/config/config.h"
#include "gateway/config/snapshot.h"
#include "tests/fuzz/fuzz_util.h"

using sy::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  auto config = sy::config::loadConfigString(yaml, "policy.yaml");
  if (!config) {
    check(!config.error().empty());
    for (const auto& error : config.error()) {
      check(!error.message.empty() && error.line >= 0 && error.column >= 0);
    }
    return 0;
  }
  auto snapshot = sy::config::Snapshot::build(std::move(*config), 1, /*read_upstream_keys=*/false);
  if (!snapshot) {
    check(!snapshot.error().empty());
  }
  return 0;
}
