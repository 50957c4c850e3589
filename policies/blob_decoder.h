// Finds bounded base64, hex and URL-encoded runs in a text and decodes those that turn out to
// be readable text, keeping for every decoded byte the span of encoded characters it came from.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policies/dlp_config.h"

namespace sy::policies {

enum class BlobKind { Base64, Hex, EscapedHex, Url };

struct DecodedBlob {
  BlobKind kind = BlobKind::Base64;
  size_t begin = 0;  // the encoded run in the scanned text
  size_t end = 0;
  std::string text;                 // decoded, valid UTF-8, mostly printable
  std::vector<uint32_t> src_begin;  // per decoded byte: its encoded characters (absolute
  std::vector<uint32_t> src_end;    // offsets into the scanned text)
  bool offsets = true;              // false: text only (a probe of a run too long to scan)
};

// An encoded run that decodes to readable text but was not decoded for scanning, because it is
// longer than max_blob_chars or its decoded bytes do not fit the remaining budget. Such a run
// was not examined: the caller must fail closed (see DlpEngine::scanText).
struct SkippedBlob {
  enum class Reason { TooLong, OverBudget };
  Reason reason = Reason::TooLong;
  size_t begin = 0;  // the encoded run in the scanned text
  size_t end = 0;
};

// At most `budget` decoded bytes in total; runs shorter than min_blob_chars are skipped. Runs
// longer than max_blob_chars, and readable runs beyond the budget, are not returned: when
// `skipped` is set, those that decode to readable text are appended to it. Only one level is
// decoded (a blob inside a blob is not looked at).
std::vector<DecodedBlob> findEncodedBlobs(std::string_view text, const EvasionConfig& config,
                                          size_t budget, std::vector<SkippedBlob>* skipped = nullptr);

// Is `bytes` valid UTF-8 made mostly (>= 90%) of printable characters and whitespace?
bool isReadableText(std::string_view bytes);

}  // namespace sy::policies
