// DLP on the request, fail closed: every string of a chat-completions, embeddings, Anthropic
// Messages or OpenAI Responses body, at any depth, is scanned, except the gateway's own vocabulary in the fields it
// validates (`role`, `type`, `tool_choice: "auto"`, ...) and the `model` name (replaced by the
// backend's before anything leaves). Object keys are scanned where the client chooses them (JSON
// schemas, `metadata`, unknown fields). A field the gateway does not know is scanned with
// everything under it, dropped or refused, as `dlp.unknown_fields` says; a value of an unexpected
// shape (content as an object, tool-call arguments as an object) is scanned whole. What cannot be
// scanned at all (embeddings input as token ids) makes the request the most sensitive kind and
// blocks it toward external backends, and so does a text whose scan reaches a bound (see
// ScanBound; dlp.limits.on_limit). Texts are scanned once; the transform is re-applied only if
// a failover crosses to a destination (self-hosted vs external) that the policy treats
// differently. Used by the pipeline and by `explain`. Per request, NOT thread-safe; the engine
// and policy must outlive it.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/connector.h"
#include "core/backend.h"
#include "core/error.h"
#include "policies/dlp_engine.h"
#include "policies/dlp_policy.h"
#include "policies/dlp_transform.h"

namespace sy::server {

// A text of the request (a string value, or an object key) and what the scan found in it.
struct ScannedText {
  // From the body to the text: the position of each member (objects keep their order) or
  // element. The body's members are never removed or reordered after inspect(); fields added
  // later (stream_options, max_tokens) are appended and do not move these positions.
  std::vector<uint32_t> at;
  bool key = false;      // the text is the key of the last step's member, not its value
  bool media = false;    // the printable runs of a binary file (the value at `at` is its base64):
                         // its findings are allowed or block the request, never rewritten
  std::string where;     // "messages[1].content[0].text"; client-chosen keys print as <field>
  std::string original;  // kept only when there are findings (to re-apply for a destination)
  policies::TextSource source = policies::TextSource::User;
  std::vector<policies::Finding> findings;  // byte offsets into this text

  const std::string& pathString() const { return where; }
};

// What the policy does with the request for one destination.
struct DestinationVerdict {
  struct Block {
    int rule = -1;  // -1: not a rule but content that cannot be inspected (see `detector_id`)
                    // or a scan that reached a bound (see `limit`)
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
  RequestDlp(const policies::DlpEngine& engine, const policies::DlpPolicy& policy)
      : engine_(engine), policy_(policy), pseudonymizer_(policy.restoreScope()) {}

  // Scans every text of `body` (already validated by the decode phase for `endpoint`). Drops
  // unknown fields under `dlp.unknown_fields: drop`; under `reject` the first one is a 400. A
  // text whose scan reaches a bound makes the request as sensitive as the policy's detectors
  // can make it and, per dlp.limits.on_limit, blocks it for external (or all) destinations.
  Status inspect(connectors::Endpoint endpoint, boost::json::object& body);
  // The same for an Anthropic Messages body as the client sent it (already checked by
  // connectors::anthropicToChat): `system`, messages and every block type, tools, thinking.
  // Tool results are untrusted text, as tool messages are in a chat request.
  Status inspectAnthropic(boost::json::object& body);
  // The client's own body of `surface` (one whose requests pass through, RequestContext::native):
  // Anthropic Messages as inspectAnthropic; OpenAI Responses (already checked by
  // connectors::responsesToChat, prior turns inlined): `instructions`, input items of every type
  // the decoder accepts (messages and their parts, function calls and their outputs, reasoning
  // summaries), tools (function and built-in), tool_choice, `text.format` schemas, metadata.
  // Function-call outputs are untrusted text, as tool messages are in a chat request.
  Status inspectNative(connectors::Surface surface, boost::json::object& body);

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
  // The rule's name, "uninspectable" for content the engine could not see, or "dlp.limits" for
  // a scan that reached a bound.
  const std::string& blockRule(const DestinationVerdict::Block& block) const;

  policies::Pseudonymizer& pseudonymizer() { return pseudonymizer_; }

 private:
  enum class RequestShape { Chat, Embeddings, AnthropicMessages, Responses };
  Status inspectShape(RequestShape shape, boost::json::object& body);

  const policies::DlpEngine& engine_;
  const policies::DlpPolicy& policy_;
  friend class BodyWalker;

  std::vector<ScannedText> texts_;
  std::optional<ScanLimitReached> limit_;
  int sensitivity_ = 0;
  // Where the first content DLP cannot read is, and what it is ("token ids").
  std::optional<std::pair<std::string, std::string>> opaque_;
  std::optional<DestinationVerdict> verdicts_[2];  // by Location
  std::optional<Location> applied_;                // whose texts are in the body (none: originals)
  policies::PolicyAction external_floor_ = policies::PolicyAction::Allow;
  policies::Pseudonymizer pseudonymizer_;
};

}  // namespace sy::server
