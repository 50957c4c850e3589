// Internal to gateway/config: the lint checks of lint_rules.cc, called by lintWarnings(). Pure
// functions of a loaded Config; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "gateway/config/config.h"

namespace sy::config {

// Reports one warning: the YAML path it is about ("routing[3]") and the text after "path: ".
using WarningSink = std::function<void(std::string_view path, std::string message)>;

// Routing rules and DLP action rules an earlier rule covers (shadowed), tiers no rule or alias
// reaches, keys without any limit (theirs or their team's), tier scopes a key's sensitivity
// floor and max_external_sensitivity always refuse, and custom patterns that match the empty
// string or are expensive for the RE2 set, and a response store anonymous requests cannot use.
void lintRules(const Config& config, const WarningSink& warn);

}  // namespace sy::config
