#include "policies/blob_utf16.h"

#include <algorithm>

namespace sy::policies {

bool looksLikeUtf16(const std::string& bytes, bool& little_endian) {
  if (bytes.size() < 4 || bytes.size() % 2 != 0) {
    return false;
  }
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    little_endian = bytes[0] == '\xFF';
    return true;
  }
  size_t zero_odd = 0;
  size_t zero_even = 0;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    zero_even += bytes[i] == '\0' ? 1 : 0;
    zero_odd += bytes[i + 1] == '\0' ? 1 : 0;
  }
  size_t units = bytes.size() / 2;
  little_endian = zero_odd >= zero_even;
  return std::max(zero_odd, zero_even) * 10 >= units * 8;
}

namespace {

void appendUtf8(DecodedBlob& out, uint32_t cp, uint32_t src_begin, uint32_t src_end) {
  char buf[4];
  size_t n = 0;
  if (cp < 0x80) {
    buf[n++] = static_cast<char>(cp);
  } else if (cp < 0x800) {
    buf[n++] = static_cast<char>(0xC0 | (cp >> 6));
    buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    buf[n++] = static_cast<char>(0xE0 | (cp >> 12));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    buf[n++] = static_cast<char>(0xF0 | (cp >> 18));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  }
  for (size_t i = 0; i < n; ++i) {
    out.text.push_back(buf[i]);
    if (!out.offsets) {
      continue;
    }
    out.src_begin.push_back(src_begin);
    out.src_end.push_back(src_end);
  }
}

}  // namespace

bool utf16ToUtf8(const DecodedBlob& in, bool little_endian, DecodedBlob& out) {
  auto unit = [&](size_t i) -> uint32_t {
    auto lo = static_cast<unsigned char>(in.text[little_endian ? i : i + 1]);
    auto hi = static_cast<unsigned char>(in.text[little_endian ? i + 1 : i]);
    return (static_cast<uint32_t>(hi) << 8) | lo;
  };
  out.offsets = in.offsets;  // a probe's text has no offsets to carry over
  size_t i = 0;
  if (unit(0) == 0xFEFF) {
    i = 2;  // the byte order mark
  }
  for (; i + 1 < in.text.size(); i += 2) {
    const size_t first = i;
    uint32_t cp = unit(i);
    size_t last = i + 1;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 3 >= in.text.size() || unit(i + 2) < 0xDC00 || unit(i + 2) > 0xDFFF) {
        return false;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (unit(i + 2) - 0xDC00);
      last = i + 3;
      i += 2;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return false;
    }
    appendUtf8(out, cp, in.offsets ? in.src_begin[first] : 0, in.offsets ? in.src_end[last] : 0);
  }
  return true;
}

}  // namespace sy::policies
