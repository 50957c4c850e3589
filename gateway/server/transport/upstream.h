// One exchange with a backend, as the forward phase sees it: send the request a connector built,
// read the answer's head, then its body whole or its stream piece by piece. The pipeline's only
// way upstream, so failover, fallback and budget downgrade can be unit-tested with a scripted
// fake (tests/unit/server/fake_upstream.h). The real one, PooledUpstream (upstream_client.h),
// keeps per-worker keep-alive pools. Used from one worker thread only: NOT thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "connectors/connector.h"
#include "core/error.h"
#include "gateway/config/snapshot.h"
#include "gateway/server/transport/net.h"

namespace sy::server {

// A non-streamed answer larger than this is a 502.
inline constexpr size_t kMaxUpstreamBody = 64 << 20;

// The answer of one backend to one request, once its head is in. Destroying it without release()
// abandons the answer (the connection is closed, never reused).
class UpstreamExchange {
 public:
  virtual ~UpstreamExchange() = default;

  virtual unsigned status() const = 0;
  // The answer's header fields; valid for the exchange's lifetime.
  virtual const http::fields& headers() const = 0;
  // From the request's first byte written to the answer's head (connecting excluded).
  virtual std::chrono::steady_clock::duration firstByte() const = 0;

  // The whole body of a non-streamed answer, at most kMaxUpstreamBody, read under the backend's
  // idle timeout. Errors: a retryable Upstream error, `upstream_timeout` (504) or
  // `upstream_error` (502: reset, too large, malformed).
  virtual net::awaitable<Result<std::string>> readBody() = 0;
  // The next piece of a streamed body into `chunk` (replaced; it may be empty), read under the
  // backend's idle timeout. Errors: as readBody's; the stream cannot be read on after one.
  virtual net::awaitable<Status> readChunk(std::string& chunk) = 0;
  // True once the body was read to its end.
  virtual bool done() const = 0;

  // The answer was read to its end: the connection may serve another request (it is kept when
  // the backend allows keep-alive). Call at most once, last.
  virtual void release() = 0;
};

class Upstream {
 public:
  virtual ~Upstream() = default;

  // Sends `request` to `backend` and reads the answer's head under the backend's first_byte
  // timeout. A reused keep-alive connection the backend had closed is retried once on a new
  // one. `snapshot_version`: connections opened under another policy version are not reused.
  // Errors are retryable Upstream errors: from connecting (`upstream_unreachable`,
  // `upstream_tls_error`, `upstream_timeout`) or from the exchange (`upstream_error`,
  // `upstream_timeout`). Any HTTP status is a success here: the caller judges it.
  virtual net::awaitable<Result<std::unique_ptr<UpstreamExchange>>> send(
      const config::BackendRuntime& backend, const connectors::UpstreamRequest& request,
      uint64_t snapshot_version) = 0;
};

}  // namespace sy::server
