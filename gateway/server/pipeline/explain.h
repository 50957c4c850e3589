// `explain`: the gateway's decision for one request body, without forwarding anything. The same
// phases as the pipeline (decode, DLP inspect, route, DLP verdict per destination) produce the
// JSON the CLI (`switchyard explain`) and the admin plane (`POST /admin/explain`) print:
//   {"action": "allow"|"redact"|"block", "tier", "backend", "model", "sensitivity",
//    "difficulty": null, "findings": [{"detector","class","message","start","end","path",
//    "action"}], "reasons": [...]}
//    "candidates": [backend, ...] (the route's backends this request may go to; allow and redact
//    only), "status": 200 or the 403/400 of a block, "blocked_by" (block only): {"reason", "rule"}}
// or, for a body the data plane would refuse, {"error": {message, type, code}, "status": N}.
// With ExplainOptions::upstream, also "upstream": {"backend", "target", "body"}: what the first
// candidate would receive, after the DLP transforms for its destination and the output cap.
// Pure CPU; safe from any thread (each call has its own state).
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "connectors/surface.h"
#include "gateway/config/snapshot.h"

namespace sy::server {

struct ExplainOptions {
  std::string_view endpoint = "chat";  // "chat" or "embeddings"
  connectors::Surface surface = connectors::Surface::OpenAi;  // the body's API (decode phase)
  const policies::Principal* principal = nullptr;  // the key whose scopes apply (null: none)
  bool upstream = false;  // add "upstream": the request the first candidate would receive
};

boost::json::object explainRequest(const std::shared_ptr<const config::Snapshot>& snapshot,
                                   std::string_view body, const ExplainOptions& options);

// `endpoint` is "chat" or "embeddings". `principal`: the key whose scopes apply (null: none).
boost::json::object explainRequest(const std::shared_ptr<const config::Snapshot>& snapshot,
                                   std::string_view body, std::string_view endpoint = "chat",
                                   const policies::Principal* principal = nullptr);

}  // namespace sy::server
