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
};

// At most `budget` decoded bytes in total; runs outside [min_blob_chars, max_blob_chars] are
// skipped. Only one level is decoded (a blob inside a blob is not looked at).
std::vector<DecodedBlob> findEncodedBlobs(std::string_view text, const EvasionConfig& config,
                                          size_t budget);

// Is `bytes` valid UTF-8 made mostly (>= 90%) of printable characters and whitespace?
bool isReadableText(std::string_view bytes);

}  // namespace sy::policies
