#include "gateway/server/request_dlp.h"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

namespace sy::server {
namespace {

namespace json = boost::json;
using policies::PolicyAction;
using policies::TextSource;

policies::DlpAction textAction(PolicyAction action) {
  switch (action) {
    case PolicyAction::Allow:
      return policies::DlpAction::Allow;
    case PolicyAction::Mask:
      return policies::DlpAction::Mask;
    case PolicyAction::Pseudonymize:
      return policies::DlpAction::Pseudonymize;
    case PolicyAction::Redact:
    case PolicyAction::Block:  // never forwarded; redact if it ever were
      return policies::DlpAction::Redact;
  }
  return policies::DlpAction::Redact;
}

// Where a message's texts come from, by its role. Tool and function results carry fetched,
// untrusted content: indirect injections hide there. Only `user` turns are the user's own.
TextSource sourceOf(const json::value* role) {
  const std::string_view name =
      role != nullptr && role->is_string() ? std::string_view(role->get_string()) : "";
  if (name == "tool" || name == "function") {
    return TextSource::Untrusted;
  }
  if (name == "system" || name == "developer") {
    return TextSource::System;
  }
  return name == "assistant" ? TextSource::Assistant : TextSource::User;
}

// Every token-shaped string the client sent (in any string or key of the body) is reserved, so
// that no pseudonym issued for this request equals something the client typed.
void reserveClientTokens(const json::object& body, policies::Pseudonymizer& pseudonymizer) {
  std::vector<const json::value*> pending;
  for (const auto& entry : body) {
    pseudonymizer.reserve(entry.key());
    pending.push_back(&entry.value());
  }
  while (!pending.empty()) {
    const json::value* value = pending.back();
    pending.pop_back();
    if (const json::string* text = value->if_string()) {
      pseudonymizer.reserve(*text);
    } else if (const json::array* array = value->if_array()) {
      for (const json::value& item : *array) {
        pending.push_back(&item);
      }
    } else if (const json::object* object = value->if_object()) {
      for (const auto& entry : *object) {
        pseudonymizer.reserve(entry.key());
        pending.push_back(&entry.value());
      }
    }
  }
}

// Calls visit(path, text, source) for every text a request body carries.
template <class Visit>
void forEachText(connectors::Endpoint endpoint, const json::object& body, Visit&& visit) {
  std::vector<JsonStep> path;
  auto string_at = [&](const json::value* value, TextSource source) {
    if (value != nullptr && value->is_string()) {
      visit(path, std::string_view(value->get_string()), source);
    }
  };
  if (endpoint == connectors::Endpoint::Embeddings) {
    const json::value* input = body.if_contains("input");
    path.push_back({"input", 0});
    if (input != nullptr && input->is_array()) {
      const json::array& items = input->get_array();
      for (size_t i = 0; i < items.size(); ++i) {
        path.push_back({{}, i});
        string_at(&items[i], TextSource::User);
        path.pop_back();
      }
    } else {
      string_at(input, TextSource::User);
    }
    return;
  }
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) {
    return;
  }
  path.push_back({"messages", 0});
  const json::array& list = messages->get_array();
  for (size_t m = 0; m < list.size(); ++m) {
    if (!list[m].is_object()) {
      continue;
    }
    const json::object& message = list[m].get_object();
    path.push_back({{}, m});
    const TextSource source = sourceOf(message.if_contains("role"));
    if (const json::value* content = message.if_contains("content"); content != nullptr) {
      path.push_back({"content", 0});
      if (content->is_array()) {
        const json::array& parts = content->get_array();
        for (size_t p = 0; p < parts.size(); ++p) {
          if (parts[p].is_object()) {
            path.push_back({{}, p});
            path.push_back({"text", 0});
            string_at(parts[p].get_object().if_contains("text"), source);
            path.pop_back();
            path.pop_back();
          }
        }
      } else {
        string_at(content, source);
      }
      path.pop_back();
    }
    if (const json::value* calls = message.if_contains("tool_calls");
        calls != nullptr && calls->is_array()) {
      const json::array& call_list = calls->get_array();
      path.push_back({"tool_calls", 0});
      for (size_t c = 0; c < call_list.size(); ++c) {
        const json::value* function =
            call_list[c].is_object() ? call_list[c].get_object().if_contains("function") : nullptr;
        if (function != nullptr && function->is_object()) {
          path.push_back({{}, c});
          path.push_back({"function", 0});
          path.push_back({"arguments", 0});
          string_at(function->get_object().if_contains("arguments"), source);
          path.resize(path.size() - 3);
        }
      }
      path.pop_back();
    }
    if (const json::value* call = message.if_contains("function_call");
        call != nullptr && call->is_object()) {
      path.push_back({"function_call", 0});
      path.push_back({"arguments", 0});
      string_at(call->get_object().if_contains("arguments"), source);
      path.resize(path.size() - 2);
    }
    path.pop_back();
  }
}

// The string at `path`, or null when the body no longer has one there.
json::string* stringAt(json::object& body, const std::vector<JsonStep>& path) {
  json::value* node = nullptr;
  json::object* object = &body;
  for (const JsonStep& step : path) {
    if (!step.key.empty()) {
      node = object != nullptr ? object->if_contains(step.key) : nullptr;
    } else {
      node = node != nullptr && node->is_array() && step.index < node->get_array().size()
                 ? &node->get_array()[step.index]
                 : nullptr;
    }
    if (node == nullptr) {
      return nullptr;
    }
    object = node->if_object();
  }
  return node != nullptr ? node->if_string() : nullptr;
}

}  // namespace

