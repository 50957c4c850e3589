// Sensitivity levels: the ordered list the policy declares (`sensitivity.levels`, ascending) and
// conditions on them (">= confidential"). Shared by DLP (policies/) and routing (router/).
// Values only; thread-safe to share once built.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy {

class SensitivityLevels {
 public:
  // public < internal < confidential < restricted.
  SensitivityLevels();
  // Fails on an empty list, an empty or duplicate name.
  static Result<SensitivityLevels> create(std::vector<std::string> ascending);

  // 0 for the lowest level; -1 when `name` is not a level.
  int rank(std::string_view name) const;
  const std::string& name(int rank) const { return names_.at(static_cast<size_t>(rank)); }
  const std::string& lowest() const { return names_.front(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
};

// "restricted" (equal), ">= confidential", "> internal", "<= internal", "< restricted".
struct LevelCondition {
  enum class Op { Eq, Ge, Gt, Le, Lt };
  Op op = Op::Eq;
  int rank = 0;

  // Fails with a message naming the unknown level or the bad operator.
  static Result<LevelCondition> parse(std::string_view text, const SensitivityLevels& levels);
  bool matches(int level_rank) const;
};

}  // namespace sy
