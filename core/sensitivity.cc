#include "core/sensitivity.h"

#include <algorithm>

namespace sy {

SensitivityLevels::SensitivityLevels()
    : names_{"public", "internal", "confidential", "restricted"} {}

Result<SensitivityLevels> SensitivityLevels::create(std::vector<std::string> ascending) {
  if (ascending.empty()) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "at least one sensitivity level is required");
  }
  for (size_t i = 0; i < ascending.size(); ++i) {
    if (ascending[i].empty()) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                       "a sensitivity level name must not be empty");
    }
    if (std::find(ascending.begin(), ascending.begin() + static_cast<long>(i), ascending[i]) !=
        ascending.begin() + static_cast<long>(i)) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                       "duplicate sensitivity level '" + ascending[i] + "'");
    }
  }
  SensitivityLevels levels;
  levels.names_ = std::move(ascending);
  return levels;
}

int SensitivityLevels::rank(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Result<LevelCondition> LevelCondition::parse(std::string_view text,
                                             const SensitivityLevels& levels) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  LevelCondition condition;
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {">=", Op::Ge}, {"<=", Op::Le}, {">", Op::Gt}, {"<", Op::Lt}, {"==", Op::Eq}, {"=", Op::Eq}};
  for (const auto& [spelling, op] : kOps) {
    if (text.starts_with(spelling)) {
      condition.op = op;
      text = trim(text.substr(spelling.size()));
      break;
    }
  }
  const int rank = levels.rank(text);
  if (rank < 0) {
    std::string known;
    for (const std::string& name : levels.names()) {
      known += known.empty() ? name : ", " + name;
    }
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "unknown sensitivity level '" + std::string(text) + "' (levels: " + known +
                         "; a condition is a level, optionally after >=, >, <= or <)");
  }
  condition.rank = rank;
  return condition;
}

bool LevelCondition::matches(int level_rank) const {
  switch (op) {
    case Op::Eq:
      return level_rank == rank;
    case Op::Ge:
      return level_rank >= rank;
    case Op::Gt:
      return level_rank > rank;
    case Op::Le:
      return level_rank <= rank;
    case Op::Lt:
      return level_rank < rank;
  }
  return false;
}

}  // namespace sy
