#include "gateway/server/transport/server.h"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <optional>
#include <system_error>
#include <thread>

#include "gateway/config/lint.h"
#include "gateway/server/pipeline/pipeline.h"
#include "gateway/server/transport/admin.h"
#include "gateway/server/transport/health_checker.h"
#include "gateway/server/transport/policy_watcher.h"
#include "gateway/server/transport/session.h"
#include "observability/logging.h"

namespace sy::server {

namespace {

struct Worker {
  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> guard{io.get_executor()};
  IdleSessions idle;
  std::unique_ptr<WorkerState> state;
  std::thread thread;
};

Result<tcp::acceptor> bindListener(net::io_context& io, const config::ListenAddress& address,
                                   std::string_view what) {
  error_code ec;
  const auto ip = net::ip::make_address(address.host, ec);
  if (ec) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     std::string(what) + ": invalid address '" + address.host + "'");
  }
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(ip, address.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    return acceptor;
  }
  return makeError(ErrorCode::Unavailable, ErrorSource::Config,
                   std::string(what) + ": cannot listen on " + address.host + ":" +
                       std::to_string(address.port) + ": " + ec.message());
}

Result<std::unique_ptr<net::ssl::context>> makeServerTls(const config::TlsConfig& tls) {
  auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_compression |
                       net::ssl::context::single_dh_use);
  error_code ec;
  context->use_certificate_chain_file(tls.cert_file, ec);
  if (!ec) {
    context->use_private_key_file(tls.key_file, net::ssl::context::pem, ec);
  }
  if (ec) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "server.tls: cannot load certificate '" + tls.cert_file + "' and key '" +
                         tls.key_file + "': " + ec.message());
  }
  return context;
}

// How long the policy files must be quiet after a change before it is reloaded: an editor's save
// (temp file, rename, chmod) or a deployment writing several included files is read whole.
constexpr std::chrono::milliseconds kPolicyWatchDebounce{300};

}  // namespace

struct Server::Impl {
  std::string config_path;
  config::SnapshotHolder snapshots;
  observability::GatewayMetrics metrics;
  SharedState shared{snapshots, metrics};
  std::unique_ptr<LimitStore> limit_store;
  std::unique_ptr<ResponseStore> response_store;
  std::unique_ptr<observability::AuditLog> audit_log;     // before the workers: they append to it
  std::unique_ptr<router::BackendStates> backend_states;  // outlives reloads: keyed by name
  std::unique_ptr<net::ssl::context> server_tls;  // sessions on the workers hold streams of it
  // The workers are declared before main_io, so they are destroyed after it: the acceptor's
  // context may still hold a move-accept whose socket belongs to a worker's socket service
  // (an accept aborted by the drain whose completion never ran), and destroying that socket
  // after the worker's io_context is a use-after-free.
  std::vector<std::unique_ptr<Worker>> workers;
  net::io_context main_io{1};
  std::unique_ptr<HealthChecker> health;   // after main_io: destroyed before it
  std::unique_ptr<PolicyWatcher> watcher;  // after main_io; null unless server.watch_policy
  std::optional<tcp::acceptor> data_acceptor;
  std::optional<tcp::acceptor> admin_acceptor;
  net::signal_set signals{main_io, SIGINT, SIGTERM, SIGHUP};

  explicit Impl(std::shared_ptr<const config::Snapshot> snapshot)
      : snapshots(std::move(snapshot)) {}

  net::awaitable<void> acceptLoop();
  net::awaitable<void> adminLoop();
  void onSignal(const error_code& ec, int signal);
  enum class Trigger { Signal, File };
  using Built = std::expected<std::shared_ptr<const config::Snapshot>, config::ConfigErrors>;
  // Reloads are serialized: one build at a time on reload_thread; a trigger that arrives during
  // it is kept (the latest one) and runs after it. These three are main-thread only.
  std::thread reload_thread;  // joined before the next build, after main_io.run() and at exit
  bool reloading = false;
  std::optional<Trigger> pending_reload;
  void reload(Trigger trigger);
  void finishReload(Trigger trigger, const std::shared_ptr<const config::Snapshot>& current,
                    Built next);
  void joinReloadThread() {
    if (reload_thread.joinable()) {
      reload_thread.join();
    }
  }
  void startWatching();
  void watchFiles(const config::Config& config);
  void auditReload(const config::Snapshot& from, const config::Snapshot& to, Trigger trigger);
  void auditRejectedReload(const config::Snapshot& running, const config::ConfigErrors& errors,
                           Trigger trigger);
  void appendReloadRecord(observability::AuditRecord record);
  void drain();
  net::awaitable<void> waitForDrain();
};

