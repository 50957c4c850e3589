#include "gateway/server/transport/admin.h"

#include <boost/json/serialize.hpp>

#include "core/error.h"
#include "gateway/server/pipeline/explain.h"

namespace sy::server {
namespace {

// Moves a counter that mirrors `value` (a count kept elsewhere) up to it. Scrapes run on the
// admin thread only, so the counter advances by the difference since the last scrape.
void advance(prometheus::Counter& counter, uint64_t value) {
  const double delta = static_cast<double>(value) - counter.Value();
  if (delta > 0) {
    counter.Increment(delta);
  }
}

// Copies the audit writer's counters into the registry before a scrape.
void syncAuditMetrics(SharedState& shared) {
  if (shared.audit == nullptr) {
    return;
  }
  const observability::AuditLogStats stats = shared.audit->stats();
  advance(shared.metrics.audit_records_total, stats.records_written);
  advance(shared.metrics.audit_fsyncs_total, stats.fsyncs);
  shared.metrics.audit_last_fsync_seconds.Set(
      std::chrono::duration<double>(stats.last_fsync_latency).count());
}

// Health, breaker state and breaker transitions of the backends the current policy declares.
void syncBackendMetrics(SharedState& shared) {
  if (shared.backend_states == nullptr) {
    return;
  }
  const auto snapshot = shared.snapshots.get();
  for (const BackendSpec& backend : snapshot->catalog().backends()) {
    const router::BackendStatus status = shared.backend_states->state(backend.name).status();
    shared.metrics.backend_healthy.Add({{"backend", backend.name}}).Set(status.healthy ? 1 : 0);
    shared.metrics.backend_breaker_state.Add({{"backend", backend.name}})
        .Set(static_cast<double>(status.breaker));
    for (const auto& [to, count] :
         {std::pair{router::BreakerState::Open, status.ejections_total},
          std::pair{router::BreakerState::HalfOpen, status.half_opens_total},
          std::pair{router::BreakerState::Closed, status.closes_total}}) {
      advance(shared.metrics.backend_breaker_transitions_total.Add(
                  {{"backend", backend.name}, {"to", std::string(router::toString(to))}}),
              count);
    }
  }
}

http::response<http::string_body> answer(const http::request<http::string_body>& request,
                                         SharedState& shared) {
  const std::string_view path = request.target().substr(0, request.target().find('?'));
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.set(http::field::server, "switchyard");
  response.set(http::field::content_type, "application/json");
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (path == "/admin/explain") {
    if (request.method() != http::verb::post) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "POST");
      response.body() = openAiErrorBody("Use POST on /admin/explain", 405, "method_not_allowed");
    } else if (auto admin = shared.snapshots.get()->keys().authenticateAdmin(
                   request[http::field::authorization], request["x-api-key"]);
               !admin) {
      response.result(http::status::unauthorized);
      response.set(http::field::www_authenticate, "Bearer");
      response.body() = openAiErrorBody(admin.error());
    } else {
      const std::string_view endpoint =
          request.target().find("endpoint=embeddings") != std::string_view::npos ? "embeddings"
                                                                                 : "chat";
      response.body() =
          boost::json::serialize(explainRequest(shared.snapshots.get(), request.body(), endpoint));
    }
  } else if (!known) {
    response.result(http::status::not_found);
    response.body() =
        openAiErrorBody("Unknown admin URL: " + std::string(path), 404, "unknown_url");
  } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
    response.result(http::status::method_not_allowed);
    response.set(http::field::allow, "GET, HEAD");
    response.body() = openAiErrorBody("Use GET on " + std::string(path), 405, "method_not_allowed");
  } else if (path == "/healthz") {
    response.body() = R"({"status":"ok"})";
  } else if (path == "/readyz") {
    const bool ready = !shared.draining.load(std::memory_order_relaxed);
    response.result(ready ? http::status::ok : http::status::service_unavailable);
    response.body() = ready ? R"({"status":"ready"})" : R"({"status":"draining"})";
  } else {
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    syncAuditMetrics(shared);
    syncBackendMetrics(shared);
    response.body() = shared.metrics.serialize();
  }
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  if (request.method() == http::verb::head) {
    response.body().clear();  // prepare_payload already set the Content-Length of the GET
  }
  return response;
}

}  // namespace

net::awaitable<void> runAdminSession(tcp::socket socket, SharedState& shared) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 << 10);
    parser.body_limit(1 << 20);
    stream.expires_after(std::chrono::seconds(30));
    auto [read_ec, read_n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (read_ec) {
      break;
    }
    auto response = answer(parser.get(), shared);
    stream.expires_after(std::chrono::seconds(30));
    auto [write_ec, write_n] = co_await http::async_write(stream, response, kTuple);
    if (write_ec || !response.keep_alive()) {
      break;
    }
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace sy::server
