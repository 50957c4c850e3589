#include "policies/blob_decoder.h"

#include <algorithm>
#include <array>

#include "policies/text_normalizer.h"
#include "policies/validators.h"

namespace sy::policies {
namespace {

constexpr std::array<signed char, 256> makeBase64Table() {
  std::array<signed char, 256> table{};
  for (auto& v : table) {
    v = -1;
  }
  for (int i = 0; i < 26; ++i) {
    table['A' + i] = static_cast<signed char>(i);
    table['a' + i] = static_cast<signed char>(26 + i);
  }
  for (int i = 0; i < 10; ++i) {
    table['0' + i] = static_cast<signed char>(52 + i);
  }
  table['+'] = table['-'] = 62;
  table['/'] = table['_'] = 63;
  return table;
}

constexpr std::array<signed char, 256> kBase64Table = makeBase64Table();

// Both the standard and the URL-safe alphabet; -1 for anything else.
int base64Value(char c) { return kBase64Table[static_cast<unsigned char>(c)]; }

int hexValue(char c) {
  if (isDigit(c)) {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

void push(DecodedBlob& blob, char byte, size_t src_begin, size_t src_end) {
  blob.text.push_back(byte);
  if (!blob.offsets) {
    return;
  }
  blob.src_begin.push_back(static_cast<uint32_t>(src_begin));
  blob.src_end.push_back(static_cast<uint32_t>(src_end));
}

// `run` is text[begin, begin + run.size()), padding already stripped.
bool decodeBase64(std::string_view run, size_t begin, DecodedBlob& blob) {
  bool has_std = false;
  bool has_url = false;
  for (char c : run) {
    has_std |= (c == '+' || c == '/');
    has_url |= (c == '-' || c == '_');
  }
  if ((has_std && has_url) || run.size() % 4 == 1) {
    return false;
  }
  unsigned buffer = 0;
  int bits = 0;
  size_t byte_index = 0;
  for (size_t i = 0; i < run.size(); ++i) {
    buffer = (buffer << 6) | static_cast<unsigned>(base64Value(run[i]));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      char byte = static_cast<char>((buffer >> bits) & 0xFF);
      // Bits 8k .. 8k+7 of the stream live in characters 8k/6 .. (8k+7)/6.
      size_t first = (8 * byte_index) / 6;
      size_t last = (8 * byte_index + 7) / 6;
      push(blob, byte, begin + first, begin + last + 1);
      ++byte_index;
    }
  }
  return true;
}

bool decodeHex(std::string_view run, size_t begin, DecodedBlob& blob) {
  if (run.size() % 2 != 0) {
    return false;
  }
  for (size_t i = 0; i + 1 < run.size(); i += 2) {
    int hi = hexValue(run[i]);
    int lo = hexValue(run[i + 1]);
    push(blob, static_cast<char>(hi * 16 + lo), begin + i, begin + i + 2);
  }
  return true;
}

bool isUrlRunChar(char c) {
  return static_cast<unsigned char>(c) > 0x20 && c != '"' && c != '\'' && c != '<' && c != '>' &&
         c != '`' && static_cast<unsigned char>(c) < 0x7F;
}

// Decodes a %XX run; returns false when it holds no escape.
bool decodeUrl(std::string_view run, size_t begin, DecodedBlob& blob) {
  bool escaped = false;
  for (size_t i = 0; i < run.size();) {
    if (run[i] == '%' && i + 2 < run.size() && hexValue(run[i + 1]) >= 0 &&
        hexValue(run[i + 2]) >= 0) {
      push(blob, static_cast<char>(hexValue(run[i + 1]) * 16 + hexValue(run[i + 2])), begin + i,
           begin + i + 3);
      escaped = true;
      i += 3;
    } else {
      push(blob, run[i], begin + i, begin + i + 1);
      ++i;
    }
  }
  return escaped;
}

// Can `prefix` start a readable text (isReadableText)? No NUL and no invalid UTF-8, except a
// sequence cut off at its end.
bool mayBeText(std::string_view prefix) {
  for (size_t pos = 0; pos < prefix.size();) {
    auto [cp, len] = decodeUtf8(prefix, pos);
    if (cp == 0 || (cp < 0 && prefix.size() - pos >= 4)) {
      return false;
    }
    pos += len;
  }
  return true;
}

struct Finder {
  std::string_view text;
  const EvasionConfig& config;
  size_t budget;
  std::vector<SkippedBlob>* skipped;
  std::vector<DecodedBlob> blobs;

  bool sizeOk(size_t chars) const {
    return chars >= config.min_blob_chars && chars <= config.max_blob_chars;
  }

  // Without a `skipped` list nothing past the budget is of interest: stop looking.
  bool exhausted() const { return budget == 0 && skipped == nullptr; }

  void skip(SkippedBlob::Reason reason, size_t begin, size_t end) {
    if (skipped != nullptr) {
      skipped->push_back({reason, begin, end});
    }
  }

  // A run too long to scan: decoded (text only) to learn whether it hides readable text.
  template <class Decode>
  void probe(size_t begin, size_t end, Decode&& decode) {
    if (skipped == nullptr) {
      return;
    }
    DecodedBlob blob;
    blob.offsets = false;
    if (decode(blob) && blob.text.size() >= 6 && isReadableText(blob.text)) {
      skip(SkippedBlob::Reason::TooLong, begin, end);
    }
  }

  void keep(DecodedBlob&& blob, BlobKind kind, size_t begin, size_t end) {
    if (blob.text.size() < 6 || !isReadableText(blob.text)) {
      return;
    }
    if (blob.text.size() > budget) {
      skip(SkippedBlob::Reason::OverBudget, begin, end);
      return;
    }
    budget -= blob.text.size();
    blob.kind = kind;
    blob.begin = begin;
    blob.end = end;
    blobs.push_back(std::move(blob));
  }

  void base64OrHexRun(size_t begin, size_t end) {
    std::string_view run = text.substr(begin, end - begin);
    bool all_hex = true;
    bool has_digit = false;
    for (char c : run) {
      all_hex &= hexValue(c) >= 0;
      has_digit |= isDigit(c);
    }
    if (all_hex && has_digit && config.decode_hex) {
      DecodedBlob blob;
      if (decodeHex(run, begin, blob)) {
        size_t before = blobs.size();
        keep(std::move(blob), BlobKind::Hex, begin, end);
        if (blobs.size() != before) {
          return;
        }
      }
    }
    if (config.decode_base64) {
      size_t data_end = end;
      while (data_end > begin && text[data_end - 1] == '=') {
        --data_end;
      }
      DecodedBlob blob;
      if (decodeBase64(text.substr(begin, data_end - begin), begin, blob)) {
        keep(std::move(blob), BlobKind::Base64, begin, end);
      }
    }
  }

  // A run longer than max_blob_chars: is it readable text once decoded (as hex or base64)?
  void probeLongRun(size_t begin, size_t end) {
    std::string_view run = text.substr(begin, end - begin);
    const bool all_hex =
        std::all_of(run.begin(), run.end(), [](char c) { return hexValue(c) >= 0; });
    const size_t before = skipped != nullptr ? skipped->size() : 0;
    // A prefix first: binary data (an image) shows in its first bytes, and then the whole run
    // need not be decoded (kPrefix is a multiple of 4 and of 2: whole base64 quads, hex pairs).
    constexpr size_t kPrefix = 1024;
    const std::string_view prefix = run.substr(0, kPrefix);
    if (all_hex && config.decode_hex) {
      DecodedBlob head;
      head.offsets = false;
      if (decodeHex(prefix, begin, head) && mayBeText(head.text)) {
        probe(begin, end, [&](DecodedBlob& blob) { return decodeHex(run, begin, blob); });
      }
    }
    if (config.decode_base64 && (skipped == nullptr || skipped->size() == before)) {
      size_t data_end = end;
      while (data_end > begin && text[data_end - 1] == '=') {
        --data_end;
      }
      DecodedBlob head;
      head.offsets = false;
      if (decodeBase64(text.substr(begin, std::min(data_end - begin, kPrefix)), begin, head) &&
          mayBeText(head.text)) {
        probe(begin, end, [&](DecodedBlob& blob) {
          return decodeBase64(text.substr(begin, data_end - begin), begin, blob);
        });
      }
    }
  }

  // "\x41\x42..." sequences.
  size_t escapedHexRun(size_t pos) {
    size_t end = pos;
    while (end + 3 < text.size() && text[end] == '\\' && text[end + 1] == 'x' &&
           hexValue(text[end + 2]) >= 0 && hexValue(text[end + 3]) >= 0) {
      end += 4;
    }
    const auto decode = [&](DecodedBlob& blob) {
      for (size_t i = pos; i < end; i += 4) {
        push(blob, static_cast<char>(hexValue(text[i + 2]) * 16 + hexValue(text[i + 3])), i, i + 4);
      }
      return true;
    };
    if (end > pos && sizeOk(end - pos)) {
      DecodedBlob blob;
      decode(blob);
      keep(std::move(blob), BlobKind::EscapedHex, pos, end);
    } else if (end - pos > config.max_blob_chars) {
      probe(pos, end, decode);
    }
    return end;
  }

  static bool good(unsigned char c) { return kBase64Table[c] >= 0; }

  // Finds runs of at least min_chars base64 characters by looking at the last character of a
  // window first (Boyer-Moore style): in prose a window almost always ends in or near a space,
  // so most bytes are never looked at.
  void run() {
    const size_t n = text.size();
    const unsigned char* data = reinterpret_cast<const unsigned char*>(text.data());
    const size_t window = std::max<size_t>(config.min_blob_chars, 1);
    size_t start = 0;  // no run of `window` characters starts before this
    while (start + window <= n) {
      size_t j = start + window;  // find the rightmost bad byte of the window
      while (j > start && good(data[j - 1])) {
        --j;
      }
      if (j > start) {
        start = j;  // data[j - 1] is not base64: every long run starts after it
        continue;
      }
      size_t end = start + window;
      while (end < n && good(data[end])) {
        ++end;
      }
      size_t data_end = end;
      while (end < n && end - data_end < 2 && data[end] == '=') {
        ++end;
      }
      bool url_escaped = end < n && data[end] == '%';
      if (!url_escaped && sizeOk(end - start)) {
        base64OrHexRun(start, end);
        if (exhausted()) {
          return;
        }
      } else if (!url_escaped && end - start > config.max_blob_chars) {
        probeLongRun(start, end);
      }
      start = end + 1;
    }
  }

  void escapedHexRuns() {
    for (size_t pos = text.find("\\x"); pos != std::string_view::npos && !exhausted();) {
      size_t end = escapedHexRun(pos);
      pos = text.find("\\x", end > pos ? end : pos + 1);
    }
  }

  void urlRuns() {
    const size_t n = text.size();
    for (size_t pos = text.find('%'); pos != std::string_view::npos && !exhausted();) {
      size_t begin = pos;
      while (begin > 0 && isUrlRunChar(text[begin - 1])) {
        --begin;
      }
      size_t end = pos;
      while (end < n && isUrlRunChar(text[end])) {
        ++end;
      }
      bool has_escape = false;
      for (size_t p = text.find('%', begin); p != std::string_view::npos && p + 2 < end;
           p = text.find('%', p + 1)) {
        if (hexValue(text[p + 1]) >= 0 && hexValue(text[p + 2]) >= 0) {
          has_escape = true;
          break;
        }
      }
      const auto decode = [&](DecodedBlob& blob) {
        return decodeUrl(text.substr(begin, end - begin), begin, blob);
      };
      if (has_escape && end - begin <= config.max_blob_chars) {
        DecodedBlob blob;
        if (decode(blob)) {
          keep(std::move(blob), BlobKind::Url, begin, end);
        }
      } else if (has_escape) {
        probe(begin, end, decode);
      }
      pos = end < n ? text.find('%', end) : std::string_view::npos;
    }
  }
};

}  // namespace

bool isReadableText(std::string_view bytes) {
  size_t printable = 0;
  size_t total = 0;
  for (size_t pos = 0; pos < bytes.size();) {
    auto [cp, len] = decodeUtf8(bytes, pos);
    if (cp < 0 || cp == 0) {
      return false;
    }
    ++total;
    if (cp >= 0x20 ? cp != 0x7F : (cp == '\n' || cp == '\r' || cp == '\t')) {
      ++printable;
    }
    pos += len;
  }
  return total > 0 && printable * 10 >= total * 9;
}

std::vector<DecodedBlob> findEncodedBlobs(std::string_view text, const EvasionConfig& config,
                                          size_t budget, std::vector<SkippedBlob>* skipped) {
  Finder finder{text, config, budget, skipped, {}};
  if (config.decode_base64 || config.decode_hex) {
    finder.run();
  }
  if (config.decode_hex) {
    finder.escapedHexRuns();
  }
  if (config.decode_url) {
    finder.urlRuns();
  }
  return std::move(finder.blobs);
}

}  // namespace sy::policies
