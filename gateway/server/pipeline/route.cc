// The classify and route phases of the pipeline: the difficulty estimate of a chat request, and
// the routing rule that decides where it goes (or that it is refused), with the tiers it may fall
// back to. Shared with `explain`.
#include <boost/json/string.hpp>

#include "gateway/server/pipeline/pipeline.h"

namespace sy::server {
namespace {

namespace json = boost::json;

// The text of a message's `content`: the string, or each text part of an array.
void appendContent(const json::value* content, std::vector<std::string_view>& out) {
  if (content == nullptr) {
    return;
  }
  if (const json::string* text = content->if_string()) {
    out.emplace_back(*text);
    return;
  }
  if (const json::array* parts = content->if_array()) {
    for (const json::value& part : *parts) {
      const json::object* object = part.if_object();
      const json::value* text = object != nullptr ? object->if_contains("text") : nullptr;
      if (text != nullptr && text->is_string()) {
        out.emplace_back(text->get_string());
      }
    }
  }
}

// DLP groups as routing rules name them (`detectors: [secrets]`).
std::string_view groupOf(policies::DetectorClass detector_class) {
  switch (detector_class) {
    case policies::DetectorClass::Pii:
      return "pii";
    case policies::DetectorClass::Secret:
      return "secrets";
    case policies::DetectorClass::Injection:
      return "injection";
    case policies::DetectorClass::Custom:
      return "custom";
  }
  return "custom";
}

policies::PolicyAction toPolicyAction(router::Transform transform) {
  switch (transform) {
    case router::Transform::None:
      return policies::PolicyAction::Allow;
    case router::Transform::Redact:
      return policies::PolicyAction::Redact;
    case router::Transform::Mask:
      return policies::PolicyAction::Mask;
    case router::Transform::Pseudonymize:
      return policies::PolicyAction::Pseudonymize;
  }
  return policies::PolicyAction::Allow;
}

// A rule's route (or fallback tier): a tier, an alias or a backend name; validated at load.
Result<router::Target> resolveTarget(const router::Catalog& catalog, std::string_view name) {
  auto target = catalog.resolve(name, 0);
  if (target) {
    return target;
  }
  if (const BackendSpec* backend = catalog.findBackend(name); backend != nullptr) {
    return router::Target{"", {backend}};
  }
  return target;
}


// What a chat request needs from a backend beyond text: tools, images, JSON mode.
Capabilities needsOf(const json::object& body) {
  Capabilities needs{false, false, false};
  for (const std::string_view key : {"tools", "functions"}) {
    const json::value* value = body.if_contains(key);
    needs.tools = needs.tools || (value != nullptr && value->is_array() && !value->get_array().empty());
  }
  if (const json::value* format = body.if_contains("response_format");
      format != nullptr && format->is_object()) {
    const json::value* type = format->get_object().if_contains("type");
    needs.json_mode = type != nullptr && type->is_string() &&
                      (type->get_string() == "json_object" || type->get_string() == "json_schema");
  }
  if (const json::value* messages = body.if_contains("messages");
      messages != nullptr && messages->is_array()) {
    for (const json::value& message : messages->get_array()) {
      const json::value* content =
          message.is_object() ? message.get_object().if_contains("content") : nullptr;
      if (content == nullptr || !content->is_array()) {
        continue;
      }
      for (const json::value& part : content->get_array()) {
        const json::value* type = part.is_object() ? part.get_object().if_contains("type") : nullptr;
        needs.vision = needs.vision || (type != nullptr && type->is_string() &&
                                        type->get_string() == "image_url");
      }
    }
  }
  return needs;
}

}  // namespace

void classifyBody(RequestContext& ctx) {
  if (ctx.api != connectors::Endpoint::ChatCompletions) {
    return;
  }
  ctx.needs = needsOf(ctx.body);
  const json::value* messages = ctx.body.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) {
    return;
  }
  // What the conversation asks: the client's instructions (system, developer) and its user
  // turns. Assistant text and tool output are not the client's request (a tool's 40-hour
  // forecast must not make "Weather in Paris?" hard) and are left out.
  std::vector<std::string_view> instructions;
  std::vector<const json::object*> user_turns;
  for (const json::value& message : messages->get_array()) {
    const json::object* object = message.if_object();
    const json::value* role = object != nullptr ? object->if_contains("role") : nullptr;
    if (role == nullptr || !role->is_string()) {
      continue;
    }
    if (role->get_string() == "user") {
      user_turns.push_back(object);
    } else if (role->get_string() == "system" || role->get_string() == "developer") {
      appendContent(object->if_contains("content"), instructions);
    }
  }
  const router::DifficultyModel& model = ctx.config->difficulty();
  // The classifier reads the last segment as the request and the others as context: the
  // instructions, then the user turns before the one judged.
  auto scoreTurn = [&](size_t judged) {
    std::vector<std::string_view> texts = instructions;
    for (size_t i = 0; i <= judged && i < user_turns.size(); ++i) {
      appendContent(user_turns[i]->if_contains("content"), texts);
    }
    return model.score(texts);
  };
  if (user_turns.empty()) {
    ctx.difficulty = model.score(instructions);
    return;
  }
  const size_t latest = user_turns.size() - 1;
  if (ctx.config->conversationBasis() == router::ConversationBasis::LatestTurn || latest == 0) {
    ctx.difficulty = scoreTurn(latest);
    ctx.judged_turn = user_turns[latest];
    return;
  }
  // A conversation keeps the difficulty of the request it opened with, so its later turns stay
  // on the tier it started on unless another condition of the rules changes.
  ctx.difficulty = scoreTurn(0);
  ctx.judged_turn = user_turns[0];
  ctx.latest_turn_difficulty = scoreTurn(latest);
}

