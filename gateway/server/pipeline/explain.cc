#include "gateway/server/pipeline/explain.h"

#include <boost/json/array.hpp>

#include "gateway/server/pipeline/output_bound.h"
#include "gateway/server/pipeline/pipeline.h"

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

// Why the request was refused: the reason the pipeline records (`routing_rule`, `dlp`,
// `external_sensitivity`, or `scope` for the rest) and the rule that refused it, if any.
json::object blockedBy(const RequestContext& ctx) {
  json::object out{{"reason", blockReasonLabel(ctx.block_reason)}, {"rule", nullptr}};
  if (ctx.block_reason == BlockReason::RoutingRule && ctx.rule != nullptr) {
    out["rule"] = ctx.rule->name;
  } else if (ctx.block_reason == BlockReason::Dlp && ctx.dlp && ctx.dlp_verdict != nullptr && ctx.dlp_verdict->block) {
    out["rule"] = ctx.dlp->blockRule(*ctx.dlp_verdict->block);
  }
  return out;
}

// What the forward phase would send to `backend` on its first try (upstreamRequest: the DLP
// transforms for its destination, the output cap, its connector's request), without the upstream
// key: a dry run reads none.
json::object upstreamPreview(RequestContext& ctx, const config::BackendRuntime& backend) {
  ctx.request_id = "explain";
  ctx.output_cap = outputCap(ctx);
  auto request = upstreamRequest(ctx, backend, "");
  if (!request) {
    return json::object{{"backend", backend.spec->name}, {"error", request.error().message}};
  }
  return json::object{
      {"backend", backend.spec->name}, {"target", request->target}, {"body", request->body}};
}

}  // namespace

json::object explainRequest(const std::shared_ptr<const config::Snapshot>& snapshot,
                            std::string_view body, std::string_view endpoint,
                            const policies::Principal* principal) {
  return explainRequest(snapshot, body, ExplainOptions{endpoint, {}, principal, false});
}

