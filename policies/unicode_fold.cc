#include "policies/unicode_fold.h"

#include <unicode/uchar.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

namespace sy::policies {
namespace {

constexpr int32_t kLastCodePoint = 0x2FFFF;  // planes 0-2: every script with digits or letters

// Characters a confusable may fold to: letters and digits (what keys are made of) and the
// punctuation of key prefixes, e-mail addresses and URLs. Not spaces or quotes: those change
// how prose tokenizes and stop nothing.
bool foldTarget(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("-_./:@+=").find(c) != std::string_view::npos;
}

// 0..9 for a code point whose numeric type is decimal or digit (superscripts, circled digits).
int digitValue(int32_t cp) {
  int type = u_getIntPropertyValue(cp, UCHAR_NUMERIC_TYPE);
  if (type != U_NT_DECIMAL && type != U_NT_DIGIT) {
    return -1;
  }
  double value = u_getNumericValue(cp);
  if (value < 0 || value > 9 || value != static_cast<int>(value)) {
    return -1;
  }
  return static_cast<int>(value);
}

struct SpoofCloser {
  void operator()(USpoofChecker* checker) const { uspoof_close(checker); }
};

// The skeleton of `cp` when it is one ASCII character; 0 otherwise.
char asciiSkeleton(USpoofChecker* checker, int32_t cp) {
  UChar in[2];
  int32_t in_len = 0;
  U16_APPEND_UNSAFE(in, in_len, cp);
  UChar out[8];
  UErrorCode status = U_ZERO_ERROR;
  int32_t out_len = uspoof_getSkeleton(checker, 0, in, in_len, out, 8, &status);
  if (U_FAILURE(status) || out_len != 1 || out[0] >= 0x80) {
    return 0;
  }
  return static_cast<char>(out[0]);
}

// Which ASCII characters share a skeleton: 'l' stands for 'l', 'I', '1' and '|'.
struct AsciiBySkeleton {
  std::array<std::string, 128> members;

  // The member a look-alike of `cp` most likely stands for: same case for a cased letter
  // (Cyrillic 'І' is 'I', not 'l'), a letter before a digit otherwise.
  char pick(char skeleton, int32_t cp) const {
    const std::string& candidates = members[static_cast<unsigned char>(skeleton)];
    auto first = [&candidates](auto predicate) -> char {
      for (char c : candidates) {
        if (predicate(c)) {
          return c;
        }
      }
      return 0;
    };
    auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    char chosen = 0;
    if (u_isupper(cp)) {
      chosen = first(upper);
    } else if (u_islower(cp)) {
      chosen = first(lower);
    }
    if (chosen == 0) {
      chosen = first(lower);
    }
    if (chosen == 0) {
      chosen = first(upper);
    }
    if (chosen == 0) {
      chosen = first(foldTarget);
    }
    return chosen;
  }
};

}  // namespace

UnicodeFoldTable::UnicodeFoldTable() {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<USpoofChecker, SpoofCloser> checker(uspoof_open(&status));
  if (U_FAILURE(status)) {
    checker.reset();  // digits still fold; confusables do not
  }
  AsciiBySkeleton ascii;
  if (checker) {
    for (int32_t c = 0x21; c < 0x7F; ++c) {
      if (!foldTarget(static_cast<char>(c))) {
        continue;
      }
      if (char s = asciiSkeleton(checker.get(), c); s != 0) {
        ascii.members[static_cast<unsigned char>(s)].push_back(static_cast<char>(c));
      }
    }
  }
  for (int32_t cp = 0x80; cp <= kLastCodePoint; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      continue;
    }
    char folded = 0;
    if (int digit = digitValue(cp); digit >= 0) {
      folded = static_cast<char>('0' + digit);
    } else if (checker) {
      if (char s = asciiSkeleton(checker.get(), cp); s != 0) {
        folded = ascii.pick(s, cp);
      }
    }
    if (folded == 0) {
      continue;
    }
    ++count_;
    if (cp < 0x10000) {
      bmp_[static_cast<size_t>(cp)] = folded;
    } else {
      supplementary_.emplace_back(cp, folded);
    }
  }
}

char UnicodeFoldTable::fold(int32_t cp) const {
  if (cp < 0x80) {
    return 0;
  }
  if (cp < 0x10000) {
    return bmp_[static_cast<size_t>(cp)];
  }
  auto it = std::lower_bound(supplementary_.begin(), supplementary_.end(), cp,
                             [](const auto& entry, int32_t key) { return entry.first < key; });
  return it != supplementary_.end() && it->first == cp ? it->second : 0;
}

const UnicodeFoldTable& foldTable() {
  static const UnicodeFoldTable table;
  return table;
}

}  // namespace sy::policies
