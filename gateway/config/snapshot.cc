#include "gateway/config/snapshot.h"

#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <cstdlib>

namespace sy::config {
namespace {

// A client context that verifies the upstream's certificate chain (system store, or the
// backend's ca_file). Host name checks are set per connection, where the host is known.
Result<std::shared_ptr<boost::asio::ssl::context>> makeClientTls(const BackendSpec& backend) {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_verify_mode(boost::asio::ssl::verify_peer);
  boost::system::error_code ec;
  if (backend.ca_file.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    context->load_verify_file(backend.ca_file, ec);
  }
  if (ec) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "backends." + backend.name + ": cannot load CA certificates" +
                         (backend.ca_file.empty() ? "" : " from '" + backend.ca_file + "'") + ": " +
                         ec.message());
  }
  return context;
}

}  // namespace

std::string policyVersion(const SourceMap& sources) {
  std::string assembled;
  for (const SourceMap::File& file : sources.files) {
    assembled += std::to_string(file.contents.size());  // length-prefixed: no two splits collide
    assembled += ':';
    assembled += file.contents;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(assembled.data()), assembled.size(), digest);
  constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < kPolicyVersionLength / 2; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::expected<std::shared_ptr<const Snapshot>, ConfigErrors> Snapshot::build(
    Config config, uint64_t version, bool read_upstream_keys) {
  std::shared_ptr<Snapshot> snapshot(new Snapshot());
  snapshot->version_ = version;
  snapshot->policy_version_ = config::policyVersion(config.sources);
  snapshot->config_ = std::move(config);
  ConfigErrors errors;
  auto fail = [&](std::string message) {
    errors.push_back(ConfigError{snapshot->config_.source, 0, 0, std::move(message)});
  };
  auto catalog = router::Catalog::create(snapshot->config_.catalog);
  if (!catalog) {
    fail(catalog.error().message);
    return std::unexpected(std::move(errors));
  }
  snapshot->catalog_ = std::move(*catalog);
  for (const BackendSpec& spec : snapshot->catalog_->backends()) {
    BackendRuntime runtime{&spec, nullptr, nullptr, "", "", snapshot->backends_.size()};
    runtime.host_header = spec.address.host + ":" + std::to_string(spec.address.port);
    if (auto connector = connectors::makeConnector(spec); connector) {
      runtime.connector = std::move(*connector);
    } else {
      fail("backends." + spec.name + ".kind: " + connector.error().message);
    }
    if (spec.address.tls) {
      if (auto tls = makeClientTls(spec); tls) {
        runtime.tls = std::move(*tls);
      } else {
        fail(tls.error().message);
      }
    }
    if (read_upstream_keys && !spec.api_key_env.empty()) {
      const char* key = std::getenv(spec.api_key_env.c_str());
      if (key == nullptr || *key == '\0') {
        fail("backends." + spec.name + ".api_key_env: environment variable " + spec.api_key_env +
             " is not set");
      } else {
        runtime.api_key = key;
      }
    }
    snapshot->backends_.push_back(std::move(runtime));
  }
  // One line per problem: the engine and the policy report all of theirs at once.
  auto fail_lines = [&](const std::string& message) {
    for (size_t start = 0; start <= message.size();) {
      size_t end = message.find('\n', start);
      end = end == std::string::npos ? message.size() : end;
      fail(message.substr(start, end - start));
      start = end + 1;
    }
  };
  if (auto engine = policies::DlpEngine::create(snapshot->config_.dlp); engine) {
    snapshot->dlp_engine_ = std::move(*engine);
    if (auto policy =
            policies::DlpPolicy::create(snapshot->config_.dlp_policy, *snapshot->dlp_engine_);
        policy) {
      snapshot->dlp_policy_.emplace(std::move(*policy));
    } else {
      fail_lines(policy.error().message);
    }
  } else {
    fail_lines(engine.error().message);
  }
  const policies::AuthConfig& auth = snapshot->config_.auth;
  std::string pepper;
  if (!auth.pepper_env.empty()) {
    const char* value = std::getenv(auth.pepper_env.c_str());
    if (value != nullptr && *value != '\0') {
      pepper = value;
    } else if (read_upstream_keys) {
      fail("auth.pepper_env: environment variable " + auth.pepper_env + " is not set");
    } else {
      pepper = "dry-run";  // nothing is authenticated in a dry run
    }
  }
  if (auto ring = policies::KeyRing::create(auth, snapshot->config_.dlp_policy.levels, pepper);
      ring) {
    snapshot->keys_.emplace(std::move(*ring));
  } else {
    fail_lines(ring.error().message);
  }
  for (const policies::KeySpec& key : auth.keys) {
    snapshot->has_limits_ = snapshot->has_limits_ || !key.limits.empty();
  }
  for (const policies::TeamSpec& team : auth.teams) {
    snapshot->has_limits_ = snapshot->has_limits_ || !team.limits.empty();
  }
  const router::RoutingSpec& routing = snapshot->config_.routing;
  if (auto table = router::RouteTable::create(routing, snapshot->config_.catalog); table) {
    snapshot->routes_.emplace(std::move(*table));
  } else {
    fail(table.error().message);
  }
  if (routing.difficulty.model == "builtin") {
    snapshot->difficulty_ = router::DifficultyModel::builtin();
  } else if (auto model = router::DifficultyModel::load(routing.difficulty.model); model) {
    snapshot->difficulty_ = std::move(*model);
  } else {
    fail("difficulty.model: " + model.error().message);
  }
  if (snapshot->difficulty_) {
    snapshot->difficulty_threshold_ =
        routing.difficulty.threshold.value_or(snapshot->difficulty_->defaultThreshold());
  }
  if (const auto& judge = routing.difficulty.judge) {
    const BackendSpec* spec = snapshot->catalog_->findBackend(judge->backend);
    if (spec == nullptr || spec->location != Location::SelfHosted) {
      // The loader refuses both (the judge reads the prompt: it must not leave).
      fail("difficulty.judge.backend: '" + judge->backend + "' is not a self-hosted backend");
    } else {
      JudgeRuntime& runtime = snapshot->judge_.emplace();
      runtime.spec = *judge;
      runtime.backend_spec = *spec;
      runtime.backend_spec.timeouts = {judge->timeout, judge->timeout, judge->timeout};
      runtime.backend = snapshot->backend(*spec);
      runtime.backend.spec = &runtime.backend_spec;
    }
  }
  if (errors.empty() && snapshot->config_.shadow) {
    auto shadow = Snapshot::build(*snapshot->config_.shadow->config, version,
                                  /*read_upstream_keys=*/false);
    if (!shadow) {
      errors = std::move(shadow.error());
    } else {
      snapshot->shadow_ = std::move(*shadow);
    }
  }
  if (!errors.empty()) {
    return std::unexpected(std::move(errors));
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

std::string shadowPolicyVersion(const Config& config) {
  return config.shadow ? policyVersion(config.shadow->config->sources) : "";
}

const BackendRuntime& Snapshot::backend(const BackendSpec& spec) const {
  // Specs handed out by this snapshot's catalog live in one vector: index by address.
  return backends_[static_cast<size_t>(&spec - catalog_->backends().data())];
}

}  // namespace sy::config