Result<RoutePlan> decideRoute(RequestContext& ctx) {
  const router::Catalog& catalog = ctx.config->catalog();
  // An unknown model is the client's mistake whatever the rules would do with it.
  auto requested = catalog.resolve(ctx.requested_model, 0);
  if (!requested) {
    return std::unexpected(std::move(requested.error()));
  }
  std::vector<std::string_view> detectors;
  bool injection = false;
  if (ctx.dlp) {
    for (const ScannedText& text : ctx.dlp->texts()) {
      for (const policies::Finding& finding : text.findings) {
        detectors.push_back(finding.detector_id);
        detectors.push_back(groupOf(finding.detector_class));
        injection = injection || finding.detector_class == policies::DetectorClass::Injection;
      }
    }
  }
  router::RouteInput input;
  input.sensitivity_rank = ctx.sensitivity;
  if (ctx.difficulty) {
    input.difficulty_score = ctx.difficulty->score;
    input.complex = difficultyLabel(ctx) == router::DifficultyLabel::Complex;
    input.high_stakes = ctx.difficulty->high_stakes;
    input.domain = ctx.difficulty->domain;
  }
  input.injection = injection;
  input.detectors = detectors;
  if (ctx.principal != nullptr) {
    input.team = ctx.principal->team;
    input.key_id = ctx.principal->key_id;
  }
  input.requested_model = ctx.requested_model;
  input.endpoint = endpointLabel(ctx.operation);
  input.prompt_tokens = ctx.prompt_estimate;
  const router::RouteRuleSpec& rule = ctx.config->routes().match(input);
  ctx.rule = &rule;
  if (rule.action == router::RouteAction::Block) {
    ctx.block_reason = BlockReason::RoutingRule;
    std::string message = "Blocked by routing rule '" + rule.name + "'";
    message += rule.message.empty() ? "." : ": " + rule.message;
    return makeError(ErrorCode::PermissionDenied, ErrorSource::Downstream, std::move(message),
                     "policy_violation");
  }
  RoutePlan plan;
  if (rule.route == router::kRouteRequested) {
    plan.primary = std::move(*requested);
  } else {
    auto target = resolveTarget(catalog, rule.route);
    if (!target) {
      return std::unexpected(std::move(target.error()));
    }
    plan.primary = std::move(*target);
    ctx.overridden = ctx.requested_model != "auto" && ctx.requested_model != rule.route;
  }
  for (const std::string& tier : rule.fallback) {
    if (auto target = resolveTarget(catalog, tier); target) {
      // The loader refuses a fallback that widens exposure; checked again here, whatever the
      // policy file said, since this is the promise the security team relies on.
      if (router::fallbackAllowed(plan.primary.backends, target->backends)) {
        plan.fallbacks.push_back(std::move(*target));
      }
    }
  }
  if (ctx.dlp && rule.transform != router::Transform::None) {
    ctx.dlp->setExternalFloor(toPolicyAction(rule.transform));
  }
  return plan;
}

}  // namespace sy::server
