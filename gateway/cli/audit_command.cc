#include "gateway/cli/audit_command.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "gateway/cli/audit_export.h"

#include "observability/audit_file.h"
#include "observability/audit_record.h"
#include "observability/audit_verify.h"

namespace sy::cli {
namespace {

std::unexpected<Error> usage(std::string message) {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message));
}

}  // namespace

Result<AuditVerifyRequest> parseAuditArgs(const std::vector<std::string_view>& args) {
  if (args.empty() || (args[0] != "verify" && args[0] != "export")) {
    return usage(args.empty() ? "audit needs a subcommand: verify or export"
                              : "unknown audit subcommand '" + std::string(args[0]) +
                                    "' (expected: verify, export)");
  }
  AuditVerifyRequest request;
  const bool exporting = args[0] == "export";
  bool requests = false;
  bool options_done = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (options_done || !arg.starts_with("-") || arg == "-") {
      request.files.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
    } else if (arg == "--hmac-key-env") {
      if (i + 1 >= args.size()) {
        return usage("audit " + std::string(args[0]) + ": --hmac-key-env needs a variable name");
      }
      request.hmac_key_env = std::string(args[++i]);
    } else if (arg.starts_with("--hmac-key-env=")) {
      request.hmac_key_env = std::string(arg.substr(15));
    } else if (exporting && arg == "--requests") {
      requests = true;
    } else {
      return usage("audit " + std::string(args[0]) + ": unknown option '" + std::string(arg) +
                   "'");
    }
  }
  if (exporting && !requests) {
    return usage("audit export needs --requests (what to export)");
  }
  if (exporting) {
    request.subcommand = AuditVerifyRequest::Subcommand::ExportRequests;
  }
  if (request.files.empty()) {
    return usage("audit " + std::string(args[0]) + " needs at least one FILE");
  }
  return request;
}

AuditCommandOutput runAuditVerify(const AuditVerifyRequest& request,
                                  const std::function<const char*(const char*)>& getenv) {
  AuditCommandOutput output;
  const char* command = request.subcommand == AuditVerifyRequest::Subcommand::Verify
                            ? "verify"
                            : "export";
  std::string key;
  if (!request.hmac_key_env.empty()) {
    const char* value = getenv(request.hmac_key_env.c_str());
    if (value == nullptr || *value == '\0') {
      output.status = 2;
      output.err = std::string("switchyard: audit ") + command + ": the environment variable " +
                   request.hmac_key_env +
                   " (--hmac-key-env) is not set or empty\n";
      return output;
    }
    key = value;
  }
  const std::vector<std::string> files = observability::sortAuditFilesByFirstSeq(request.files);
  const observability::VerifyResult result = observability::verifyAuditFiles(files, key);
  for (const std::string& warning : result.warnings) {
    output.err += "warning: " + warning + "\n";
  }
  if (!result.ok) {
    output.status = 1;
    output.out = "failed: " + result.problem + "\n";
    return output;
  }
  output.out = "ok: " + std::to_string(result.records) + " records in " +
               std::to_string(request.files.size()) + " files\n";
  return output;
}

AuditCommandOutput runAuditExport(const AuditVerifyRequest& request,
                                  const std::function<const char*(const char*)>& getenv) {
  AuditCommandOutput verified = runAuditVerify(request, getenv);
  if (verified.status != 0) {
    verified.err += verified.out;  // "failed: ..." : nothing is exported from a broken chain
    verified.out.clear();
    return verified;
  }
  AuditCommandOutput output;
  output.err = verified.err;  // warnings (a torn last line, older files not given)
  for (const std::string& file : observability::sortAuditFilesByFirstSeq(request.files)) {
    std::ifstream in(file, std::ios::binary);
    for (std::string line; std::getline(in, line);) {
      auto record = observability::parseAuditRecord(line);
      if (!record) {
        continue;  // a torn line the verifier accepted with a warning
      }
      if (auto exported = auditRequestLine(*record)) {
        output.out += formatRequestLine(*exported) + "\n";
      }
    }
  }
  return output;
}

int auditCommand(const std::vector<std::string_view>& args) {
  const auto request = parseAuditArgs(args);
  if (!request) {
    std::fprintf(stderr, "switchyard: %s\n\nusage:\n%.*s", request.error().message.c_str(),
                 static_cast<int>(kAuditUsage.size()), kAuditUsage.data());
    return 2;
  }
  const auto getenv = [](const char* name) { return std::getenv(name); };
  const AuditCommandOutput output =
      request->subcommand == AuditVerifyRequest::Subcommand::Verify
          ? runAuditVerify(*request, getenv)
          : runAuditExport(*request, getenv);
  std::fputs(output.err.c_str(), stderr);
  std::fputs(output.out.c_str(), stdout);
  return output.status;
}

}  // namespace sy::cli
