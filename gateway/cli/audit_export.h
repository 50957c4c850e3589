// `switchyard audit export --requests`: a logged request as a request line (request_line.h)
// that `explain --compare` can decide again. The audit log holds no prompt text (records carry
// names, counts and numbers), so the body is a placeholder that keeps what the record knows:
// the surface, endpoint and requested model, and a user message of about the prompt's size
// (4 characters per prompt token). The key id and team are kept, so scopes, model rules and
// routing by key, team or endpoint replay; DLP findings, sensitivity and difficulty do not
// (README: "What a replay reproduces"). Pure function; thread-safe.
#pragma once

#include <optional>

#include "gateway/cli/request_line.h"
#include "observability/audit_record.h"

namespace sy::cli {

// The request line of a completion record of a chat or embeddings request (each request has
// exactly one); nullopt for every other record (decision, reload, models lists). `recorded`
// holds what the log says happened: time, policy_version, rule, tier, status, outcome,
// sensitivity, difficulty label, detectors and prompt tokens.
std::optional<RequestLine> auditRequestLine(const observability::AuditRecord& record);

// The placeholder prompt of `chars` characters (at least one word, at most 256 KiB): words
// that no built-in detector matches.
std::string placeholderText(uint64_t chars);

}  // namespace sy::cli