net::awaitable<void> Server::Impl::acceptLoop() {
  size_t next = 0;
  for (;;) {
    Worker& worker = *workers[next++ % workers.size()];
    auto [ec, socket] = co_await data_acceptor->async_accept(worker.io.get_executor(), kTuple);
    if (ec == net::error::operation_aborted || !data_acceptor->is_open()) {
      co_return;
    }
    if (ec) {
      log::warn("accept failed", {{"error", ec.message()}});  // e.g. EMFILE: keep serving
      continue;
    }
    const uint32_t limit = snapshots.get()->config().server.limits.max_connections;
    if (shared.connections.fetch_add(1) >= limit) {
      shared.connections.fetch_sub(1);
      worker.state->recordRejection("connection_limit");
      // Answer 503 on the worker so this loop never waits on a slow client.
      net::co_spawn(
          worker.io,
          [](Socket s, WorkerState& state) -> net::awaitable<void> {
            auto response = jsonResponse(
                503,
                openAiErrorBody("The gateway is at its connection limit; retry shortly.", 503,
                                "too_many_connections"),
                state.nextRequestId(), false);
            response.set(http::field::retry_after, "1");
            // A few hundred bytes into an empty socket buffer: completes at
            // once, no deadline.
            co_await http::async_write(s, response, kTuple);
            error_code ignored;
            s.shutdown(tcp::socket::shutdown_send, ignored);
          }(std::move(socket), *worker.state),
          net::detached);
      continue;
    }
    metrics.active_connections.Increment();
    net::co_spawn(worker.io,
                  runSession(std::move(socket), server_tls.get(), *worker.state, worker.idle),
                  [this](std::exception_ptr error) {
                    shared.connections.fetch_sub(1);
                    metrics.active_connections.Decrement();
                    if (error) {
                      metrics.session_exceptions_total.Increment();
                      try {
                        std::rethrow_exception(error);
                      } catch (const std::exception& e) {
                        log::error("session ended by an exception", {{"what", e.what()}});
                      } catch (...) {
                        log::error("session ended by an unknown exception");
                      }
                    }
                  });
  }
}

net::awaitable<void> Server::Impl::adminLoop() {
  for (;;) {
    auto [ec, socket] = co_await admin_acceptor->async_accept(kTuple);
    if (ec == net::error::operation_aborted || !admin_acceptor->is_open()) {
      co_return;
    }
    if (!ec) {
      net::co_spawn(main_io, runAdminSession(std::move(socket), shared), net::detached);
    }
  }
}

