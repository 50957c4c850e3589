// Shell-style globs for names from the policy (model scopes of keys, `models:` in routing rules).
#pragma once

#include <string_view>

namespace sy {

// '*' matches any run of characters (also none), '?' exactly one; everything else itself,
// case-sensitively. Linear in practice, O(|glob| * |text|) at worst; never recursive.
bool globMatch(std::string_view glob, std::string_view text);

}  // namespace sy
