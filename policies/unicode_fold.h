// The Unicode folding table of the DLP normalizer: which non-ASCII code points stand for an
// ASCII digit (every decimal digit of every script, superscripts, subscripts, circled and
// mathematical digits) or look like an ASCII letter, digit or key punctuation (Unicode
// confusables: Cyrillic 'а', Greek 'Ο', Cherokee 'Ꭰ', mathematical letters...). Built once from
// ICU's character properties and spoof-checker skeletons (about 20 ms, on first use).
// Thread-safety: foldTable() builds the table on first call (thread-safe static) and returns an
// immutable object shared by all threads for the life of the process.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sy::policies {

class UnicodeFoldTable {
 public:
  // The ASCII character `cp` folds to, or 0 when it does not fold (ASCII itself, letters with
  // no look-alike, symbols, invalid code points).
  char fold(int32_t cp) const;

  // How many code points fold (for tests and the startup log).
  size_t size() const { return count_; }

 private:
  friend const UnicodeFoldTable& foldTable();
  UnicodeFoldTable();

  std::array<char, 0x10000> bmp_{};                      // indexed by BMP code point
  std::vector<std::pair<int32_t, char>> supplementary_;  // sorted by code point
  size_t count_ = 0;
};

// The process-wide table; the first call builds it.
const UnicodeFoldTable& foldTable();

}  // namespace sy::policies
