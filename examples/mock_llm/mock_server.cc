#include "examples/mock_llm/mock_server.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstring>
#include <optional>

#include "examples/mock_llm/reply.h"
#include "examples/mock_llm/server_state.h"
#include "examples/mock_llm/session.h"

namespace sy::mock {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct MockServer::Workers {
  // Destroyed bottom-up: the acceptor before its io_context, the io_contexts (and with them the
  // suspended sessions) before the TLS context they use.
  std::unique_ptr<net::ssl::context> tls;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::optional<tcp::acceptor> acceptor;
};

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr int kMaxThreads = 256;

bool validName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Logs and counts an exception that escaped a session or the accept loop (a bug in the mock).
auto completionHandler(ServerState& state, const char* what) {
  return [&state, what](std::exception_ptr error) {
    if (!error) {
      return;
    }
    state.session_errors.fetch_add(1, std::memory_order_relaxed);
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "switchyard-mock: %s failed: %s\n", what, e.what());
    } catch (...) {
      std::fprintf(stderr, "switchyard-mock: %s failed\n", what);
    }
  };
}

// Accepts on contexts[0] and hands each socket to the next io_context, round-robin; the session
// then stays on that context (and its thread) for life.
net::awaitable<void> acceptLoop(tcp::acceptor& acceptor,
                                std::vector<std::unique_ptr<net::io_context>>& contexts,
                                net::ssl::context* tls, ServerState& state) {
  size_t next = 0;
  net::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    net::io_context& worker = *contexts[next++ % contexts.size()];
    auto [ec, socket] =
        co_await acceptor.async_accept(net::any_io_executor(worker.get_executor()), kTuple);
    if (ec == net::error::operation_aborted || ec == net::error::bad_descriptor) {
      co_return;
    }
    if (ec) {  // e.g. EMFILE: back off instead of spinning
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    boost::system::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    if (tls != nullptr) {
      net::co_spawn(worker, runTlsSession(std::move(socket), *tls, state),
                    completionHandler(state, "tls session"));
    } else {
      net::co_spawn(worker, runPlainSession(std::move(socket), state),
                    completionHandler(state, "session"));
    }
  }
}

int selectHttp11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                 unsigned int inlen, void*) {
  // Picks "http/1.1" if the client offers it; otherwise ALPN is simply not negotiated.
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int len = in[i];
    if (i + 1 + len <= inlen && len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Result<std::unique_ptr<net::ssl::context>> makeTlsContext(const MockOptions& options) {
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                   net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), selectHttp11, nullptr);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "--tls-cert " + options.tls_cert_file + ": " + ec.message());
  }
  ctx->use_private_key_file(options.tls_key_file, net::ssl::context::pem, ec);
  if (ec) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "--tls-key " + options.tls_key_file + ": " + ec.message());
  }
  return ctx;
}

Result<tcp::endpoint> resolveListenAddress(const MockOptions& options) {
  boost::system::error_code ec;
  const std::string& host = options.host == "localhost" ? std::string("127.0.0.1") : options.host;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "--host '" + options.host + "': not an IP address: " + ec.message());
  }
  return tcp::endpoint(address, options.port);
}

}  // namespace

Result<std::unique_ptr<MockServer>> MockServer::start(MockOptions options) {
  if (!validName(options.name)) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "--name '" + options.name + "': expected 1-64 of [A-Za-z0-9._:-]");
  }
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "--threads " + std::to_string(options.threads) + ": expected 1..256");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "--tls-cert and --tls-key must be given together");
  }
  auto endpoint = resolveListenAddress(options);
  if (!endpoint) {
    return std::unexpected(std::move(endpoint.error()));
  }
  std::unique_ptr<MockServer> server(new MockServer());
  server->workers_ = std::make_unique<Workers>();
  Workers& w = *server->workers_;
  if (!options.tls_cert_file.empty()) {
    auto tls = makeTlsContext(options);
    if (!tls) {
      return std::unexpected(std::move(tls.error()));
    }
    w.tls = std::move(*tls);
  }
  server->state_ = std::make_unique<ServerState>(std::move(options));
  const int threads = server->state_->options.threads;
  for (int i = 0; i < threads; ++i) {
    w.contexts.push_back(std::make_unique<net::io_context>(1));
  }
  boost::system::error_code ec;
  tcp::acceptor& acceptor = w.acceptor.emplace(*w.contexts[0]);
  const std::string where =
      endpoint->address().to_string() + ":" + std::to_string(endpoint->port());
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(*endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return makeError(ErrorCode::Unavailable, ErrorSource::Config,
                     "cannot listen on " + where + ": " + ec.message());
  }
  server->port_ = acceptor.local_endpoint(ec).port();
  net::co_spawn(*w.contexts[0], acceptLoop(acceptor, w.contexts, w.tls.get(), *server->state_),
                completionHandler(*server->state_, "accept loop"));
  for (auto& ctx : w.contexts) {
    w.guards.push_back(net::make_work_guard(*ctx));
    server->threads_.emplace_back([&ctx = *ctx] { ctx.run(); });
  }
  return server;
}

MockServer::~MockServer() { stop(); }

void MockServer::stop() {
  if (threads_.empty()) {
    return;
  }
  for (auto& ctx : workers_->contexts) {
    ctx->stop();
  }
  for (std::thread& t : threads_) {
    t.join();
  }
  threads_.clear();
}

bool MockServer::tls() const { return workers_->tls != nullptr; }
const std::string& MockServer::name() const { return state_->options.name; }
Controls MockServer::controls() const { return state_->controls.snapshot(); }
void MockServer::setControls(const Controls& controls) { state_->controls.store(controls); }
void MockServer::resetControls() { state_->controls.store(state_->controls.defaults()); }

uint64_t MockServer::requestCount() const {
  return state_->requests.load(std::memory_order_relaxed);
}

std::string MockServer::listeningLine() const {
  std::string line = "{\"msg\":\"listening\",\"name\":";
  appendJsonString(line, state_->options.name);
  line += ",\"port\":";
  appendInt(line, port_);
  line += tls() ? ",\"tls\":true}" : ",\"tls\":false}";
  return line;
}

}  // namespace sy::mock
