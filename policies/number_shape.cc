#include "policies/number_shape.h"

#include <cstdlib>

#include "policies/validators.h"

namespace sy::policies {
namespace {

int groupValue(const NumberShape& shape, size_t index) {
  size_t offset = 0;
  for (size_t i = 0; i < index; ++i) {
    offset += static_cast<size_t>(shape.groups[i]);
  }
  return std::atoi(shape.digits.substr(offset, static_cast<size_t>(shape.groups[index])).c_str());
}

}  // namespace

NumberShape parseNumber(std::string_view s) {
  NumberShape shape;
  int current = 0;
  char separator = 0;
  bool in_extension = false;
  for (char c : s) {
    if (in_extension) {
      shape.extension_digits += isDigit(c) ? 1 : 0;
      continue;
    }
    if (isDigit(c)) {
      if (current == 0 && !shape.groups.empty()) {
        shape.separators.push_back(separator == 0 ? ' ' : separator);
      }
      shape.digits.push_back(c);
      ++current;
      separator = 0;
      continue;
    }
    if (current > 0) {
      shape.groups.push_back(current);
      current = 0;
    }
    if (c == '+' && shape.digits.empty()) {
      shape.plus = true;
    } else if (c == 'x' || c == 'X' || c == 'e' || c == 'E') {
      in_extension = true;
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && separator == 0) {
      separator = c;
    }
  }
  if (current > 0) {
    shape.groups.push_back(current);
  }
  return shape;
}

bool allSeparatorsAre(const NumberShape& shape, char separator) {
  return !shape.separators.empty() &&
         shape.separators.find_first_not_of(separator) == std::string::npos;
}

bool looksLikeDate(const NumberShape& shape) {
  if (shape.groups.size() != 3 || shape.plus) {
    return false;
  }
  const auto& g = shape.groups;
  int a = groupValue(shape, 0);
  int b = groupValue(shape, 1);
  int c = groupValue(shape, 2);
  if (g[0] == 4 && g[1] <= 2 && g[2] <= 2) {
    return plausibleDate(a, b, c);
  }
  if (g[0] <= 2 && g[1] <= 2 && (g[2] == 4 || g[2] == 2)) {
    int year = g[2] == 2 ? 2000 : c;
    return plausibleDate(year, b, a) || plausibleDate(year, a, b);
  }
  return false;
}

bool startsWithIsoDate(const NumberShape& shape) {
  if (shape.plus || shape.groups.size() < 3 || shape.groups[0] != 4 || shape.groups[1] != 2 ||
      shape.groups[2] != 2 || shape.separators[0] != '-' || shape.separators[1] != '-') {
    return false;
  }
  return plausibleDate(groupValue(shape, 0), groupValue(shape, 1), groupValue(shape, 2));
}

bool isYearRange(const NumberShape& shape) {
  if (shape.plus || shape.groups != std::vector<int>{4, 4}) {
    return false;
  }
  const int from = groupValue(shape, 0);
  const int to = groupValue(shape, 1);
  return from >= 1800 && from <= to && to <= 2100;
}

bool allGroupsAreYears(const NumberShape& shape) {
  for (size_t i = 0; i < shape.groups.size(); ++i) {
    const int value = groupValue(shape, i);
    if (shape.groups[i] != 4 || value < 1800 || value > 2100) {
      return false;
    }
  }
  return !shape.groups.empty();
}

bool isNanpShape(const NumberShape& shape) {
  std::vector<int> groups = shape.groups;
  std::string digits = shape.digits;
  if (groups.size() == 4 && (groups[0] == 1 || groups[0] == 3) &&
      (digits.starts_with("1") || digits.starts_with("001"))) {
    groups.erase(groups.begin());
  }
  return groups == std::vector<int>{3, 3, 4};
}

}  // namespace sy::policies
