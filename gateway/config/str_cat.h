// Internal to gateway/config: strCat() builds error messages (g++ 12 has no <format>).
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

namespace sy::config {

namespace str_cat_internal {
template <class Part>
void append(std::string& out, const Part& part) {
  static_assert(!std::is_same_v<Part, bool>, "strCat does not format bools");
  if constexpr (std::is_integral_v<Part> && !std::is_same_v<Part, char>) {
    out += std::to_string(part);
  } else {
    out += part;  // strings, string_views, C strings and chars
  }
}
}  // namespace str_cat_internal

// Concatenates strings, string_views, C strings, chars and integers.
template <class... Parts>
std::string strCat(const Parts&... parts) {
  std::string out;
  (str_cat_internal::append(out, parts), ...);
  return out;
}

}  // namespace sy::config
