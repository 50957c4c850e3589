// The audit phases of the pipeline: a decision record before a request is forwarded (made
// durable first when any candidate backend is external and the policy says fsync), and a
// completion record when it ends, whatever the outcome.
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "gateway/server/pipeline/loggable.h"
#include "gateway/server/pipeline/pipeline.h"
#include "observability/logging.h"

// g++ 12 misreports Asio's coroutine frame allocator here (awaitable_frame_base's sized
// operator delete "mismatched" with its operator new): a known false positive of -Werror builds,
// as in forward.cc.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace sy::server {
namespace {

observability::AuditRecord makeRecord(const RequestContext& ctx, std::string_view phase) {
  observability::AuditRecord record;
  record.phase = phase;
  record.policy_version = ctx.config->policyVersion();
  record.request_id = ctx.request_id;
  record.client_request_id = ctx.client_request_id;
  if (ctx.principal != nullptr) {
    record.key_id = ctx.principal->key_id;
    record.team = ctx.principal->team;
  }
  record.endpoint = endpointLabel(ctx.operation);
  if (ctx.surface != connectors::Surface::OpenAi) {
    record.surface = connectors::toString(ctx.surface);
  }
  // Client input: verbatim only when the policy names it (a secret sent as `model` stays out).
  record.requested_model = loggableModel(ctx.config->catalog(), ctx.requested_model);
  record.tier = ctx.tier;
  const BackendSpec* backend = ctx.answered_by != nullptr ? ctx.answered_by : ctx.chosen;
  if (backend != nullptr) {
    record.backend = backend->name;
    record.model = backend->model;
  }
  record.sensitivity = ctx.config->dlpPolicy().levels().name(ctx.sensitivity);
  if (ctx.difficulty) {
    record.difficulty.score = ctx.difficulty->score;
    record.difficulty.label = router::toString(difficultyLabel(ctx));
    record.difficulty.domain = router::toString(ctx.difficulty->domain);
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

}  // namespace

// A record on its way to the audit log, for a request that must not go on (or answer) before it
// is written. complete() runs on the audit writer thread; wait() on the request's worker.
class AuditTicket {
 public:
  explicit AuditTicket(observability::AuditLog& log) : log_(log) {}

  void complete(Status status) {
    std::function<void()> waiter;
    {
      std::lock_guard lock(mutex_);
      status_ = std::move(status);
      waiter = std::move(waiter_);
    }
    if (waiter) {
      waiter();
    }
  }

  // Resumes on the caller's executor with the record's status.
  net::awaitable<Status> wait() {
    {
      std::lock_guard lock(mutex_);
      if (status_) {
        co_return *status_;
      }
    }
    log_.expedite();  // the writer may be gathering records: this one is awaited now
    auto executor = co_await net::this_coro::executor;
    co_await net::async_initiate<decltype(net::use_awaitable), void()>(
        [this, executor](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          std::function<void()> resume = [shared, executor] {
            net::post(executor, [shared]() mutable { (*shared)(); });
          };
          std::unique_lock lock(mutex_);
          if (status_) {
            lock.unlock();
            resume();
            return;
          }
          waiter_ = std::move(resume);
        },
        net::use_awaitable);
    std::lock_guard lock(mutex_);
    co_return *status_;
  }

 private:
  observability::AuditLog& log_;
  std::mutex mutex_;
  std::optional<Status> status_;
  std::function<void()> waiter_;
};

namespace {

// Queues `record`; the ticket completes when the log says so (`wait`). Failures are counted here,
// whether or not anyone waits.
std::shared_ptr<AuditTicket> appendRecord(SharedState& shared, observability::AuditRecord record,
                                          observability::AuditLog::Wait wait) {
  auto ticket = std::make_shared<AuditTicket>(*shared.audit);
  shared.audit->append(
      std::move(record),
      [ticket, metrics = &shared.metrics](Status status) {
        if (!status) {
          metrics->audit_errors_total.Increment();
        }
        ticket->complete(std::move(status));
      },
      wait);
  return ticket;
}

observability::AuditRecord makeCompletion(const RequestContext& ctx, double seconds) {
  observability::AuditRecord record = makeRecord(ctx, "completion");
  record.status = ctx.status;
  if (ctx.status / 100 == 2) {
    record.outcome = "forwarded";
  } else if (ctx.status == 403 && ctx.block_reason != BlockReason::Scope) {
    record.outcome = "blocked";
  } else if (ctx.status / 100 == 4) {
    record.outcome = "rejected";
  } else {
    record.outcome = "error";
  }
  record.tokens = {ctx.usage.prompt_tokens, ctx.usage.completion_tokens,
                   ctx.usage.cached_prompt_tokens};
  if (ctx.answered_by != nullptr) {
    record.cost_usd = ctx.cost_usd;
  }
  record.latency_ms = seconds * 1000;
  record.shadow = ctx.shadow;
  return record;
}

Status auditFailure(const RequestContext& ctx, const Error& error) {
  const auto& spec = *ctx.config->config().audit;
  log::error("audit record not written", {{"request_id", ctx.request_id},
                                          {"error", error.message},
                                          {"on_failure", spec.fail_closed ? "closed" : "open"}});
  if (!spec.fail_closed) {
    return {};
  }
  return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                   "The request cannot be audited right now, so it is not served; try again "
                   "shortly.",
                   "audit_unavailable", /*retryable=*/true);
}

}  // namespace

net::awaitable<Status> Pipeline::auditDecision(
    RequestContext& ctx, const std::vector<const config::BackendRuntime*>& candidates) {
  if (worker_.shared.audit == nullptr) {
    co_return Status{};
  }
  ctx.chosen = candidates.front()->spec;
  if (ctx.dlp) {
    ctx.dlp_verdict = &ctx.dlp->verdict(ctx.chosen->location);
  }
  observability::AuditRecord record = makeRecord(ctx, "decision");
  record.outcome = "forwarded";
  bool external = false;
  for (const config::BackendRuntime* candidate : candidates) {
    external = external || candidate->spec->location == Location::External;
  }
  // Data about to leave the building waits for its record to be durable (fsync mode); the rest
  // only needs it written before the answer goes out (auditBeforeAnswer).
  const bool durable = external && ctx.config->config().audit->fsync;
  ctx.audit_ticket =
      appendRecord(worker_.shared, std::move(record),
                   durable ? observability::AuditLog::Wait::Durable
                           : observability::AuditLog::Wait::Written);
  if (!durable) {
    co_return Status{};
  }
  Status written = co_await ctx.audit_ticket->wait();
  co_return written ? written : auditFailure(ctx, written.error());
}

net::awaitable<Status> Pipeline::auditBeforeAnswer(RequestContext& ctx) {
  if (worker_.shared.audit == nullptr || ctx.operation == Operation::Other) {
    co_return Status{};
  }
  if (!ctx.audit_ticket) {
    // Answered by the gateway itself: the completion record is its only record, so it goes
    // first, with the shadow candidate's decision.
    evaluateShadow(ctx);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started_at).count();
    ctx.audit_ticket = appendRecord(worker_.shared, makeCompletion(ctx, seconds),
                                    observability::AuditLog::Wait::Written);
    ctx.completion_audited = true;
  }
  Status written = co_await ctx.audit_ticket->wait();
  co_return written ? written : auditFailure(ctx, written.error());
}

void Pipeline::auditCompletion(const RequestContext& ctx, double seconds) {
  if (worker_.shared.audit == nullptr || ctx.operation == Operation::Other ||
      ctx.completion_audited) {
    return;
  }
  appendRecord(worker_.shared, makeCompletion(ctx, seconds),
               observability::AuditLog::Wait::Written);
}

}  // namespace sy::server
