// UTF-16 inside decoded blobs (what PowerShell's -EncodedCommand and Windows tools produce):
// detection and conversion to UTF-8 that keeps, for every output byte, the encoded characters
// of the code unit(s) it came from. Pure functions; thread-safe.
#pragma once

#include <string>

#include "policies/blob_decoder.h"

namespace sy::policies {

// A byte order mark, or every other byte zero (mostly-ASCII text): sets `little_endian`.
bool looksLikeUtf16(const std::string& bytes, bool& little_endian);

// Appends `in` (UTF-16 bytes) to `out` as UTF-8, a byte order mark dropped; `out` gets each
// output byte's source span from in.src_begin/src_end (none when in.offsets is false, as for
// a probe). False on an unpaired surrogate.
bool utf16ToUtf8(const DecodedBlob& in, bool little_endian, DecodedBlob& out);

}  // namespace sy::policies
