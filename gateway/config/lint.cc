#include "gateway/config/lint.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "gateway/config/lint_rules.h"
#include "gateway/config/str_cat.h"
#include "router/routing.h"

namespace sy::config {
namespace {

using router::BackendSpec;
using router::Location;

class Linter {
 public:
  explicit Linter(const Config& config) : config_(config) {}

  // Reports "path: message" at the recorded position of `path` (0:0 if none was recorded).
  void warn(std::string_view path, std::string_view message) {
    SourcePosition position;
    if (const auto it = config_.locations.find(path); it != config_.locations.end()) {
      position = it->second;
    }
    const auto [file, line] = config_.sources.locate(position.line, config_.source);
    warnings_.push_back(ConfigWarning{file, line, position.column, strCat(path, ": ", message),
                                      position.line});
  }

  std::vector<ConfigWarning> take() {
    std::stable_sort(warnings_.begin(), warnings_.end(),
                     [](const ConfigWarning& a, const ConfigWarning& b) {
                       return std::pair(a.order, a.column) < std::pair(b.order, b.column);
                     });
    return std::move(warnings_);
  }

  // Compliance: `what` (at `path`) can reach each of `backends`.
  void checkReach(std::string_view path, std::string_view what,
                  const std::vector<const BackendSpec*>& backends) {
    for (const BackendSpec* backend : backends) {
      if (backend == nullptr) {
        continue;
      }
      const std::string reasons = violations(*backend);
      if (!reasons.empty()) {
        warn(path, strCat(what, " can reach backend '", backend->name, "' (", describe(*backend),
                          "), which compliance does not allow: ", reasons));
      }
    }
  }

  void checkBackend(const BackendSpec& backend, size_t index) {
    const std::string path = strCat("backends[", index, "]");
    const bool external = backend.location == Location::External;
    if (external && backend.region.empty() && !config_.compliance.regions.empty()) {
      warn(path,
           strCat("external backend '", backend.name, "' has no region, so compliance.regions (",
                  allowedRegions(), ") cannot allow it: set its region"));
    }
    if (external && backend.cost.input_per_mtok == 0 && backend.cost.output_per_mtok == 0) {
      warn(path, strCat("external backend '", backend.name,
                        "' has no cost: its traffic counts as free in spend, budgets and savings "
                        "(set cost: {input_per_mtok, output_per_mtok})"));
    }
  }

  void warnUnused(const std::set<std::string, std::less<>>& used) {
    for (size_t i = 0; i < config_.catalog.backends.size(); ++i) {
      const BackendSpec& backend = config_.catalog.backends[i];
      if (!used.contains(backend.name)) {
        warn(strCat("backends[", i, "]"),
             strCat("backend '", backend.name,
                    "' is unused: no tier, model alias or routing rule names it"));
      }
    }
  }

 private:
  // Why compliance does not allow `backend` ("" when it does): the reasons, "; "-separated.
  std::string violations(const BackendSpec& backend) const {
    const ComplianceSpec& compliance = config_.compliance;
    std::string out;
    if (!compliance.licenses.empty() &&
        std::find(compliance.licenses.begin(), compliance.licenses.end(), backend.license) ==
            compliance.licenses.end()) {
      out = strCat("license category '", toString(backend.license),
                   "' is not in compliance.licenses (", allowedLicenses(), ")");
    }
    if (backend.location == Location::External && !compliance.regions.empty() &&
        std::find(compliance.regions.begin(), compliance.regions.end(), backend.region) ==
            compliance.regions.end()) {
      out += strCat(out.empty() ? "" : "; ",
                    backend.region.empty() ? std::string("its region is unknown")
                                           : strCat("region '", backend.region, "'"),
                    backend.region.empty() ? " (no region set) and compliance.regions is ("
                                           : " is not in compliance.regions (",
                    allowedRegions(), ")");
    }
    return out;
  }

  static std::string describe(const BackendSpec& backend) {
    return strCat(
        toString(backend.location), ", license ", toString(backend.license),
        backend.region.empty() ? std::string(", no region") : strCat(", region ", backend.region));
  }

