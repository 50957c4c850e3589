// `switchyard audit verify [--hmac-key-env VAR] FILE...`: checks the hash chain of audit log
// files (observability/audit_verify.h) and names the first broken record.
// `switchyard audit export --requests [--hmac-key-env VAR] FILE...`: the same check, then the
// logged requests as request lines (audit_export.h). Parsing and running are
// pure functions of their inputs (files aside) so that tests need not run the binary; only
// auditCommand() touches stdout, stderr and the environment.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::cli {

struct AuditVerifyRequest {
  std::string hmac_key_env;        // "" = plain SHA-256 records
  std::vector<std::string> files;  // in chain order: oldest rotated file first, live file last
  enum class Subcommand { Verify, ExportRequests } subcommand = Subcommand::Verify;
};

// Parses the arguments after `audit` ("verify", or "export" with `--requests`; `--hmac-key-env
// VAR` or `=VAR`; `--` ends the options). Fails with InvalidArgument and a message for the usage
// line on anything else, including no FILE.
Result<AuditVerifyRequest> parseAuditArgs(const std::vector<std::string_view>& args);

struct AuditCommandOutput {
  int status = 0;   // 0 chain intact, 1 broken or unreadable, 2 usage (unset key variable)
  std::string out;  // "ok: N records in M files\n" or "failed: <problem>\n"
  std::string err;  // "warning: ...\n" lines, or the usage error
};

// Verifies the files, put in chain order by the seq of their first record (so a shell glob such
// as audit.jsonl* works; a missing file still shows as a gap). `getenv` reads the environment
// (nullptr when unset); an unset or empty
// --hmac-key-env variable is a usage error (status 2).
AuditCommandOutput runAuditVerify(const AuditVerifyRequest& request,
                                  const std::function<const char*(const char*)>& getenv);

// Verifies the chain like runAuditVerify, then writes every logged chat and embeddings request
// as a request line (auditRequestLines) on `out`. A broken chain exports nothing: status 1 and
// the problem on err.
AuditCommandOutput runAuditExport(const AuditVerifyRequest& request,
                                  const std::function<const char*(const char*)>& getenv);

// The `audit` command: prints the result, returns the exit status (0, 1, or 2 on usage errors).
int auditCommand(const std::vector<std::string_view>& args);

// Usage lines for `switchyard help`.
inline constexpr std::string_view kAuditUsage =
    R"(  audit verify [--hmac-key-env VAR] FILE...
                        check the hash chain across the audit log's FILEs (rotated and live,
                        in any order: e.g. audit.jsonl*); prints ok: N records, or the first
                        modified, deleted, reordered or inserted record. Exit 0, or 1 on a
                        break; a truncated last line is a warning. --hmac-key-env names the
                        variable holding the audit HMAC key (audit.hmac_key_env)
  audit export --requests [--hmac-key-env VAR] FILE...
                        verify the chain, then print each logged chat and embeddings request as
                        a request line for `explain --compare`: key, team, surface, endpoint,
                        model, and a placeholder prompt (the audit log holds no prompt text)
)";

}  // namespace sy::cli
