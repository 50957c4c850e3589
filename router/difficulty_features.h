// Feature extraction for the difficulty classifier (router/difficulty.h). The ONE implementation
// shared by the gateway (scoring) and the trainer (tests/eval/difficulty_train.cc), so training and
// serving cannot drift; the weights file records configHash() and the loader rejects a mismatch.
//
// Input: a request's text segments in order. The LAST segment is the request (the last user
// message): its words, word bigrams and character 4-grams are hashed into kHashSize buckets and
// its structure is measured (math notation, code, constraints, steps, questions, options, length,
// domain cues). Earlier segments are context: they add only their length, their count and their
// domain cues (for high_stakes). At most kMaxScanBytes of the last segment and kMaxContextBytes of
// the context (the segments nearest the end) are scanned; lengths count every byte.
//
// Thread-safe: extract() writes only into the caller's Features; the cue tables are immutable and
// built on first use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sy::router::difficulty {

inline constexpr uint32_t kHashBits = 18;
inline constexpr uint32_t kHashSize = 1u << kHashBits;
inline constexpr size_t kMaxScanBytes = 16 * 1024;
inline constexpr size_t kMaxContextBytes = 8 * 1024;

// Dense (named) features. Each value is a fixed transform of a count (log1p or a ratio), so the
// model needs no scaling statistics. The names are the keys of the weights file.
enum class Dense : uint8_t {
  LogBytes,         // log1p(bytes of the last segment) / 4
  LogWords,         // log1p(words) / 4
  Questions,        // log1p('?' count)
  Numbers,          // log1p(number tokens)
  DigitRatio,       // digits / bytes
  MathOps,          // log1p(= + ^ * / < > % and digit-adjacent '-')
  Latex,            // 1 if TeX markup ($...$, \frac, \sqrt, ...)
  CodeFence,        // 1 if a ``` fence
  CodeLines,        // log1p(lines that look like code)
  CodeWords,        // log1p(programming keywords)
  Constraints,      // log1p(constraint cues: must, exactly, at least, such that, ...)
  FormatCues,       // log1p(format/genre cues: words, paragraph, bullet, poem, email, ...)
  Steps,            // log1p(multi-step reasoning cues: then, total, calculate, prove, ...)
  Analysis,         // log1p(analysis/advice cues: analyze, assess, recommend, should i, ...)
  ListItems,        // log1p(lines starting with "-", "*", "1." ...)
  Options,          // log1p(multiple-choice option lines "A." / "(A)")
  Sentences,        // log1p(sentence ends)
  AvgWordLen,       // mean word length / 10
  LongWords,        // share of words with >= 9 letters
  Legal,            // log1p(legal domain cues)
  Medical,          // log1p(medical domain cues)
  Financial,        // log1p(financial domain cues)
  HighStakes,       // 1 if high_stakes (below)
  ContextBytes,     // log1p(bytes of the earlier segments) / 4
  ContextSegments,  // log1p(number of earlier segments)
  Demanding,        // log1p(asks for reasoning work: prove, derive, design, implement, optimize...)
  Light,            // log1p(asks to restate or look up: rewrite, summarize, translate, what is...)
  TechTerms,        // log1p(technical vocabulary of code, math and science)
  TechDensity,      // min(1, 5 * technical terms / words)
  kCount,
};
inline constexpr size_t kDenseCount = static_cast<size_t>(Dense::kCount);

std::string_view denseName(size_t index);

// A stable hash of everything that decides feature indices and values (hash bits, namespaces,
// dense names, cue lexicons, caps). Written to the weights file by the trainer.
uint64_t configHash();

struct Features {
  std::vector<uint32_t> words;  // word unigram and bigram buckets (duplicates kept: counts)
  std::vector<uint32_t> chars;  // character 4-gram buckets
  float word_scale = 0;         // 1/sqrt(words.size()): the hashed vectors have unit-ish norm
  float char_scale = 0;
  std::array<float, kDenseCount> dense{};
  // Legal, medical or financial analysis: >= 2 cues of one domain together with an analysis or
  // advice cue, or >= 3 cues of one domain; counted over the last segment and the context.
  bool high_stakes = false;

  float& operator[](Dense d) { return dense[static_cast<size_t>(d)]; }
  float operator[](Dense d) const { return dense[static_cast<size_t>(d)]; }
};

// Clears `out` (keeping its capacity) and fills it. Deterministic.
void extract(std::span<const std::string_view> texts, Features& out);

}  // namespace sy::router::difficulty