std::string ScannedText::pathString() const {
  std::string out;
  for (const JsonStep& step : path) {
    if (!step.key.empty()) {
      if (!out.empty()) {
        out += '.';
      }
      out += step.key;
    } else {
      out += '[';
      out += std::to_string(step.index);
      out += ']';
    }
  }
  return out;
}

void RequestDlp::inspect(connectors::Endpoint endpoint, const json::object& body) {
  forEachText(endpoint, body,
              [&](const std::vector<JsonStep>& path, std::string_view text, TextSource source) {
                policies::ScanResult scanned = engine_.scanText(text, source);
                if (scanned.limit && !limit_) {
                  ScannedText where;
                  where.path = path;
                  limit_ = ScanLimitReached{scanned.limit->bound, where.pathString()};
                  sensitivity_ = std::max(sensitivity_, policy_.limitSensitivity());
                }
                if (scanned.findings.empty()) {
                  return;
                }
                sensitivity_ = std::max(sensitivity_, policy_.sensitivity(scanned.findings));
                texts_.push_back({path, std::string(text), source, std::move(scanned.findings)});
              });
  if (!texts_.empty()) {
    reserveClientTokens(body, pseudonymizer_);
  }
}

size_t RequestDlp::findingCount() const {
  size_t count = 0;
  for (const ScannedText& text : texts_) {
    count += text.findings.size();
  }
  return count;
}

const DestinationVerdict& RequestDlp::verdict(Location destination) {
  std::optional<DestinationVerdict>& cached = verdicts_[static_cast<size_t>(destination)];
  if (cached) {
    return *cached;
  }
  DestinationVerdict& verdict = cached.emplace();
  if (limit_ && (destination == Location::External ||
                 policy_.onLimit() == policies::LimitAction::Block)) {
    verdict.block = DestinationVerdict::Block{-1, "", limit_->path, limit_->bound};
  }
  verdict.actions.reserve(texts_.size());
  for (const ScannedText& text : texts_) {
    auto& actions = verdict.actions.emplace_back();
    actions.reserve(text.findings.size());
    for (const policies::Finding& finding : text.findings) {
      policies::FindingAction action = policy_.requestAction(finding, destination);
      if (action.action == PolicyAction::Allow && destination == Location::External) {
        action.action = external_floor_;
      }
      actions.push_back(action);
      if (action.action == PolicyAction::Block && !verdict.block) {
        verdict.block =
            DestinationVerdict::Block{action.rule, finding.detector_id, text.pathString(), {}};
      }
      verdict.transforms = verdict.transforms || (action.action != PolicyAction::Allow &&
                                                  action.action != PolicyAction::Block);
    }
  }
  return verdict;
}

void RequestDlp::apply(json::object& body, Location destination) {
  if (applied_ == destination) {
    return;
  }
  const DestinationVerdict& chosen = verdict(destination);
  if (!chosen.transforms && !applied_) {
    applied_ = destination;  // the originals are in place and stay
    return;
  }
  std::vector<policies::DlpAction> actions;
  for (size_t t = 0; t < texts_.size(); ++t) {
    const ScannedText& text = texts_[t];
    json::string* target = stringAt(body, text.path);
    if (target == nullptr) {
      continue;
    }
    actions.clear();
    for (const policies::FindingAction& action : chosen.actions[t]) {
      actions.push_back(textAction(action.action));
    }
    *target = policies::applyActions(text.original, text.findings, actions, &pseudonymizer_,
                                     text.source);
  }
  applied_ = destination;
}

Error RequestDlp::blockError(const DestinationVerdict::Block& block) const {
  if (block.limit) {
    const bool everywhere = policy_.onLimit() == policies::LimitAction::Block;
    return makeError(ErrorCode::PermissionDenied, ErrorSource::Downstream,
                     "DLP scan limit reached (" + std::string(policies::toString(*block.limit)) +
                         ") in " + block.path + ": request not sent to " +
                         (everywhere ? "any backend." : "an external backend."),
                     "policy_violation")
        .error();
  }
  const policies::DetectorInfo* info = engine_.detector(block.detector_id);
  std::string what = block.detector_id;
  if (info != nullptr) {
    what += " (" + std::string(policies::toString(info->detector_class)) + ")";
  }
  return makeError(ErrorCode::PermissionDenied, ErrorSource::Downstream,
                   "Request blocked by DLP rule '" + policy_.requestRule(block.rule).name +
                       "': " + what + " found in " + block.path + ".",
                   "policy_violation")
      .error();
}

}  // namespace sy::server
