#include "core/json_text.h"

namespace sy {

void appendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

bool isPlainName(std::string_view name) {
  if (name.empty() || name.size() > 40) {
    return false;
  }
  size_t digits = 0;
  for (char c : name) {
    const bool digit = c >= '0' && c <= '9';
    digits += digit ? 1 : 0;
    if (!((c >= 'a' && c <= 'z') || c == '_' || digit)) {
      return false;
    }
  }
  return digits <= 8;  // a dated type name ("web_search_20250305"), not an account number
}

std::string quotedName(std::string_view name) {
  return isPlainName(name) ? "'" + std::string(name) + "'"
                           : std::string("(a name that is not shown)");
}

bool isEchoableName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  size_t digits = 0;
  size_t segment = 0;
  bool letter = false;
  for (char c : name) {
    const bool is_letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool is_digit = c >= '0' && c <= '9';
    const bool separator = c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
    if (!is_letter && !is_digit && !separator) {
      return false;
    }
    letter = letter || is_letter;
    digits += is_digit ? 1 : 0;
    segment = separator ? 0 : segment + 1;
    if (segment > 24) {
      return false;
    }
  }
  return letter && digits <= 12;
}

}  // namespace sy
