#include "policies/blob_decoder.h"

#include <algorithm>
#include <array>

#include "policies/blob_utf16.h"
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

// [0-9a-fA-F :-]: the characters of a hex dump.
constexpr std::array<bool, 256> makeHexDumpChars() {
  std::array<bool, 256> table{};
  for (unsigned char c : std::string_view("0123456789abcdefABCDEF :-")) {
    table[c] = true;
  }
  return table;
}

constexpr std::array<bool, 256> kHexDumpChars = makeHexDumpChars();

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

// A decoded byte from the encoded characters run[first .. last] (pos: see decodeBase64).
void pushFrom(DecodedBlob& blob, char byte, const std::vector<uint32_t>& pos, size_t first,
              size_t last) {
  if (!blob.offsets) {
    blob.text.push_back(byte);
    return;
  }
  push(blob, byte, pos[first], pos[last] + 1);
}

// `run` holds the encoded characters (padding already stripped, line breaks of a wrapped blob
// left out); pos[i] is where run[i] is in the scanned text (unused, and may be empty, when
// blob.offsets is false).
bool decodeBase64(std::string_view run, const std::vector<uint32_t>& pos, DecodedBlob& blob) {
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
      pushFrom(blob, byte, pos, first, last);
      ++byte_index;
    }
  }
  return true;
}

