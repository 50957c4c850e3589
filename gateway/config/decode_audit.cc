// The observability sections of the policy: `audit:` (where the tamper-evident audit log goes and
// how durable each record must be before a request proceeds) and `accounting:` (the baseline price
// savings are measured against).
#include "gateway/config/decode_sections.h"
#include "gateway/config/str_cat.h"
#include "gateway/config/value_parsers.h"

namespace sy::config {

void decodeAudit(Decoder& decoder, const Located& where, std::optional<AuditSpec>& out) {
  const Mapping audit(decoder, where,
                      {{"path", "durability", "hmac_key_env", "rotate_bytes", "rotate_age",
                        "stdout", "on_failure"}});
  if (!audit.valid()) {
    return;
  }
  AuditSpec spec;
  const auto path = audit.optional("path");
  decoder.readNonEmptyString(path, spec.path);
  decoder.readBool(audit.optional("stdout"), spec.to_stdout);
  if (spec.path.empty() && !spec.to_stdout) {
    decoder.error(where, "needs a 'path' (or 'stdout: true')");
  }
  if (!spec.path.empty() && spec.to_stdout) {
    decoder.error(*path, "'path' and 'stdout: true' exclude each other");
  }
  static constexpr std::array<std::pair<std::string_view, bool>, 2> kDurability{
      {{"fsync", true}, {"batch", false}}};
  decoder.readEnum(audit.optional("durability"), kDurability, "durability", spec.fsync);
  static constexpr std::array<std::pair<std::string_view, bool>, 2> kOnFailure{
      {{"closed", true}, {"open", false}}};
  decoder.readEnum(audit.optional("on_failure"), kOnFailure, "on_failure", spec.fail_closed);
  decoder.readString(audit.optional("hmac_key_env"), spec.hmac_key_env);
  decoder.readSize(audit.optional("rotate_bytes"), spec.rotate_bytes);
  std::chrono::milliseconds age{0};
  if (decoder.readDuration(audit.optional("rotate_age"), age)) {
    spec.rotate_age = std::chrono::duration_cast<std::chrono::seconds>(age);
  }
  out = std::move(spec);
}

}  // namespace sy::config

namespace sy::config {

void decodeAccounting(Decoder& decoder, const std::optional<Located>& where,
                      const router::CatalogSpec& catalog, AccountingSpec& out) {
  if (where) {
    const Mapping accounting(decoder, *where, {{"baseline"}});
    if (!accounting.valid()) {
      return;
    }
    if (const auto baseline = accounting.optional("baseline")) {
      if (baseline->node.IsMap()) {
        Cost cost;
        decodeCost(decoder, *baseline, cost);
        out.baseline = cost;
        out.baseline_source = "accounting.baseline";
        return;
      }
      std::string name;
      if (!decoder.readString(baseline, name)) {
        return;
      }
      for (const auto& backend : catalog.backends) {
        if (backend.name == name) {
          out.baseline = backend.cost;
          out.baseline_source = name;
          return;
        }
      }
      decoder.error(*baseline, strCat("unknown backend '", name,
                                      "' (give a backend name or {input_per_mtok, "
                                      "output_per_mtok})"));
      return;
    }
  }
  for (const auto& backend : catalog.backends) {
    if (backend.location == Location::External &&
        (!out.baseline || backend.cost.output_per_mtok > out.baseline->output_per_mtok)) {
      out.baseline = backend.cost;
      out.baseline_source = backend.name;
    }
  }
}

}  // namespace sy::config
