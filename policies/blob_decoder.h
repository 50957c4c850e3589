// Finds bounded base64, hex and URL-encoded runs in a text (wrapped, nested, UTF-16 inside) and
// decodes those that turn out to be readable text, keeping for every decoded byte the span of
// encoded characters it came from.
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

// How deep blobs inside decoded blobs are decoded: 3 finds base64 of base64 of hex.
inline constexpr int kMaxDecodeDepth = 3;

// An encoded run that decodes to readable text but was not decoded for scanning (TooLong,
// OverBudget), or a blob decoded at the last level (kMaxDecodeDepth) that holds another readable
// encoded run, which would need a further level (TooDeep). Such a run was not fully examined:
// the caller must fail closed (see DlpEngine::scanText).
struct SkippedBlob {
  enum class Reason {
    TooLong,     // longer than max_blob_chars
    OverBudget,  // its decoded bytes do not fit the remaining max_decoded_bytes
    TooDeep,     // a blob at depth kMaxDecodeDepth with a readable encoded run inside
  };
  Reason reason = Reason::TooLong;
  size_t begin = 0;  // the encoded run in the scanned text
  size_t end = 0;
};

// Base64 (standard and URL-safe; one run, or the lines of a run wrapped at a fixed width as
// `base64` and PEM print it), hex (a run, or pairs joined by ' ', ':' or '-' as hex dumps print
// them), "\x41" escapes and %XX escapes. Decoded bytes count when they are readable text,
// directly or as UTF-16 (LE or BE, with or without a byte order mark), which is converted to
// UTF-8. Blobs inside decoded blobs are decoded too, up to kMaxDecodeDepth levels; their
// offsets point into `text` like the others'. At most `budget` decoded bytes in total over all
// levels; runs shorter than min_blob_chars are skipped. Runs longer than max_blob_chars, and
// readable runs beyond the budget, are not returned: when `skipped` is set, those that decode
// to readable text are appended to it (at every level, in offsets into `text`), and so are the
// blobs of the last level that hold a readable encoded run.
std::vector<DecodedBlob> findEncodedBlobs(std::string_view text, const EvasionConfig& config,
                                          size_t budget,
                                          std::vector<SkippedBlob>* skipped = nullptr);

// Is `bytes` valid UTF-8 made mostly (>= 90%) of printable characters and whitespace?
bool isReadableText(std::string_view bytes);

}  // namespace sy::policies
