// A request to decide in a dry run, and its one-line JSON form. The request part of a
// `switchyard test` case is a CaseRequest; `switchyard explain --compare` reads request lines
// and `switchyard audit export --requests` writes them (README: "Request lines"):
//   {"id": "...", "key": ID | "team": TEAM, "surface": "openai"|"anthropic"|"responses",
//    "endpoint": "chat"|"embeddings", "headers": {name: value}, "body": {...},
//    "recorded": {...}}
// Only `body` is required; `recorded` (what the audit log says happened) is carried for the
// reader and never decides anything. Values and pure functions; thread-safe as values.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "gateway/config/snapshot.h"

namespace sy::cli {

struct CaseRequest {
  std::string key;   // a key id of the policy ("anonymous" for anonymous traffic)
  std::string team;  // or a team: the policy's first key of that team
  std::string surface = "openai";  // openai | anthropic | responses (the body's API)
  std::string endpoint = "chat";   // chat | embeddings
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;                                          // JSON text
};

// The decision of `snapshot` for `request`: server::explainRequest's object (with "upstream"
// when `upstream`), or, when the request never reaches it, {"status", "error"} for a refused
// credential, or {"case_error": message} when the request names no key of this policy. The key
// or team is looked up in `snapshot`'s own key ring, so two policies decide the same request.
boost::json::object decideRequest(const CaseRequest& request,
                                  const std::shared_ptr<const config::Snapshot>& snapshot,
                                  bool upstream);

struct RequestLine {
  std::string id;  // the caller's name for the request ("" when the line has none)
  CaseRequest request;
  boost::json::object recorded;  // passed through by export; not read by compare
};

// Parses one request line. Fails (InvalidArgument) naming the member on a line that is not a
// JSON object, an unknown member, a member of the wrong type or value, or no body object.
Result<RequestLine> parseRequestLine(std::string_view line);

// The line for `line` (members in the order above; absent ones are left out), no newline.
std::string formatRequestLine(const RequestLine& line);

}  // namespace sy::cli
