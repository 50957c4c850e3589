#include "gateway/server/explain.h"

#include <boost/json/array.hpp>

#include "gateway/server/pipeline.h"

namespace sy::server {
namespace {

namespace json = boost::json;
using policies::PolicyAction;

json::object errorObject(const Error& error) {
  const unsigned status = toHttpStatus(error);
  return json::object{{"status", status},
                      {"error", json::object{{"message", error.message},
                                             {"type", openAiErrorType(status)},
                                             {"code", error.code_id}}}};
}

std::string describe(const policies::Finding& finding, const policies::DlpEngine& engine) {
  const policies::DetectorInfo* info = engine.detector(finding.detector_id);
  std::string message = info != nullptr ? info->description : finding.detector_id;
  if (finding.decoded) {
    message += " (inside an encoded blob)";
  }
  return message;
}

}  // namespace

json::object explainRequest(const std::shared_ptr<const config::Snapshot>& snapshot,
                            std::string_view body, std::string_view endpoint,
                            const policies::Principal* principal) {
  RequestContext ctx;
  ctx.config = snapshot;
  ctx.principal = principal;
  ctx.endpoint = endpoint;
  ctx.api = endpoint == "embeddings" ? connectors::Endpoint::Embeddings
                                     : connectors::Endpoint::ChatCompletions;
  if (Status decoded = decodeBody(body, ctx); !decoded) {
    return errorObject(decoded.error());
  }
  if (Status authorized = authorizeBody(ctx); !authorized) {
    return errorObject(authorized.error());
  }
  inspectBody(ctx);
  json::array reasons;
  auto target = snapshot->catalog().resolve(ctx.requested_model, 0);
  if (!target) {
    return errorObject(target.error());
  }
  reasons.push_back(json::string(
      "model '" + ctx.requested_model + "' resolves to " +
      (target->tier.empty() ? std::string("backend '") + target->backends.front()->name + "'"
                            : "tier '" + std::string(target->tier) + "'")));
  auto [allowed, blocked] = allowedCandidates(ctx, *target);
  const auto& levels = snapshot->config().dlp_policy.levels;
  json::object out;
  std::string_view action = "allow";
  if (allowed.empty()) {
    action = "block";
    reasons.push_back(json::string(blocked->message));
  } else {
    const config::BackendRuntime& chosen = *allowed.front();
    if (ctx.dlp) {
      const DestinationVerdict& verdict = ctx.dlp->verdict(chosen.spec->location);
      ctx.dlp_verdict = &verdict;
      if (verdict.transforms) {
        action = "redact";
      }
    }
    if (blocked) {
      reasons.push_back(
          json::string("backends the DLP policy blocks for this request are "
                       "skipped: " +
                       blocked->message));
    }
    reasons.push_back(json::string("backend '" + chosen.spec->name + "' (" +
                                   std::string(toString(chosen.spec->location)) + ")"));
  }
  out["action"] = action;
  out["tier"] = target->tier.empty() ? json::value(nullptr) : json::value(target->tier);
  if (!allowed.empty()) {
    out["backend"] = allowed.front()->spec->name;
    out["model"] = allowed.front()->spec->model;
  } else {
    out["backend"] = nullptr;
    out["model"] = nullptr;
  }
  out["sensitivity"] = levels.name(ctx.sensitivity);
  if (principal != nullptr) {
    out["key"] = principal->key_id;
    out["team"] = principal->team;
  }
  out["difficulty"] = nullptr;
  reasons.push_back("difficulty: not classified (no difficulty classifier in this policy)");
  json::array findings;
  if (ctx.dlp) {
    const auto& engine = snapshot->dlpEngine();
    const auto& texts = ctx.dlp->texts();
    for (size_t t = 0; t < texts.size(); ++t) {
      for (size_t f = 0; f < texts[t].findings.size(); ++f) {
        const policies::Finding& finding = texts[t].findings[f];
        json::object item{{"detector", finding.detector_id},
                          {"class", policies::toString(finding.detector_class)},
                          {"message", describe(finding, engine)},
                          {"start", finding.start},
                          {"end", finding.end},
                          {"path", texts[t].pathString()},
                          {"level", finding.level}};
        if (ctx.dlp_verdict != nullptr) {
          const policies::FindingAction& decided = ctx.dlp_verdict->actions[t][f];
          item["action"] = policies::toString(decided.action);
          if (decided.rule >= 0) {
            item["rule"] = snapshot->dlpPolicy().requestRule(decided.rule).name;
          }
        }
        findings.push_back(std::move(item));
      }
    }
  }
  out["findings"] = std::move(findings);
  out["reasons"] = std::move(reasons);
  return out;
}

}  // namespace sy::server
