#include "examples/mock_llm/server_state.h"

#include <chrono>

#include "examples/mock_llm/reply.h"
#include "examples/mock_llm/synth.h"

namespace sy::mock {
namespace {

std::string makeFingerprint(std::string_view name) {
  std::string fp = "fp_";
  appendHex(fp, fnv1a(name), 10);
  return fp;
}

std::string makeModelsBody(std::string_view name) {
  std::string body = "{\"object\":\"list\",\"data\":[{\"id\":";
  appendJsonString(body, std::string(name) + "-model");
  body += ",\"object\":\"model\",\"created\":0,\"owned_by\":";
  appendJsonString(body, name);
  body += "}]}";
  return body;
}

}  // namespace

ServerState::ServerState(MockOptions opts)
    : options(std::move(opts)),
      controls(options.controls),
      fingerprint(makeFingerprint(options.name)),
      models_body(makeModelsBody(options.name)),
      id_seed_(fnv1a(options.name) ^
               static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())) {
}

void ServerState::record(std::shared_ptr<const Request> request) {
  requests.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<const Request> previous;
  {
    std::lock_guard lock(last_mu_);
    previous = std::exchange(last_, std::move(request));
  }
  // `previous` is released here, outside the lock.
}

std::shared_ptr<const Request> ServerState::lastRequest() const {
  std::lock_guard lock(last_mu_);
  return last_;
}

void ServerState::log(std::shared_ptr<const Request> request) {
  std::deque<std::shared_ptr<const Request>> dropped;
  {
    std::lock_guard lock(last_mu_);
    log_body_bytes_ += request->body().size();
    log_.push_back(std::move(request));
    while (log_.size() > kRequestLogEntries ||
           (log_.size() > 1 && log_body_bytes_ > kRequestLogBodyBytes)) {
      log_body_bytes_ -= log_.front()->body().size();
      dropped.push_back(std::move(log_.front()));
      log_.pop_front();
    }
  }
  // `dropped` is released here, outside the lock.
}

std::deque<std::shared_ptr<const Request>> ServerState::requestLog() const {
  std::lock_guard lock(last_mu_);
  return log_;
}

std::string ServerState::nextId() {
  const uint64_t seq = id_seq_.fetch_add(1, std::memory_order_relaxed);
  std::string id;
  id.reserve(24);
  appendHex(id, fnv1a(std::string_view(reinterpret_cast<const char*>(&seq), sizeof(seq)), id_seed_),
            16);
  appendHex(id, seq, 8);
  return id;
}

}  // namespace sy::mock
