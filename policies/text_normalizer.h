// Normalization of text before matching, with a map back to the original bytes: folds
// full-width characters, every script's digits (superscripts and subscripts included), the
// Unicode confusables of ASCII letters and digits (Cyrillic 'а', Greek 'Ο'), spaces and dashes
// to ASCII, and drops zero-width and bidi control characters. Pure ASCII input is not copied.
// Thread-safety: normalizeText() is a pure function; a NormalizedText is an immutable value
// that refers to the original text, which must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::policies {

struct NormalizeOptions {
  bool fold_unicode = true;
  bool strip_invisible = true;
};

class NormalizedText {
 public:
  // The text detectors see.
  std::string_view text() const { return identity_ ? original_ : std::string_view(storage_); }
  std::string_view original() const { return original_; }
  bool identity() const { return identity_; }

  // Maps a non-empty span [begin, end) of text() to the original bytes it came from. Invisible
  // characters inside the span are included; those at its edges are not.
  std::pair<size_t, size_t> toOriginal(size_t begin, size_t end) const;

 private:
  friend NormalizedText normalizeText(std::string_view original, const NormalizeOptions& options);

  std::string_view original_;
  bool identity_ = true;
  std::string storage_;
  std::vector<uint32_t> begin_;  // per byte of storage_: first original byte of its source
  std::vector<uint32_t> end_;    // per byte of storage_: one past its source's last byte
};

// Texts of 4 GiB or more are returned as identity (offsets are 32-bit).
NormalizedText normalizeText(std::string_view original, const NormalizeOptions& options);

// Runs of invisible characters that hide text from a human reader (prompt-injection smuggling):
// 2+ Unicode tag characters, 3+ consecutive zero-width characters, or a bidi override.
// Offsets into `original`.
std::vector<std::pair<size_t, size_t>> findHiddenCharacterRuns(std::string_view original);

// Decodes one UTF-8 code point at text[pos]. Returns {code point, length}; an invalid or
// truncated sequence yields {-1, 1}.
std::pair<int32_t, size_t> decodeUtf8(std::string_view text, size_t pos);

}  // namespace sy::policies
