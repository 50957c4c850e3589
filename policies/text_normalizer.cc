#include "policies/text_normalizer.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "policies/unicode_fold.h"

namespace sy::policies {

std::pair<int32_t, size_t> decodeUtf8(std::string_view text, size_t pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char b0 = byte(pos);
  if (b0 < 0x80) {
    return {b0, 1};
  }
  size_t len = 0;
  int32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return {-1, 1};
  }
  if (pos + len > text.size()) {
    return {-1, 1};
  }
  for (size_t i = 1; i < len; ++i) {
    unsigned char b = byte(pos + i);
    if ((b & 0xC0) != 0x80) {
      return {-1, 1};
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr int32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {-1, 1};
  }
  return {cp, len};
}

namespace {

bool isInvisible(int32_t cp) {
  return cp == 0x00AD || cp == 0x034F || cp == 0x061C || cp == 0x115F || cp == 0x1160 ||
         cp == 0x17B4 || cp == 0x17B5 || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x2066 && cp <= 0x206F) || cp == 0x3164 || cp == 0xFEFF || cp == 0xFFA0 ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0000 && cp <= 0xE007F) ||
         (cp >= 0xE0100 && cp <= 0xE01EF);
}

// Returns the ASCII character a look-alike folds to, or 0 when it does not fold.
char foldToAscii(int32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) {  // full-width ASCII
    return static_cast<char>(cp - 0xFEE0);
  }
  if (cp == 0x3000 || cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
      cp == 0x202F || cp == 0x205F) {
    return ' ';
  }
  if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xFE58 || cp == 0xFE63) {
    return '-';
  }
  if (cp == 0x2024 || cp == 0xFE52 || cp == 0xFF61 || cp == 0x3002) {
    return '.';
  }
  if (cp == 0xFE6B) {
    return '@';
  }
  if (cp >= 0x1D400 && cp <= 0x1D6A3) {  // mathematical letters: 13 styles of A-Z a-z
    int32_t k = (cp - 0x1D400) % 52;
    return static_cast<char>(k < 26 ? 'A' + k : 'a' + (k - 26));
  }
  if (cp >= 0x24B6 && cp <= 0x24CF) {  // circled A-Z
    return static_cast<char>('A' + (cp - 0x24B6));
  }
  if (cp >= 0x24D0 && cp <= 0x24E9) {  // circled a-z
    return static_cast<char>('a' + (cp - 0x24D0));
  }
  // Every script's digits (superscripts, subscripts, circled digits included) and the
  // confusable look-alikes of ASCII letters and digits, from ICU (policies/unicode_fold.h).
  return foldTable().fold(cp);
}

}  // namespace

std::pair<size_t, size_t> NormalizedText::toOriginal(size_t begin, size_t end) const {
  if (identity_) {
    return {begin, end};
  }
  if (storage_.empty()) {
    return {0, 0};
  }
  begin = std::min(begin, storage_.size() - 1);
  end = std::max(end, begin + 1);
  end = std::min(end, storage_.size());
  return {begin_[begin], end_[end - 1]};
}

NormalizedText normalizeText(std::string_view original, const NormalizeOptions& options) {
  NormalizedText out;
  out.original_ = original;
  if ((!options.fold_unicode && !options.strip_invisible) ||
      original.size() >= std::numeric_limits<uint32_t>::max()) {
    return out;
  }
  size_t first_non_ascii = 0;
  // Eight bytes at a time: most prompts are pure ASCII and leave here untouched.
  for (; first_non_ascii + 8 <= original.size(); first_non_ascii += 8) {
    uint64_t word;
    std::memcpy(&word, original.data() + first_non_ascii, sizeof word);
    if ((word & 0x8080808080808080ull) != 0) {
      break;
    }
  }
  while (first_non_ascii < original.size() &&
         static_cast<unsigned char>(original[first_non_ascii]) < 0x80) {
    ++first_non_ascii;
  }
  if (first_non_ascii == original.size()) {
    return out;  // pure ASCII: nothing to fold or strip
  }
  out.identity_ = false;
  out.storage_.reserve(original.size());
  out.begin_.reserve(original.size());
  out.end_.reserve(original.size());
  auto emit = [&out](char c, size_t src_begin, size_t src_end) {
    out.storage_.push_back(c);
    out.begin_.push_back(static_cast<uint32_t>(src_begin));
    out.end_.push_back(static_cast<uint32_t>(src_end));
  };
  for (size_t i = 0; i < first_non_ascii; ++i) {
    emit(original[i], i, i + 1);
  }
  size_t pos = first_non_ascii;
  while (pos < original.size()) {
    auto [cp, len] = decodeUtf8(original, pos);
    if (cp >= 0x80) {
      if (options.strip_invisible && isInvisible(cp)) {
        pos += len;
        continue;
      }
      if (options.fold_unicode) {
        if (char folded = foldToAscii(cp); folded != 0) {
          emit(folded, pos, pos + len);
          pos += len;
          continue;
        }
      }
    }
    for (size_t k = 0; k < len; ++k) {
      emit(original[pos + k], pos + k, pos + k + 1);
    }
    pos += len;
  }
  return out;
}

std::vector<std::pair<size_t, size_t>> findHiddenCharacterRuns(std::string_view original) {
  std::vector<std::pair<size_t, size_t>> runs;
  size_t pos = 0;
  while (pos < original.size()) {
    if (static_cast<unsigned char>(original[pos]) < 0x80) {
      ++pos;
      continue;
    }
    auto [cp, len] = decodeUtf8(original, pos);
    bool tag = cp >= 0xE0000 && cp <= 0xE007F;
    bool zero_width = cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF;
    if (cp == 0x202D || cp == 0x202E) {  // left-to-right / right-to-left override
      runs.emplace_back(pos, pos + len);
      pos += len;
      continue;
    }
    if (!tag && !zero_width) {
      pos += len;
      continue;
    }
    size_t begin = pos;
    size_t count = 0;
    while (pos < original.size()) {
      auto [next, next_len] = decodeUtf8(original, pos);
      bool same = tag ? (next >= 0xE0000 && next <= 0xE007F)
                      : (next == 0x200B || next == 0x200C || next == 0x200D || next == 0x2060 ||
                         next == 0xFEFF);
      if (!same) {
        break;
      }
      ++count;
      pos += next_len;
    }
    if (count >= (tag ? 2u : 3u)) {
      runs.emplace_back(begin, pos);
    }
  }
  return runs;
}

}  // namespace sy::policies
