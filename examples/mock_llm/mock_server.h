// MockServer: an in-process stand-in for vLLM / OpenAI / Anthropic model servers, used by tests,
// demos and benchmarks (README.md in this directory documents endpoints and controls).
// Thread-safety: start() returns a running server with its own io threads; port(), controls()
// and setControls() may be called from any thread; stop() must not be called from an io thread.
// Ownership: the caller owns the MockServer; destroying it stops it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "examples/mock_llm/controls.h"
#include "core/error.h"

namespace sy::mock {

struct MockOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;          // 0 picks an ephemeral port; read it back with MockServer::port()
  std::string name = "mock";  // [A-Za-z0-9._:-]{1,64}; appears in replies and in "NAME-model"
  int threads = 1;    // io threads, each with its own io_context; connections are spread over them
  Controls controls;  // the CLI defaults; /mock/config's {"reset":true} restores them
  std::string require_key;    // empty = no auth; else Bearer (OpenAI) / x-api-key (Anthropic)
  std::string tls_cert_file;  // PEM chain; TLS (1.2+) when both files are set
  std::string tls_key_file;   // PEM private key
  std::chrono::seconds idle_timeout{120};  // keep-alive idle and header/body read deadline
};

// Parses the `switchyard-mock` command line (argv without the program name). Fails with
// InvalidArgument naming the flag on an unknown flag, a missing or malformed value, or an
// out-of-range control.
Result<MockOptions> parseMockArgs(std::span<const std::string_view> args);

// The usage text printed with a flag error.
std::string_view mockUsage();

struct ServerState;

class MockServer {
 public:
  // Binds host:port and starts `threads` io threads. Fails with Unavailable if the address cannot
  // be bound, with InvalidArgument on a bad name/thread count or unusable TLS files.
  static Result<std::unique_ptr<MockServer>> start(MockOptions options);

  ~MockServer();
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  uint16_t port() const { return port_; }
  bool tls() const;
  const std::string& name() const;

  // The runtime controls (the layer /mock/config writes); thread-safe.
  Controls controls() const;
  void setControls(const Controls& controls);
  void resetControls();           // back to MockOptions::controls
  uint64_t requestCount() const;  // /v1 requests received so far

  // Stops accepting, drops open connections and joins the io threads. Idempotent.
  void stop();

  // The single readiness line: {"msg":"listening","name":"NAME","port":N,"tls":false}
  std::string listeningLine() const;

 private:
  MockServer() = default;

  struct Workers;
  std::unique_ptr<ServerState> state_;  // outlives the workers: declared first, destroyed last
  std::unique_ptr<Workers> workers_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
};

}  // namespace sy::mock