bool decodeHex(std::string_view run, const std::vector<uint32_t>& pos, DecodedBlob& blob) {
  if (run.size() % 2 != 0) {
    return false;
  }
  for (size_t i = 0; i + 1 < run.size(); i += 2) {
    int hi = hexValue(run[i]);
    int lo = hexValue(run[i + 1]);
    pushFrom(blob, static_cast<char>(hi * 16 + lo), pos, i, i + 1);
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

// Readable text of at least 6 bytes, directly or as UTF-16 (then `blob` is converted to UTF-8,
// keeping offsets when it has them)?
bool toReadableText(DecodedBlob& blob) {
  if (isReadableText(blob.text)) {
    return blob.text.size() >= 6;
  }
  bool little_endian = true;
  if (!looksLikeUtf16(blob.text, little_endian)) {
    return false;
  }
  DecodedBlob utf8;
  if (!utf16ToUtf8(blob, little_endian, utf8)) {
    return false;
  }
  blob = std::move(utf8);
  return blob.text.size() >= 6 && isReadableText(blob.text);
}

// Can the decoded `prefix` of a long run start a readable text, directly or as UTF-16?
bool mayStartText(const std::string& prefix) {
  bool little_endian = true;
  return mayBeText(prefix) || looksLikeUtf16(prefix, little_endian);
}

struct Finder {
  std::string_view text;
  const EvasionConfig& config;
  size_t budget;
  std::vector<SkippedBlob>* skipped;
  std::vector<DecodedBlob> blobs;
  size_t next_start = 0;          // where run() resumes after decodeRun()
  size_t single_lines_until = 0;  // runs starting before this are not joined with later lines

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
    if (decode(blob) && toReadableText(blob)) {
      skip(SkippedBlob::Reason::TooLong, begin, end);
    }
  }

  void keep(DecodedBlob&& blob, BlobKind kind, size_t begin, size_t end) {
    if (!toReadableText(blob)) {
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

  // `chars` are the encoded characters of one run (a wrapped run without its line breaks), at
  // text offsets `pos`; the run spans text[begin, end).
  void base64OrHexRun(std::string_view chars, const std::vector<uint32_t>& pos, size_t begin,
                      size_t end) {
    bool all_hex = true;
    bool has_digit = false;
    for (char c : chars) {
      all_hex &= hexValue(c) >= 0;
      has_digit |= isDigit(c);
    }
    if (all_hex && has_digit && config.decode_hex) {
      DecodedBlob blob;
      if (decodeHex(chars, pos, blob)) {
        const size_t before = blobs.size();
        const size_t skipped_before = skipped != nullptr ? skipped->size() : 0;
        keep(std::move(blob), BlobKind::Hex, begin, end);
        if (blobs.size() != before || (skipped != nullptr && skipped->size() != skipped_before)) {
          return;  // readable as hex (kept, or past the budget)
        }
      }
    }
    if (config.decode_base64) {
      size_t data_end = chars.size();
      while (data_end > 0 && chars[data_end - 1] == '=') {
        --data_end;
      }
      DecodedBlob blob;
      if (decodeBase64(chars.substr(0, data_end), pos, blob)) {
        keep(std::move(blob), BlobKind::Base64, begin, end);
      }
    }
  }

  // A run longer than max_blob_chars, `chars` its encoded characters (the lines of a wrapped
  // run joined): is it readable text once decoded (as hex or base64)?
  void probeLongRun(std::string_view chars, size_t begin, size_t end) {
    if (skipped == nullptr) {
      return;
    }
    const bool all_hex =
        std::all_of(chars.begin(), chars.end(), [](char c) { return hexValue(c) >= 0; });
    const size_t before = skipped->size();
    const std::vector<uint32_t> no_offsets;
    // A prefix first: binary data (an image) shows in its first bytes, and then the whole run
    // need not be decoded (kPrefix is a multiple of 4 and of 2: whole base64 quads, hex pairs).
    constexpr size_t kPrefix = 1024;
    if (all_hex && config.decode_hex) {
      DecodedBlob head;
      head.offsets = false;
      if (decodeHex(chars.substr(0, kPrefix), no_offsets, head) && mayStartText(head.text)) {
        probe(begin, end, [&](DecodedBlob& blob) { return decodeHex(chars, no_offsets, blob); });
      }
    }
    if (config.decode_base64 && skipped->size() == before) {
      size_t data_end = chars.size();
      while (data_end > 0 && chars[data_end - 1] == '=') {
        --data_end;
      }
      const std::string_view data = chars.substr(0, data_end);
      DecodedBlob head;
      head.offsets = false;
      if (decodeBase64(data.substr(0, kPrefix), no_offsets, head) && mayStartText(head.text)) {
        probe(begin, end, [&](DecodedBlob& blob) { return decodeBase64(data, no_offsets, blob); });
      }
    }
  }

  size_t lineBreakAt(size_t pos) const {
    if (pos < text.size() && text[pos] == '\n') {
      return 1;
    }
    return pos + 1 < text.size() && text[pos] == '\r' && text[pos + 1] == '\n' ? 2 : 0;
  }

  // The end of the base64 characters (and up to two '=') starting at `pos`.
  size_t segmentEnd(size_t pos) const {
    const unsigned char* data = reinterpret_cast<const unsigned char*>(text.data());
    size_t end = pos;
    while (end < text.size() && good(data[end])) {
      ++end;
    }
    size_t data_end = end;
    while (end < text.size() && end - data_end < 2 && data[end] == '=') {
      ++end;
    }
    return end;
  }

  // A run that ends at a line break continues on the next lines when they are the lines of a
  // wrapped blob (`base64` wraps at 76 columns, PEM at 64, `xxd -p` at 60): every line but the
  // last has the same width W (the longer of the first two lines), a multiple of 4 and >= 16;
  // the first and last are at most W long; padding only at the very end. Returns the segments,
  // the first one included.
  std::vector<std::pair<size_t, size_t>> wrappedSegments(size_t begin, size_t end) const {
    std::vector<std::pair<size_t, size_t>> segments{{begin, end}};
    if (text[end - 1] == '=') {
      return segments;
    }
    size_t width = 0;
    for (size_t pos = end;;) {
      size_t line_break = lineBreakAt(pos);
      if (line_break == 0) {
        break;
      }
      size_t seg_begin = pos + line_break;
      size_t seg_end = segmentEnd(seg_begin);
      size_t length = seg_end - seg_begin;
      if (length == 0) {
        break;
      }
      if (width == 0) {
        // Two lines: the second is the last one (shorter) or a full one (the first may then
        // start mid-line, after a label).
        width = std::max(length, end - begin);
        if (width < 16 || width % 4 != 0) {
          break;
        }
      }
      if (length > width) {
        break;
      }
      segments.emplace_back(seg_begin, seg_end);
      if (length < width || text[seg_end - 1] == '=') {
        break;  // the last line
      }
      pos = seg_end;
    }
    return segments;
  }

  // A run, with the following lines when they are the lines of one wrapped run, decoded (or
  // probed when longer than max_blob_chars). When the lines together are not readable text,
  // the first line is tried alone (a blob followed by a line of prose), and the lines after it
  // are looked at on their own.
  void decodeRun(size_t begin, size_t end) {
    std::vector<std::pair<size_t, size_t>> segments =
        begin < single_lines_until ? std::vector<std::pair<size_t, size_t>>{{begin, end}}
                                   : wrappedSegments(begin, end);
    if (!decodeSegments(segments) && segments.size() > 1) {
      // Each line is looked at once more, on its own: no line inside starts another join (the
      // work stays linear in the text).
      single_lines_until = segments.back().second;
      segments.resize(1);
      decodeSegments(segments);
    }
    next_start = segments.back().second + 1;
  }

  // Decodes (or probes) the joined segments; true when they were readable text (kept, or
  // recorded as skipped).
  bool decodeSegments(const std::vector<std::pair<size_t, size_t>>& segments) {
    const size_t begin = segments.front().first;
    const size_t end = segments.back().second;
    const size_t blobs_before = blobs.size();
    const size_t skipped_before = skipped != nullptr ? skipped->size() : 0;
    const auto found = [&] {
      return blobs.size() != blobs_before ||
             (skipped != nullptr && skipped->size() != skipped_before);
    };
    size_t length = 0;
    for (auto [seg_begin, seg_end] : segments) {
      length += seg_end - seg_begin;
    }
    if (length < config.min_blob_chars) {
      return false;
    }
    if (segments.size() == 1 && length > config.max_blob_chars) {
      probeLongRun(text.substr(begin, end - begin), begin, end);
      return found();
    }
    std::string chars;
    chars.reserve(length);
    for (auto [seg_begin, seg_end] : segments) {
      chars.append(text.substr(seg_begin, seg_end - seg_begin));
    }
    if (length > config.max_blob_chars) {
      probeLongRun(chars, begin, end);  // a wrapped run too long as a whole
      return found();
    }
    std::vector<uint32_t> pos;
    pos.reserve(length);
    for (auto [seg_begin, seg_end] : segments) {
      for (size_t i = seg_begin; i < seg_end; ++i) {
        pos.push_back(static_cast<uint32_t>(i));
      }
    }
    base64OrHexRun(chars, pos, begin, end);
    return found();
  }

  // Hex bytes with a separator between them, as hex dumps print them ("34 31 31", "34:31:31"):
  // at least eight pairs, the same separator throughout. Returns the end of the dump starting
  // at `p`, or `p` when there is none. A dump of more than max_blob_chars hex digits is probed,
  // not decoded.
  size_t separatedHexAt(size_t p) {
    const size_t n = text.size();
    if (p + 2 >= n || (p > 0 && isAlnum(text[p - 1]))) {
      return p;
    }
    const char sep = text[p + 2];
    std::string chars;
    std::vector<uint32_t> pos;
    bool has_digit = false;
    size_t end = p;
    size_t pairs_end = p;  // the end of the last pair (a separator after it is not the dump's)
    while (end + 1 < n && hexValue(text[end]) >= 0 && hexValue(text[end + 1]) >= 0 &&
           (end + 2 == n || text[end + 2] == sep || !isAlnum(text[end + 2]))) {
      pairs_end = end + 2;
      for (size_t k = end; k < end + 2; ++k) {
        chars.push_back(text[k]);
        if (chars.size() <= config.max_blob_chars) {
          pos.push_back(static_cast<uint32_t>(k));
        }
        has_digit |= isDigit(text[k]);
      }
      bool more = end + 2 < n && text[end + 2] == sep;
      end += more ? 3 : 2;
      if (!more) {
        break;
      }
    }
    if (chars.size() < 16) {
      return p;
    }
    end = pairs_end;
    if (!has_digit) {
      return end;  // letters only: no dump starts inside either (the search stays linear)
    }
    if (chars.size() > config.max_blob_chars) {
      probeLongRun(chars, p, end);
      return end;
    }
    DecodedBlob blob;
    decodeHex(chars, pos, blob);
    keep(std::move(blob), BlobKind::Hex, p, end);
    return end;
  }

  static bool dumpChar(char c) { return kHexDumpChars[static_cast<unsigned char>(c)]; }

  // Finds hex dumps the way run() finds base64: a dump of eight pairs spans 23 characters of
  // [0-9a-fA-F :-], so a window whose last character is anything else is skipped whole.
  void separatedHexRuns() {
    constexpr size_t kMinDump = 8 * 3 - 1;
    const size_t n = text.size();
    size_t start = 0;
    while (start + kMinDump <= n && !exhausted()) {
      size_t j = start + kMinDump;
      while (j > start && dumpChar(text[j - 1])) {
        --j;
      }
      if (j > start) {
        start = j;
        continue;
      }
      size_t end = start + kMinDump;
      while (end < n && dumpChar(text[end])) {
        ++end;
      }
      for (size_t p = start; p + kMinDump <= end;) {
        size_t dump_end = separatedHexAt(p);
        p = dump_end > p ? dump_end : p + 1;
      }
      start = end + 1;
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
      size_t end = segmentEnd(start + window);
      bool url_escaped = end < n && data[end] == '%';
      if (url_escaped) {
        start = end + 1;
        continue;
      }
      decodeRun(start, end);
      if (exhausted()) {
        return;
      }
      start = next_start;
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

namespace {

// One level: the blobs of `text`, charged to `budget`; readable runs left out go to `skipped`
// (in offsets into `text`).
std::vector<DecodedBlob> findAtOneLevel(std::string_view text, const EvasionConfig& config,
                                        size_t& budget, std::vector<SkippedBlob>* skipped) {
  Finder finder{text, config, budget, skipped, {}};
  if (config.decode_base64 || config.decode_hex) {
    finder.run();
  }
  if (config.decode_hex) {
    finder.escapedHexRuns();
    finder.separatedHexRuns();
  }
  if (config.decode_url) {
    finder.urlRuns();
  }
  budget = finder.budget;
  return std::move(finder.blobs);
}

// Rewrites `inner`, found in outer.text, into the offsets of the text `outer` was found in.
void mapThrough(const DecodedBlob& outer, DecodedBlob& inner) {
  inner.begin = outer.src_begin[inner.begin];
  inner.end = outer.src_end[inner.end - 1];
  for (size_t k = 0; k < inner.text.size(); ++k) {
    inner.src_begin[k] = outer.src_begin[inner.src_begin[k]];
    inner.src_end[k] = outer.src_end[inner.src_end[k] - 1];
  }
}

// Rewrites `run`, found in outer.text, into the offsets of the text `outer` was found in.
SkippedBlob mapThrough(const DecodedBlob& outer, SkippedBlob run) {
  run.begin = outer.src_begin[run.begin];
  run.end = outer.src_end[run.end - 1];
  return run;
}

// Does `blob` (decoded at the last level) hold a readable encoded run of its own?
bool holdsEncodedText(const DecodedBlob& blob, const EvasionConfig& config) {
  size_t budget = config.max_decoded_bytes;  // a probe: not charged to the scan's budget
  std::vector<SkippedBlob> inner_skipped;
  return !findAtOneLevel(blob.text, config, budget, &inner_skipped).empty() ||
         !inner_skipped.empty();
}

}  // namespace

std::vector<DecodedBlob> findEncodedBlobs(std::string_view text, const EvasionConfig& config,
                                          size_t budget, std::vector<SkippedBlob>* skipped) {
  std::vector<DecodedBlob> blobs = findAtOneLevel(text, config, budget, skipped);
  // Without a `skipped` list nothing past the budget is of interest; with one, the inner levels
  // are still searched for readable runs that the budget leaves out.
  const auto exhausted = [&] { return budget == 0 && skipped == nullptr; };
  size_t level_begin = 0;
  for (int depth = 1; level_begin < blobs.size() && !exhausted(); ++depth) {
    const size_t level_end = blobs.size();
    if (depth == kMaxDecodeDepth) {
      // The last level decoded: a blob holding another readable encoded run would need one
      // more level, so it was not fully examined.
      for (size_t b = level_begin; skipped != nullptr && b < level_end; ++b) {
        if (holdsEncodedText(blobs[b], config)) {
          skipped->push_back({SkippedBlob::Reason::TooDeep, blobs[b].begin, blobs[b].end});
        }
      }
      break;
    }
    for (size_t b = level_begin; b < level_end && !exhausted(); ++b) {
      std::vector<SkippedBlob> inner_skipped;
      std::vector<DecodedBlob> inner = findAtOneLevel(
          blobs[b].text, config, budget, skipped != nullptr ? &inner_skipped : nullptr);
      for (const SkippedBlob& run : inner_skipped) {
        skipped->push_back(mapThrough(blobs[b], run));
      }
      for (DecodedBlob& blob : inner) {
        mapThrough(blobs[b], blob);
        blobs.push_back(std::move(blob));
      }
    }
    level_begin = level_end;
  }
  return blobs;
}

}  // namespace sy::policies
