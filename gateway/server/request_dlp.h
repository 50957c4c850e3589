// DLP on the request: finds every text a chat-completions or embeddings body carries (all
// messages and content parts, tool-call arguments, tool results, embeddings `input`), scans them
// once, and rewrites them for a destination as the policy's actions say. The body is inspected
// once per request; the transform is re-applied only if a failover crosses to a destination
// (self-hosted vs external) that the policy treats differently. Used by the pipeline and by
// `explain`. Per request, NOT thread-safe; the engine and policy must outlive it.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.h"
#include "core/backend.h"
#include "core/error.h"
#include "policies/dlp_engine.h"
#include "policies/dlp_policy.h"
#include "policies/dlp_transform.h"

namespace sy::server {

// One step from a JSON value to one of its children: a key (always a string literal) or an index.
struct JsonStep {
  std::string_view key;  // empty for an index step
  size_t index = 0;
};

// A text of the request and what the scan found in it.
struct ScannedText {
  std::vector<JsonStep> path;
  std::string original;  // kept only when there are findings (to re-apply for a destination)
  policies::TextSource source = policies::TextSource::User;
  std::vector<policies::Finding> findings;  // byte offsets into this text

  std::string pathString() const;  // "messages[1].content[0].text"
};

// What the policy does with the request for one destination.
struct DestinationVerdict {
  struct Block {
    int rule = -1;  // -1 when a scan bound blocks (see `limit`)
    std::string detector_id;
    std::string path;
    std::optional<policies::ScanBound> limit;  // set: the scan of `path` reached this bound
  };
  std::optional<Block> block;
  // Per text with findings (same order as RequestDlp::texts()), the action of each finding.
  std::vector<std::vector<policies::FindingAction>> actions;
  bool transforms = false;  // some finding is redacted, masked or pseudonymized
};

// A scan of the request that reached a bound: where, and which bound.
struct ScanLimitReached {
  policies::ScanBound bound = policies::ScanBound::MatchesPerPattern;
  std::string path;  // of the first text whose scan reached a bound
};

class RequestDlp {
 public:
  // The name blockRule() gives a block caused by a scan bound (audit records, metrics).
  static constexpr std::string_view kLimitRule = "dlp.limits";

  RequestDlp(const policies::DlpEngine& engine, const policies::DlpPolicy& policy)
      : engine_(engine), policy_(policy), pseudonymizer_(policy.restoreScope()) {}

  // Scans every text of `body` (already validated by the decode phase for `endpoint`). A text
  // whose scan reaches a bound makes the request as sensitive as the policy's detectors can
  // make it and, per dlp.limits.on_limit, blocks it for external (or all) destinations.
  void inspect(connectors::Endpoint endpoint, const boost::json::object& body);

  // Texts with findings only, in body order.
  const std::vector<ScannedText>& texts() const { return texts_; }
  size_t findingCount() const;
  int sensitivity() const { return sensitivity_; }  // rank in the policy's levels
  // Set when the scan of some text reached a bound.
  const std::optional<ScanLimitReached>& limitReached() const { return limit_; }

  // A routing rule's `transform`: findings the policy would allow through to an external
  // destination get `action` instead (findings already transformed or blocked keep their action).
  // Must be set before the first verdict(External).
  void setExternalFloor(policies::PolicyAction action) { external_floor_ = action; }

  // The decision for `destination` (computed once per destination, then cached).
  const DestinationVerdict& verdict(Location destination);

  // Rewrites the texts of `body` for `destination`, from the originals (so switching destination
  // never stacks transforms). A no-op when this destination's texts are already in place.
  void apply(boost::json::object& body, Location destination);

  // The 403 for a blocked verdict: names the rule (or the scan bound), the detector and where,
  // never the value.
  Error blockError(const DestinationVerdict::Block& block) const;
  std::string_view blockRule(const DestinationVerdict::Block& block) const {
    return block.limit ? kLimitRule : std::string_view(policy_.requestRule(block.rule).name);
  }

  policies::Pseudonymizer& pseudonymizer() { return pseudonymizer_; }

 private:
  const policies::DlpEngine& engine_;
  const policies::DlpPolicy& policy_;
  std::vector<ScannedText> texts_;
  std::optional<ScanLimitReached> limit_;
  int sensitivity_ = 0;
  std::optional<DestinationVerdict> verdicts_[2];  // by Location
  std::optional<Location> applied_;                // whose texts are in the body (none: originals)
  policies::PolicyAction external_floor_ = policies::PolicyAction::Allow;
  policies::Pseudonymizer pseudonymizer_;
};

}  // namespace sy::server
