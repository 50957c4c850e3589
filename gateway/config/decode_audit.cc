// The `audit:` section of the policy: where the tamper-evident audit log goes and how durable
// each record must be before a request proceeds.
#include "gateway/config/decode_sections.h"
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