  std::string allowedLicenses() const {
    std::string out;
    for (const router::License license : config_.compliance.licenses) {
      out += strCat(out.empty() ? "" : ", ", toString(license));
    }
    return out;
  }

  std::string allowedRegions() const {
    std::string out;
    for (const std::string& region : config_.compliance.regions) {
      out += strCat(out.empty() ? "" : ", ", region);
    }
    return out;
  }

  const Config& config_;
  std::vector<ConfigWarning> warnings_;
};

// The backend named `name` (a tier or alias of the same name does not shadow it here).
const BackendSpec* findBackend(const router::CatalogSpec& catalog, std::string_view name) {
  for (const BackendSpec& backend : catalog.backends) {
    if (backend.name == name) {
      return &backend;
    }
  }
  return nullptr;
}

// True when every backend `rule` can send to (route and fallbacks) is self-hosted.
bool reachesOnlySelfHosted(const router::CatalogSpec& catalog, const router::RouteRuleSpec& rule) {
  std::vector<std::string_view> targets{rule.route};
  targets.insert(targets.end(), rule.fallback.begin(), rule.fallback.end());
  for (const std::string_view target : targets) {
    for (const BackendSpec* backend : router::targetBackends(catalog, target)) {
      if (backend->location == Location::External) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::string ConfigWarning::str() const {
  return strCat(file, ":", line, ":", column, ": warning: ", message);
}

std::vector<ConfigWarning> lintWarnings(const Config& config) {
  const router::CatalogSpec& catalog = config.catalog;
  Linter linter(config);
  std::set<std::string, std::less<>> used;
  for (size_t i = 0; i < catalog.backends.size(); ++i) {
    linter.checkBackend(catalog.backends[i], i);
  }
  for (const router::TierSpec& tier : catalog.tiers) {
    for (size_t i = 0; i < tier.backends.size(); ++i) {
      used.insert(tier.backends[i]);
      linter.checkReach(strCat("tiers.", tier.name, ".backends[", i, "]"),
                        strCat("tier '", tier.name, "'"), {findBackend(catalog, tier.backends[i])});
    }
  }
  for (const router::ModelAliasSpec& alias : catalog.models) {
    const bool to_backend = !alias.backend.empty();
    if (to_backend) {
      used.insert(alias.backend);
    }
    linter.checkReach(strCat("models.", alias.name, to_backend ? ".backend" : ".tier"),
                      strCat("model alias '", alias.name, "'"),
                      router::targetBackends(catalog, to_backend ? alias.backend : alias.tier));
  }
  const std::vector<router::RouteRuleSpec>& rules = config.routing.rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    const router::RouteRuleSpec& rule = rules[i];
    if (rule.action != router::RouteAction::Route) {
      continue;
    }
    const std::string path = strCat("routing[", i, "]");
    const auto route = router::targetBackends(catalog, rule.route);
    for (const BackendSpec* backend : route) {
      used.insert(backend->name);
    }
    linter.checkReach(strCat(path, ".route"),
                      strCat("routing rule '", rule.name, "' (route '", rule.route, "')"), route);
    for (size_t j = 0; j < rule.fallback.size(); ++j) {
      linter.checkReach(
          strCat(path, ".fallback[", j, "]"),
          strCat("routing rule '", rule.name, "' (fallback '", rule.fallback[j], "')"),
          router::targetBackends(catalog, rule.fallback[j]));
    }
    if (rule.transform != router::Transform::None && rule.route != router::kRouteRequested &&
        reachesOnlySelfHosted(catalog, rule)) {
      linter.warn(strCat(path, ".transform"),
                  strCat("has no effect: rule '", rule.name, "' reaches only self-hosted backends ",
                         "(transforms apply to requests sent to external backends)"));
    }
  }
  linter.warnUnused(used);
  lintRules(config, [&linter](std::string_view path, std::string message) {
    linter.warn(path, message);
  });
  return linter.take();
}

}  // namespace sy::config
