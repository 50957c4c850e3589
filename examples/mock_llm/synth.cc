#include "examples/mock_llm/synth.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace sy::mock {
namespace {

constexpr std::string_view kLoremWords[] = {"lorem", "ipsum",       "dolor",      "sit",
                                            "amet",  "consectetur", "adipiscing", "elit",
                                            "sed",   "do",          "eiusmod",    "tempor"};
constexpr int64_t kLoremCount = sizeof(kLoremWords) / sizeof(kLoremWords[0]);

uint64_t splitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

void appendToken(std::string& out, int64_t index, std::string_view name) {
  switch (index) {
    case 0:
      out += "Hello";
      return;
    case 1:
      out += " from";
      return;
    case 2:
      out += ' ';
      out += name;
      out += '.';
      return;
    default:
      out += ' ';
      out += kLoremWords[(index - 3) % kLoremCount];
      return;
  }
}

void appendReplyText(std::string& out, int64_t count, std::string_view name) {
  for (int64_t i = 0; i < count; ++i) {
    appendToken(out, i, name);
  }
}

uint64_t fnv1a(std::string_view bytes, uint64_t seed) {
  uint64_t hash = seed;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

void embeddingVector(uint64_t seed, int dims, std::vector<float>& out) {
  out.resize(static_cast<size_t>(dims));
  uint64_t state = seed;
  double norm = 0.0;
  for (float& x : out) {
    // Uniform in [-1, 1); never all zero for dims >= 1 in practice, guarded below anyway.
    const double u = static_cast<double>(splitMix64(state) >> 11) * 0x1.0p-53;
    x = static_cast<float>(2.0 * u - 1.0);
    norm += static_cast<double>(x) * x;
  }
  if (norm == 0.0) {
    out[0] = 1.0f;
    return;
  }
  const double inv = 1.0 / std::sqrt(norm);
  for (float& x : out) {
    x = static_cast<float>(x * inv);
  }
}

void appendBase64(std::string& out, const void* data, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (size - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
}

void appendHex(std::string& out, uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out += kDigits[(value >> shift) & 0xf];
  }
}

}  // namespace sy::mock
