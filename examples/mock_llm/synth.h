// Deterministic synthetic content: reply tokens, prompt-token estimates, embedding vectors, and
// the small encoders they need (base64, hex). Pure functions; thread-safe.
//
// Token scheme: token 0 is "Hello", token 1 " from", token 2 " NAME." and token i >= 3 is " " plus
// kLoremWords[(i - 3) % 12] ("lorem", "ipsum", "dolor", ...). The reply text is the concatenation
// of the first reply_tokens tokens, e.g. 5 tokens: "Hello from vllm-a. lorem ipsum".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy::mock {

// Appends token `index` of the reply of server `name` (raw text; `name` is [A-Za-z0-9._:-], the
// lorem words are plain ASCII, so the result needs no JSON escaping).
void appendToken(std::string& out, int64_t index, std::string_view name);

// Appends the first `count` tokens.
void appendReplyText(std::string& out, int64_t count, std::string_view name);

// The prompt-token estimate: ceil(text_bytes / 4) + 3 * messages.
inline int64_t estimatePromptTokens(uint64_t text_bytes, uint64_t messages) {
  return static_cast<int64_t>((text_bytes + 3) / 4 + 3 * messages);
}

// 64-bit FNV-1a, used to seed embeddings.
uint64_t fnv1a(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ull);

// Fills `out` with `dims` floats derived only from `seed`, with unit L2 norm.
void embeddingVector(uint64_t seed, int dims, std::vector<float>& out);

// Appends the base64 (RFC 4648, padded) encoding of `size` bytes.
void appendBase64(std::string& out, const void* data, size_t size);

// Appends `value` as `digits` lowercase hex digits (most significant first).
void appendHex(std::string& out, uint64_t value, int digits);

}  // namespace sy::mock
