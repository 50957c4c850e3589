// The audit phases of the pipeline: a decision record before a request is forwarded (made
// durable first when any candidate backend is external and the policy says fsync), and a
// completion record when it ends, whatever the outcome.
#include <map>

#include "gateway/server/pipeline.h"
#include "observability/logging.h"

namespace sy::server {
namespace {

observability::AuditRecord makeRecord(const RequestContext& ctx, std::string_view phase) {
  observability::AuditRecord record;
  record.phase = phase;
  record.request_id = ctx.request_id;
  if (ctx.principal != nullptr) {
    record.key_id = ctx.principal->key_id;
    record.team = ctx.principal->team;
  }
  record.endpoint = ctx.endpoint;
  // Client input: bounded, so a record stays one reasonable line.
  record.requested_model = ctx.requested_model.substr(0, 256);
  record.tier = ctx.tier;
  const BackendSpec* backend = ctx.answered_by != nullptr ? ctx.answered_by : ctx.chosen;
  if (backend != nullptr) {
    record.backend = backend->name;
    record.model = backend->model;
  }
  record.sensitivity = ctx.config->dlpPolicy().levels().name(ctx.sensitivity);
  if (ctx.difficulty) {
    record.difficulty.score = ctx.difficulty->score;
    record.difficulty.label =
        router::toString(ctx.difficulty->label(ctx.config->difficultyThreshold()));
  }
  if (ctx.rule != nullptr) {
    record.rule = ctx.rule->name;
  }
  if (ctx.dlp && ctx.dlp_verdict != nullptr) {
    // Per detector: how many findings and the strictest action taken (never the values).
    std::map<std::string, std::pair<uint64_t, policies::PolicyAction>> per_detector;
    const auto& texts = ctx.dlp->texts();
    for (size_t t = 0; t < texts.size(); ++t) {
      for (size_t f = 0; f < texts[t].findings.size(); ++f) {
        auto& [count, action] = per_detector[texts[t].findings[f].detector_id];
        ++count;
        action = std::max(action, ctx.dlp_verdict->actions[t][f].action);
      }
    }
    for (const auto& [detector, entry] : per_detector) {
      record.findings.push_back(
          {detector, entry.first, std::string(policies::toString(entry.second))});
    }
    if (ctx.dlp_verdict->block) {
      record.rule = ctx.dlp->blockRule(*ctx.dlp_verdict->block);
    }
  }
  return record;
}

// Appends `record` and resumes on the caller's executor once it is written (and synced, in fsync
// mode), with the log's status.
net::awaitable<Status> appendDurable(observability::AuditLog& log,
                                     observability::AuditRecord record) {
  auto executor = co_await net::this_coro::executor;
  co_return co_await net::async_initiate<decltype(net::use_awaitable), void(Status)>(
      [&log, &record, executor](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        log.append(std::move(record), [shared, executor](Status status) {
          net::post(executor, [shared, status = std::move(status)]() mutable {
            (*shared)(std::move(status));
          });
        });
      },
      net::use_awaitable);
}

}  // namespace

net::awaitable<Status> Pipeline::auditDecision(
    RequestContext& ctx, const std::vector<const config::BackendRuntime*>& candidates) {
  observability::AuditLog* log = worker_.shared.audit;
  if (log == nullptr) {
    co_return Status{};
  }
  ctx.chosen = candidates.front()->spec;
  if (ctx.dlp) {
    ctx.dlp_verdict = &ctx.dlp->verdict(ctx.chosen->location);
  }
  observability::AuditRecord record = makeRecord(ctx, "decision");
  record.outcome = "forwarded";
  const auto& spec = *ctx.config->config().audit;
  bool external = false;
  for (const config::BackendRuntime* candidate : candidates) {
    external = external || candidate->spec->location == Location::External;
  }
  Status written;
  if (external && spec.fsync) {
    written = co_await appendDurable(*log, std::move(record));
  } else {
    log->append(std::move(record), [shared = &worker_.shared](Status status) {
      if (!status) {
        shared->metrics.audit_errors_total.Increment();
      }
    });
  }
  if (written) {
    co_return Status{};
  }
  worker_.shared.metrics.audit_errors_total.Increment();
  log::error("audit record not written", {{"request_id", ctx.request_id},
                                          {"error", written.error().message},
                                          {"on_failure", spec.fail_closed ? "closed" : "open"}});
  if (!spec.fail_closed) {
    co_return Status{};
  }
  co_return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                      "The request cannot be audited right now, so it is not forwarded; try "
                      "again shortly.",
                      "audit_unavailable", /*retryable=*/true);
}

void Pipeline::auditCompletion(const RequestContext& ctx, double seconds) {
  observability::AuditLog* log = worker_.shared.audit;
  if (log == nullptr || ctx.endpoint == "other") {
    return;
  }
  observability::AuditRecord record = makeRecord(ctx, "completion");
  record.status = ctx.status;
  if (ctx.status / 100 == 2) {
    record.outcome = "forwarded";
  } else if (ctx.status == 403 && !ctx.block_reason.empty()) {
    record.outcome = "blocked";
  } else if (ctx.status / 100 == 4) {
    record.outcome = "rejected";
  } else {
    record.outcome = "error";
  }
  record.tokens = {ctx.usage.prompt_tokens, ctx.usage.completion_tokens};
  if (ctx.answered_by != nullptr) {
    record.cost_usd = ctx.cost_usd;
  }
  record.latency_ms = seconds * 1000;
  log->append(std::move(record), [shared = &worker_.shared](Status status) {
    if (!status) {
      shared->metrics.audit_errors_total.Increment();
    }
  });
}

}  // namespace sy::server