json::object explainRequest(const std::shared_ptr<const config::Snapshot>& snapshot,
                            std::string_view body, const ExplainOptions& options) {
  const policies::Principal* principal = options.principal;
  RequestContext ctx;
  ctx.config = snapshot;
  ctx.principal = principal;
  ctx.surface = options.surface;
  ctx.operation = options.endpoint == "embeddings" ? Operation::Embeddings : Operation::Chat;
  ctx.api = ctx.operation == Operation::Embeddings ? connectors::Endpoint::Embeddings
                                                   : connectors::Endpoint::ChatCompletions;
  if (Status decoded = decodeBody(body, ctx); !decoded) {
    return errorObject(decoded.error());
  }
  if (Status authorized = authorizeBody(ctx); !authorized) {
    return errorObject(authorized.error());
  }
  if (Status inspected = inspectBody(ctx); !inspected) {
    return errorObject(inspected.error());
  }
  classifyBody(ctx);
  json::array reasons;
  auto plan = decideRoute(ctx);
  if (!plan && ctx.rule == nullptr) {
    return errorObject(plan.error());  // an unknown model
  }
  const auto& levels = snapshot->config().dlp_policy.levels;
  json::object out;
  std::string_view action = "allow";
  std::vector<const config::BackendRuntime*> allowed;
  std::string_view tier;
  std::optional<Error> block;
  if (!plan) {
    action = "block";
    block = plan.error();
    reasons.push_back(json::string(plan.error().message));
  } else {
    const router::Target& target = plan->primary;
    tier = target.tier;
    std::string rule = "routing rule '" + ctx.rule->name + "': ";
    rule += ctx.rule->route == router::kRouteRequested
                ? "the requested model '" + ctx.requested_model + "'"
                : "route '" + ctx.rule->route + "'";
    rule += " resolves to " + (target.tier.empty()
                                   ? std::string("backend '") + target.backends.front()->name + "'"
                                   : "tier '" + std::string(target.tier) + "'");
    if (ctx.overridden) {
      rule += " (overrides the requested model '" + ctx.requested_model + "')";
    }
    reasons.push_back(json::string(rule));
    for (const router::Target& fallback : plan->fallbacks) {
      reasons.push_back(json::string("falls back to tier '" + std::string(fallback.tier) + "'"));
    }
    auto candidates = allowedCandidates(ctx, target);
    allowed = std::move(candidates.allowed);
    if (allowed.empty()) {
      action = "block";
      block = candidates.blocked;
      reasons.push_back(json::string(candidates.blocked->message));
    } else {
      json::array names;
      for (const config::BackendRuntime* backend : allowed) {
        names.push_back(json::string(backend->spec->name));
      }
      out["candidates"] = std::move(names);
      const config::BackendRuntime& chosen = *allowed.front();
      if (ctx.dlp) {
        const DestinationVerdict& verdict = ctx.dlp->verdict(chosen.spec->location);
        ctx.dlp_verdict = &verdict;
        if (verdict.transforms) {
          action = "redact";
        }
      }
      if (candidates.blocked) {
        reasons.push_back(
            json::string("backends the policy rules out for this request are "
                         "skipped: " +
                         candidates.blocked->message));
      }
      reasons.push_back(json::string("backend '" + chosen.spec->name + "' (" +
                                     std::string(toString(chosen.spec->location)) +
                                     "; first candidate: the gateway balances by load)"));
    }
  }
  out["action"] = action;
  out["rule"] = ctx.rule != nullptr ? json::value(ctx.rule->name) : json::value(nullptr);
  out["tier"] = tier.empty() ? json::value(nullptr) : json::value(tier);
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
  if (ctx.difficulty) {
    const double threshold = snapshot->difficultyThreshold();
    const auto label = router::toString(difficultyLabel(ctx));
    out["difficulty"] = json::object{{"score", ctx.difficulty->score},
                                     {"label", label},
                                     {"high_stakes", ctx.difficulty->high_stakes},
                                     {"domain", router::toString(ctx.difficulty->domain)},
                                     {"threshold", threshold},
                                     {"basis", router::toString(snapshot->conversationBasis())}};
    if (ctx.latest_turn_difficulty) {
      // The conversation is judged on its first user turn; what its latest turn alone scores.
      out["difficulty"].as_object()["latest_turn"] = json::object{
          {"score", ctx.latest_turn_difficulty->score},
          {"label", router::toString(ctx.latest_turn_difficulty->label(threshold))}};
    }
    if (const config::JudgeRuntime* judge = snapshot->judge()) {
      // Whether serve would ask difficulty.judge (explain itself calls no backend), and what it
      // answered when it was asked.
      json::object asked{{"backend", judge->spec.backend},
                         {"band", json::array{judge->spec.low, judge->spec.high}},
                         {"in_band", inBand(judge->spec, ctx.difficulty->score)}};
      if (ctx.judge) {
        asked["outcome"] = toString(ctx.judge->outcome);
        asked["grade"] = ctx.judge->label ? json::value(router::toString(*ctx.judge->label))
                                          : json::value(nullptr);
        asked["ms"] = ctx.judge->seconds * 1000;
      }
      out["difficulty"].as_object()["judge"] = std::move(asked);
    }
  } else {
    out["difficulty"] = nullptr;  // embeddings are not classified
  }
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
  // A scan that reached a bound: which one and where (the request counts as the most sensitive
  // its detectors could make it, and dlp.limits.on_limit decides where it may go).
  if (ctx.dlp && ctx.dlp->limitReached()) {
    out["scan_limit"] = json::object{{"bound", policies::toString(ctx.dlp->limitReached()->bound)},
                                     {"path", ctx.dlp->limitReached()->path}};
  } else {
    out["scan_limit"] = nullptr;
  }
  out["reasons"] = std::move(reasons);
  out["status"] = block ? toHttpStatus(*block) : 200u;
  if (block) {
    out["blocked_by"] = blockedBy(ctx);
  } else if (options.upstream && !allowed.empty()) {
    out["upstream"] = upstreamPreview(ctx, *allowed.front());
  }
  return out;
}

}  // namespace sy::server
