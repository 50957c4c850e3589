// What the request-decoding fuzz targets (openai_decode, anthropic_decode) share: the policy they
// decode under (DLP on, an OpenAI-compatible self-hosted backend and an external Anthropic one),
// and one request through the phases that read the body as the pipeline runs them (decodeBody,
// then inspectBody: the DLP walk over every string), then each connector's upstream request (and the
// Anthropic passthrough request from an Anthropic client's own body).
// Invariants: a refused body is a 4xx; every connector either builds the request or refuses it
// with a 4xx, and building again from the rewritten body gives the same request (the contract
// of Connector::buildRequest, which tries rely on).
#pragma once

#include <boost/json/object.hpp>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "connectors/anthropic.h"
#include "connectors/openai.h"
#include "core/error.h"
#include "gateway/config/config.h"
#include "gateway/config/snapshot.h"
#include "gateway/server/pipeline/pipeline.h"
#include "gateway/server/pipeline/request_context.h"
#include "tests/fuzz/fuzz_util.h"

namespace sy::fuzz {

inline const std::shared_ptr<const config::Snapshot>& decodeSnapshot() {
  static const auto snapshot = [] {
    auto config = config::loadConfigString(R"(
server:
  limits: {max_messages: 8, max_content_parts: 16, max_tools: 4}   # small: the fuzzer reaches them
auth: {anonymous: true}
backends:
  - {name: local, kind: openai, url: "http://127.0.0.1:8001", model: llama, location: self-hosted}
  - {name: claude, kind: anthropic, url: "http://127.0.0.1:8002", model: claude-x, location: external}
tiers:
  local: {backends: [local]}
  frontier: {backends: [claude]}
dlp:
  custom:
    - {name: codenames, keywords: [falcon], level: confidential}
  actions:
    - {name: pseudo, level: ">= confidential", destination: external, action: pseudonymize}
)",
                                           "fuzz-policy.yaml");
    check(config.has_value());
    auto built = config::Snapshot::build(std::move(*config), 1, /*read_upstream_keys=*/false);
    check(built.has_value());
    return *built;
  }();
  return snapshot;
}

inline void checkRefusal(const Error& error) { check(toHttpStatus(error) / 100 == 4); }

inline BackendSpec fuzzBackend() {
  BackendSpec backend;
  backend.name = "fuzz";
  backend.model = "fuzz-model";
  return backend;
}

inline void buildUpstream(const connectors::Connector& connector, connectors::Endpoint api,
                          const boost::json::object& canonical) {
  const BackendSpec backend = fuzzBackend();
  boost::json::object body = canonical;
  auto first = connector.buildRequest(api, body, backend, "k", "r");
  if (!first) {
    checkRefusal(first.error());
    return;
  }
  auto again = connector.buildRequest(api, body, backend, "k", "r");
  check(again.has_value() && again->body == first->body && again->target == first->target);
}

// One body through decode, inspect and the connectors, as the pipeline would for `ctx`'s
// surface, operation and api (set by the caller).
inline void decodeInspectBuild(std::string_view body, server::RequestContext& ctx) {
  ctx.config = decodeSnapshot();
  if (Status decoded = server::decodeBody(body, ctx); !decoded) {
    checkRefusal(decoded.error());
    return;
  }
  if (Status inspected = server::inspectBody(ctx); !inspected) {
    checkRefusal(inspected.error());
    return;
  }
  static const connectors::OpenAiConnector openai;
  static const connectors::OpenAiConnector responses_only(ServedApis{false, true});
  static const connectors::AnthropicConnector anthropic;
  buildUpstream(openai, ctx.api, ctx.body);
  buildUpstream(responses_only, ctx.api, ctx.body);
  buildUpstream(anthropic, ctx.api, ctx.body);
  if (!ctx.native.empty()) {  // an Anthropic client's body, as it passes through to Anthropic
    boost::json::object native = ctx.native;
    connectors::NativeRequest how;
    how.request_id = "r";
    how.output_cap = 64;
    auto request =
        anthropic.buildNative(connectors::Surface::Anthropic, native, fuzzBackend(), "k", how);
    if (!request) {
      checkRefusal(request.error());
    }
  }
}

}  // namespace sy::fuzz
