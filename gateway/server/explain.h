// `explain`: the gateway's decision for one request body, without forwarding anything. The same
// phases as the pipeline (decode, DLP inspect, route, DLP verdict per destination) produce the
// JSON the CLI (`switchyard explain`) and the admin plane (`POST /admin/explain`) print:
//   {"action": "allow"|"redact"|"block", "tier", "backend", "model", "sensitivity",
//    "difficulty": null, "findings": [{"detector","class","message","start","end","path",
//    "action"}], "reasons": [...]}
// or, for a body the data plane would refuse, {"error": {message, type, code}, "status": N}.
// Pure CPU; safe from any thread (each call has its own state).
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "gateway/config/snapshot.h"

namespace sy::server {

// `endpoint` is "chat" or "embeddings". `principal`: the key whose scopes apply (null: none).
boost::json::object explainRequest(const std::shared_ptr<const config::Snapshot>& snapshot,
                                   std::string_view body, std::string_view endpoint = "chat",
                                   const policies::Principal* principal = nullptr);

}  // namespace sy::server
