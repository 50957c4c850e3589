// Shell-style globs for names from the policy (model scopes of keys, `models:` in routing rules).
#pragma once

#include <string_view>

namespace sy {

// '*' matches any run of characters (also none), '?' exactly one; everything else itself,
// case-sensitively. Linear in practice, O(|glob| * |text|) at worst; never recursive.
bool globMatch(std::string_view glob, std::string_view text);

// True when `name` has a '*' or '?', so it is a pattern rather than a name.
inline bool isGlob(std::string_view name) { return name.find_first_of("*?") != name.npos; }

}  // namespace sy
