// The access phases of the pipeline: authenticate (key -> principal), authorize (scopes that
// depend on the body), admit (rate limits and budgets, reserve-then-settle) and settle.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gateway/server/pipeline/output_bound.h"
#include "gateway/server/pipeline/pipeline.h"
#include "observability/logging.h"

namespace sy::server {
namespace {

// Worst-case cost of `tokens_in` + `tokens_out` on a backend, in micro-USD: a price per million
// tokens times a token count is micro-dollars.
int64_t microUsd(const BackendSpec& backend, uint64_t tokens_in, uint64_t tokens_out) {
  return std::llround(backend.cost.microUsd(tokens_in, tokens_out));
}

std::string_view limitDescription(std::string_view limit) {
  if (limit == "rpm") return "requests per minute";
  if (limit == "tpm") return "tokens per minute";
  if (limit == "concurrency") return "concurrent requests";
  if (limit == "budget_day") return "daily budget";
  if (limit == "budget_month") return "monthly budget";
  return "limit";
}

bool isBudget(std::string_view limit) { return limit.starts_with("budget_"); }

// What a refused request would have reserved, so a client can tell "spent" from "too large":
// " (this request reserves up to 0.012300 USD: about 40 prompt tokens and at most 1024 output
// tokens)".
std::string worstCase(const AdmitRequest& request, uint64_t max_out, uint64_t prompt_estimate) {
  char usd[32];
  std::snprintf(usd, sizeof usd, "%.6f", static_cast<double>(request.micro_usd) / 1e6);
  std::string text = " (this request reserves up to " + std::string(usd) + " USD: about " +
                     std::to_string(prompt_estimate) + " prompt tokens and at most " +
                     std::to_string(max_out) + " output tokens";
  if (request.min_output_tokens < request.output_tokens) {
    text += ", and does not fit even lowered to " + std::to_string(request.min_output_tokens) +
            " output tokens";
  }
  return text + ")";
}

}  // namespace

Status Pipeline::authenticate(RequestContext& ctx) {
  const auto& request = *ctx.downstream;
  auto principal = ctx.config->keys().authenticate(
      request[http::field::authorization], request["x-api-key"], std::chrono::system_clock::now());
  if (!principal) {
    return std::unexpected(std::move(principal.error()));
  }
  ctx.principal = *principal;
  return {};
}

Status authorizeBody(const RequestContext& ctx) {
  if (ctx.principal == nullptr) {
    return {};
  }
  if (Status endpoint = ctx.principal->allowEndpoint(endpointLabel(ctx.operation)); !endpoint) {
    return endpoint;
  }
  if (Status model = ctx.principal->allowModel(ctx.requested_model); !model) {
    return model;
  }
  return ctx.principal->allowMaxTokens(ctx.max_tokens);
}

net::awaitable<Status> Pipeline::admit(RequestContext& ctx, std::vector<CandidateGroup>& groups) {
  const policies::Principal& principal = *ctx.principal;
  AdmitRequest request;
  if (!principal.key_limits.empty()) {
    request.subjects.push_back({"key:" + principal.key_id, principal.key_limits});
  }
  if (principal.team_declared && !principal.team_limits.empty()) {
    request.subjects.push_back({"team:" + principal.team, principal.team_limits});
  }
  if (request.subjects.empty()) {
    co_return Status{};
  }
  request.hash_tag = principal.team.empty() ? "key:" + principal.key_id : "team:" + principal.team;
  const policies::LimitsConfig& policy = ctx.config->config().limits;
  // The output the upstream is told it may produce (output_bound.h), so the reservation covers
  // the worst case; unbounded only for keys that limit neither tokens nor spend.
  const uint64_t max_out = ctx.output_cap != 0 ? ctx.output_cap : policy.default_max_tokens;
  // Gateway-made id: a client-chosen x-request-id must not be able to replace another lease.
  request.request_id = worker_.nextRequestId();
  for (int round = 0; round < 2; ++round) {
    request.tokens = ctx.prompt_estimate + max_out;
    // The worst case over the candidates, as (dearest prompt) + (dearest output token) x output:
    // an upper bound of each candidate's cost at any lowered output too.
    double prompt_micro_usd = 0;
    double output_micro_usd = 0;                  // per token
    for (const CandidateGroup& group : groups) {  // fallbacks included: it may end up there
      for (const config::BackendRuntime* candidate : group.backends) {
        prompt_micro_usd =
            std::max(prompt_micro_usd, candidate->spec->cost.microUsd(ctx.prompt_estimate, 0));
        output_micro_usd = std::max(output_micro_usd, candidate->spec->cost.output_per_mtok);
      }
    }
    request.micro_usd = static_cast<int64_t>(
        std::ceil(prompt_micro_usd + output_micro_usd * static_cast<double>(max_out)));
    if (ctx.output_cap != 0) {  // the gateway tells the upstream: the output may be lowered
      request.output_tokens = max_out;
      request.min_output_tokens = policy.min_output_tokens;
      request.micro_usd_per_output_token = output_micro_usd;
    }
    Result<Admission> admission = co_await worker_.shared.limits->admit(request);
    if (!admission) {
      worker_.recordLimitStoreError();
      log::warn("limit store unavailable",
                {{"request_id", ctx.request_id},
                 {"error", admission.error().message},
                 {"fail", ctx.config->config().state.fail_open ? "open" : "closed"}});
      if (ctx.config->config().state.fail_open) {
        co_return Status{};
      }
      ctx.retry_after = 1;
      co_return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                          "Rate limits cannot be checked right now (the limit store is "
                          "unavailable); try again shortly.",
                          "limit_store_unavailable", /*retryable=*/true);
    }
    if (admission->admitted) {
      if (ctx.output_cap != 0 && admission->output_tokens < ctx.output_cap) {
        // What is left of the budget or tpm pays for less output: the upstream is told so.
        log::info("output lowered to fit the limits",
                  {{"request_id", ctx.request_id},
                   {"max_tokens", std::to_string(admission->output_tokens)}});
        ctx.output_cap = static_cast<uint32_t>(admission->output_tokens);
        request.tokens = ctx.prompt_estimate + admission->output_tokens;
      }
      ctx.admission = std::move(request);
      co_return Status{};
    }
    // A spent budget may send the request to the cheaper tier instead, if the policy says so:
    // that tier alone, since the fallbacks were part of the worst case the budget could not pay.
    const bool downgrade =
        isBudget(admission->limit) && round == 0 &&
        policy.on_budget_exhausted == policies::LimitsConfig::OnBudgetExhausted::Downgrade &&
        (groups.front().tier != policy.downgrade_tier || groups.size() > 1);
    if (downgrade) {
      auto lower = ctx.config->catalog().resolve(policy.downgrade_tier, worker_.rotation++);
      if (lower) {
        auto allowed = allowedCandidates(ctx, *lower);
        if (!allowed.allowed.empty()) {
          log::info("budget spent; request downgraded", {{"request_id", ctx.request_id},
                                                         {"limit", admission->limit},
                                                         {"tier", policy.downgrade_tier}});
          ctx.tier = lower->tier;
          groups.assign(1, CandidateGroup{lower->tier, std::move(allowed.allowed)});
          continue;
        }
      }
    }
    worker_.recordLimitRejection(admission->limit);
    const auto retry_after = std::max<int64_t>(1, admission->retry_after.count());
    ctx.retry_after = static_cast<uint32_t>(retry_after);
    const std::string subject = admission->scope.starts_with("team:")
                                    ? "team '" + admission->scope.substr(5) + "'"
                                    : "key '" + principal.key_id + "'";
    co_return makeError(ErrorCode::ResourceExhausted, ErrorSource::Downstream,
                        std::string(isBudget(admission->limit) ? "Budget exhausted"
                                                               : "Rate limit "
                                                                 "reached") +
                            " for " + subject + ": " +
                            std::string(limitDescription(admission->limit)) +
                            (admission->limit == "rpm" || admission->limit == "concurrency"
                                 ? ""
                                 : worstCase(request, max_out, ctx.prompt_estimate)) +
                            ". Retry after " + std::to_string(retry_after) + " s.",
                        isBudget(admission->limit) ? "budget_exceeded" : "rate_limit_exceeded");
  }
  co_return Status{};
}

net::awaitable<void> Pipeline::settle(RequestContext& ctx) {
  // Reported usage, or the estimate of a stream cut short or an answer without usage: what the
  // limits settle here and what the log phase counts, with or without limits.
  accountUsage(ctx);
  if (!ctx.admission || worker_.shared.limits == nullptr) {
    co_return;
  }
  Usage used;
  if (ctx.answered_by != nullptr && ctx.status / 100 == 2) {
    const uint64_t prompt = ctx.usage.prompt_tokens;
    const uint64_t completion = ctx.usage.completion_tokens;
    used.tokens = prompt + completion;
    used.micro_usd = microUsd(*ctx.answered_by, prompt, completion);
  }
  co_await worker_.shared.limits->settle(*ctx.admission, used);
}

}  // namespace sy::server