void Server::Impl::onSignal(const error_code& ec, int signal) {
  if (ec) {
    return;
  }
  if (signal == SIGHUP) {
    reload(Trigger::Signal);
    signals.async_wait([this](const error_code& e, int s) { onSignal(e, s); });
    return;
  }
  log::info("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  drain();
}

// The files are read, validated and the snapshot built (RE2 sets, TLS contexts, classifier) on
// a thread of its own, so neither the workers nor the main thread's acceptor and admin listener
// wait for it; finishReload() then publishes it on the main thread, whole. Requests pin the
// snapshot at their start, so one in flight finishes on the policy it started with.
void Server::Impl::reload(Trigger trigger) {
  if (reloading) {
    pending_reload = trigger;
    return;
  }
  joinReloadThread();  // the previous build posted its result already
  reloading = true;
  auto current = snapshots.get();
  try {
    reload_thread = std::thread([this, trigger, current] {
      Built next = nullptr;  // null: the files are unchanged, nothing to reload
      try {                  // the boundary of this thread: nothing may escape it (std::terminate)
        auto loaded = config::loadConfigFile(config_path);
        if (!loaded) {
          next = std::unexpected(std::move(loaded.error()));
        } else if (trigger == Trigger::Signal ||
                   config::policyVersion(loaded->sources) != current->policyVersion() ||
                   config::shadowPolicyVersion(*loaded) !=
                       config::shadowPolicyVersion(current->config())) {
          next = config::Snapshot::build(std::move(*loaded), current->version() + 1);
        }
      } catch (const std::exception& e) {
        next = std::unexpected(config::ConfigErrors{
            config::ConfigError{config_path, 0, 0, std::string("internal error: ") + e.what()}});
      }
      net::post(main_io, [this, trigger, current, next = std::move(next)]() mutable {
        finishReload(trigger, current, std::move(next));
      });
    });
  } catch (const std::system_error& e) {
    reloading = false;
    log::error("config reload: cannot start its thread; keeping the running policy",
               {{"error", e.what()}});
  }
}

void Server::Impl::finishReload(Trigger trigger,
                                const std::shared_ptr<const config::Snapshot>& current,
                                Built next) {
  reloading = false;
  if (pending_reload) {  // after this one is applied: the files may have changed again since
    const Trigger again = *pending_reload;
    pending_reload.reset();
    net::post(main_io, [this, again] { reload(again); });
  }
  if (next && *next == nullptr) {
    return;  // an editor's touch or a save of the same bytes
  }
  const bool by_file = trigger == Trigger::File;
  const char* trigger_name = by_file ? "file" : "signal";
  if (!next) {
    metrics.config_reload_failures_total.Increment();
    metrics.policyReloads(false, by_file).Increment();
    for (const auto& error : next.error()) {
      log::error("config reload rejected; keeping the running policy",
                 {{"error", error.str()}, {"trigger", trigger_name}});
    }
    auditRejectedReload(*current, next.error(), trigger);
    if (watcher != nullptr) {
      watchFiles(current->config());  // a directory re-created since is watched again
    }
    return;
  }
  const auto& old_server = current->config().server;
  const auto& new_server = (*next)->config().server;
  if (old_server.listen.host != new_server.listen.host ||
      old_server.listen.port != new_server.listen.port ||
      old_server.tls.has_value() != new_server.tls.has_value() ||
      old_server.workers != new_server.workers ||
      old_server.watch_policy != new_server.watch_policy ||
      current->config().admin.listen.port != (*next)->config().admin.listen.port) {
    log::warn(
        "config reload: listener, TLS, worker and watch_policy changes take effect on "
        "restart only");
  }
  if (limit_store == nullptr && (*next)->hasLimits()) {
    log::warn(
        "config reload: the new policy has rate limits or budgets, but no limit store is "
        "running; they take effect on restart");
  }
  if (response_store == nullptr && (*next)->config().responses.store) {
    log::warn(
        "config reload: the new policy stores responses, but no response store is running; "
        "it starts on restart");
  }
  config::logLintWarnings((*next)->config());  // as at startup: what `switchyard lint` warns about
  // The backends' live state outlives reloads; the new breaker settings apply to it as it is.
  backend_states->setPolicy((*next)->config().resilience.selection);
  const std::shared_ptr<const config::Snapshot> published = *next;
  snapshots.publish(std::move(*next));
  metrics.config_reloads_total.Increment();
  metrics.policyReloads(true, by_file).Increment();
  auditReload(*current, *published, trigger);
  if (watcher != nullptr) {
    watchFiles(published->config());  // includes may have been added or removed
  }
  log::info("config reloaded", {{"version", std::to_string(published->version())},
                                {"policy_version", published->policyVersion()},
                                {"previous_policy_version", current->policyVersion()},
                                {"trigger", trigger_name}});
}

// The reload's own audit record, in the same chain as the requests': which policy replaced which,
// and who asked. Records of requests decided after it name the new version.
void Server::Impl::auditReload(const config::Snapshot& from, const config::Snapshot& to,
                               Trigger trigger) {
  observability::AuditRecord record;
  record.phase = "reload";
  record.policy_version = to.policyVersion();
  record.previous_policy_version = from.policyVersion();
  record.trigger = trigger == Trigger::File ? "file" : "signal";
  record.outcome = "ok";
  appendReloadRecord(std::move(record));
}

// A rejected reload's record: the policy that stays, who asked, and what was wrong with the new
// files (the count and the first error: positions and messages about the policy's own text).
void Server::Impl::auditRejectedReload(const config::Snapshot& running,
                                       const config::ConfigErrors& errors, Trigger trigger) {
  constexpr size_t kMaxErrorSummary = 300;
  observability::AuditRecord record;
  record.phase = "reload";
  record.policy_version = running.policyVersion();
  record.trigger = trigger == Trigger::File ? "file" : "signal";
  record.outcome = "rejected";
  record.error = std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors");
  if (!errors.empty()) {
    record.error += "; first: " + errors.front().str();
  }
  if (record.error.size() > kMaxErrorSummary) {
    record.error.resize(kMaxErrorSummary);  // UTF-8 cut mid-sequence is escaped by the writer
  }
  appendReloadRecord(std::move(record));
}

void Server::Impl::appendReloadRecord(observability::AuditRecord record) {
  if (audit_log == nullptr) {
    return;
  }
  audit_log->append(
      std::move(record),
      [m = &metrics](const Status& status) {
        if (!status) {
          m->audit_errors_total.Increment();
          log::error("the reload's audit record was not written",
                     {{"error", status.error().message}});
        }
      },
      observability::AuditLog::Wait::Durable);
}

void Server::Impl::startWatching() {
  if (!snapshots.get()->config().server.watch_policy) {
    return;
  }
  auto created = PolicyWatcher::create(main_io, kPolicyWatchDebounce,
                                       [this] { reload(Trigger::File); });
  if (!created) {
    log::error("cannot watch the policy files; SIGHUP still reloads",
               {{"error", created.error().message}});
    return;
  }
  watcher = std::move(*created);
  watchFiles(snapshots.get()->config());
}

void Server::Impl::watchFiles(const config::Config& config) {
  std::vector<std::string> files;
  for (const config::SourceMap::File& file : config.sources.files) {
    files.push_back(file.path);
  }
  if (config.shadow) {  // the candidate's files reload the policy too
    for (const config::SourceMap::File& file : config.shadow->config->sources.files) {
      files.push_back(file.path);
    }
  }
  if (files.empty()) {
    files.push_back(config_path);
  }
  if (auto watched = watcher->watch(files); !watched) {
    log::error("policy file watch incomplete; SIGHUP still reloads",
               {{"error", watched.error().message}});
  }
}

void Server::Impl::drain() {
  if (shared.draining.exchange(true)) {
    return;
  }
  error_code ignored;
  data_acceptor->close(ignored);
  health->stop();
  if (watcher != nullptr) {
    watcher->stop();
  }
  for (auto& worker : workers) {
    net::post(worker->io, [w = worker.get()] { w->idle.closeAll(); });
  }
  net::co_spawn(main_io, waitForDrain(), net::detached);
}

net::awaitable<void> Server::Impl::waitForDrain() {
  const auto grace = snapshots.get()->config().server.shutdown_grace;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  net::steady_timer timer(main_io);
  while (shared.connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    for (auto& worker : workers) {  // sessions that became idle since the last pass
      net::post(worker->io, [w = worker.get()] { w->idle.closeAll(); });
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(kTuple);
  }
  if (const uint32_t left = shared.connections.load(); left > 0) {
    log::warn("grace period over; closing connections still busy",
              {{"connections", std::to_string(left)}});
  }
  error_code ignored;
  admin_acceptor->close(ignored);
  signals.cancel(ignored);
  for (auto& worker : workers) {
    worker->guard.reset();
    worker->io.stop();
  }
  main_io.stop();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  impl_->joinReloadThread();  // it posts to main_io: done before main_io goes
  for (auto& worker : impl_->workers) {
    worker->guard.reset();
    worker->io.stop();
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
}

Result<std::unique_ptr<Server>> Server::create(std::string config_path,
                                               std::shared_ptr<const config::Snapshot> snapshot) {
  const config::Config& config = snapshot->config();
  auto impl = std::make_unique<Impl>(snapshot);
  impl->config_path = std::move(config_path);
  if (config.server.tls) {
    auto tls = makeServerTls(*config.server.tls);
    if (!tls) {
      return std::unexpected(std::move(tls.error()));
    }
    impl->server_tls = std::move(*tls);
  }
  auto data = bindListener(impl->main_io, config.server.listen, "server.listen");
  if (!data) {
    return std::unexpected(std::move(data.error()));
  }
  impl->data_acceptor.emplace(std::move(*data));
  auto admin = bindListener(impl->main_io, config.admin.listen, "admin.listen");
  if (!admin) {
    return std::unexpected(std::move(admin.error()));
  }
  impl->admin_acceptor.emplace(std::move(*admin));
  if (snapshot->hasLimits() || config.state.store == policies::StateConfig::Store::Redis) {
    auto store = config.state.store == policies::StateConfig::Store::Redis
                     ? makeRedisLimitStore(config.state, &impl->metrics)
                     : makeLocalLimitStore(config.state);
    if (!store) {
      return std::unexpected(std::move(store.error()));
    }
    impl->limit_store = std::move(*store);
    impl->shared.limits = impl->limit_store.get();
  }
  if (config.responses.store) {
    auto store = config.state.store == policies::StateConfig::Store::Redis
                     ? makeRedisResponseStore(config.state, &impl->metrics)
                     : makeSqliteResponseStore(config.state);
    if (!store) {
      return std::unexpected(std::move(store.error()));
    }
    impl->response_store = std::move(*store);
    impl->shared.responses = impl->response_store.get();
  }
  if (config.audit) {
    observability::AuditConfig audit;
    audit.path = config.audit->path;
    audit.durability = config.audit->fsync ? observability::AuditConfig::Durability::Fsync
                                           : observability::AuditConfig::Durability::Batch;
    audit.rotate_bytes = config.audit->rotate_bytes;
    audit.rotate_age = config.audit->rotate_age;
    audit.to_stdout = config.audit->to_stdout;
    if (!config.audit->hmac_key_env.empty()) {
      const char* key = std::getenv(config.audit->hmac_key_env.c_str());
      if (key == nullptr || *key == '\0') {
        return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                         "audit.hmac_key_env: environment variable " + config.audit->hmac_key_env +
                             " is not set");
      }
      audit.hmac_key = key;
    }
    auto log = observability::AuditLog::open(std::move(audit));
    if (!log) {
      return std::unexpected(std::move(log.error()));
    }
    impl->audit_log = std::move(*log);
    impl->shared.audit = impl->audit_log.get();
  }
  impl->backend_states =
      std::make_unique<router::BackendStates>(config.resilience.selection);
  for (const BackendSpec& backend : config.catalog.backends) {
    impl->backend_states->state(backend.name);  // exported as healthy/closed from the start
  }
  impl->shared.backend_states = impl->backend_states.get();
  impl->health = std::make_unique<HealthChecker>(impl->main_io.get_executor(), impl->snapshots,
                                                 *impl->backend_states);
  const unsigned count = config.server.workers > 0
                             ? config.server.workers
                             : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->state = std::make_unique<WorkerState>(worker->io.get_executor(), impl->shared);
    impl->workers.push_back(std::move(worker));
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::dataPort() const { return impl_->data_acceptor->local_endpoint().port(); }
uint16_t Server::adminPort() const { return impl_->admin_acceptor->local_endpoint().port(); }

void Server::stop() {
  net::post(impl_->main_io, [impl = impl_.get()] { impl->drain(); });
}

int Server::run() {
  Impl& impl = *impl_;
  for (auto& worker : impl.workers) {
    worker->thread = std::thread([w = worker.get()] { w->io.run(); });
  }
  const auto& config = impl.snapshots.get()->config();
  log::info("listening", {{"listener", "data"},
                          {"address", config.server.listen.host},
                          {"port", std::to_string(dataPort())},
                          {"tls", config.server.tls ? "true" : "false"},
                          {"workers", std::to_string(impl.workers.size())},
                          {"policy_version", impl.snapshots.get()->policyVersion()}});
  log::info("listening", {{"listener", "admin"},
                          {"address", config.admin.listen.host},
                          {"port", std::to_string(adminPort())}});
  net::co_spawn(impl.main_io, impl.acceptLoop(), net::detached);
  net::co_spawn(impl.main_io, impl.adminLoop(), net::detached);
  impl.health->start();
  impl.startWatching();
  impl.signals.async_wait([&impl](const error_code& e, int s) { impl.onSignal(e, s); });
  impl.main_io.run();
  impl.joinReloadThread();
  for (auto& worker : impl.workers) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
  if (impl.limit_store != nullptr) {
    impl.limit_store->flush();  // spend of the last second reaches the database
  }
  log::info("stopped");
  return 0;
}

}  // namespace sy::server
