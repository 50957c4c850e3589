// Fuzz target: the audit log verifier (observability/audit_verify.h, `switchyard audit verify`)
// over files an attacker may have edited. Input: an option byte (bit 1: an HMAC key; bit 2: every
// line that ends in a hash member gets its correct hash first, so the fuzzer reaches the chain
// checks behind the hash), then the files' bytes, separated by form feeds (at most 3 files).
// Invariants: no crash, and a result is ok exactly when it names no problem.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "observability/audit_record.h"
#include "observability/audit_verify.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace sy::observability;

// `file` with each line's hash member replaced by the correct hash of the rest of the line, and
// its prev_hash by the hash of the line before it (when that one had a hash member).
std::string rehashed(std::string_view file, const std::string& key) {
  constexpr std::string_view kPrev = "\"prev_hash\":\"";
  std::string out;
  std::string prev;
  for (size_t at = 0; at < file.size();) {
    size_t end = file.find('\n', at);
    const bool newline = end != std::string_view::npos;
    end = newline ? end : file.size();
    const std::string_view line = file.substr(at, end - at);
    if (auto split = splitAuditLine(line)) {
      const size_t at_prev = split->hashed.find(kPrev);
      if (!prev.empty() && at_prev != std::string::npos &&
          split->hashed.size() >= at_prev + kPrev.size() + prev.size()) {
        split->hashed.replace(at_prev + kPrev.size(), prev.size(), prev);
      }
      prev = auditHash(split->hashed, key);
      out += withAuditHash(split->hashed, prev);
    } else {
      out += line;
    }
    out += newline ? "\n" : "";
    at = end + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = sy::fuzz::splitOption(data, size);
  if (!input.ok) {
    return 0;
  }
  const std::string key = (input.option & 1) ? "fuzz-hmac-key" : "";
  std::vector<std::unique_ptr<sy::fuzz::MemFile>> files;
  std::vector<std::string> paths;
  std::string_view rest = input.rest;
  while (files.size() < 3) {
    const size_t cut = files.size() == 2 ? std::string_view::npos : rest.find('\f');
    const std::string_view bytes = rest.substr(0, cut);
    files.push_back(std::make_unique<sy::fuzz::MemFile>(
        (input.option & 2) ? std::string_view(rehashed(bytes, key)) : bytes));
    paths.push_back(files.back()->path());
    if (cut == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(cut + 1);
  }
  const VerifyResult result = verifyAuditFiles(paths, key);
  sy::fuzz::check(result.ok == result.problem.empty());
  return 0;
}
