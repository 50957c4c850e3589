// The access log: one JSON line per request on stderr, written in the log phase. Fields are ids,
// names from the policy and numbers; client-chosen text (the requested model, an unknown path)
// only as loggable.h lets it through, the client's request id only when well formed. Never key
// material, prompt or answer text.
#include <boost/json/serialize.hpp>
#include <charconv>

#include "gateway/server/pipeline/loggable.h"
#include "gateway/server/pipeline/pipeline.h"
#include "observability/logging.h"

namespace sy::server {
namespace {

class Fields {
 public:
  Fields() { text_.reserve(512); }

  void string(std::string_view name, std::string_view value) {
    key(name);
    text_ += boost::json::serialize(boost::json::string_view(value));
  }
  // For values already known to need no escaping: policy names ([A-Za-z0-9._-]), request ids.
  void plain(std::string_view name, std::string_view value) {
    key(name);
    text_ += '"';
    text_ += value;
    text_ += '"';
  }
  void boolean(std::string_view name, bool value) {
    key(name);
    text_ += value ? "true" : "false";
  }
  template <class Number>
  void number(std::string_view name, Number value) {
    key(name);
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    text_.append(buffer, ec == std::errc() ? end : buffer);
  }
  void milliseconds(std::string_view name, double seconds) {
    key(name);
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, seconds * 1000,
                                         std::chars_format::fixed, 3);
    text_.append(buffer, ec == std::errc() ? end : buffer);
  }
  const std::string& text() const { return text_; }

 private:
  void key(std::string_view name) {
    text_ += ",\"";
    text_ += name;
    text_ += "\":";
  }
  std::string text_;
};

}  // namespace

void Pipeline::accessLog(const RequestContext& ctx, double seconds) const {
  if (!ctx.config->config().server.access_log) {
    return;
  }
  Fields fields;
  fields.plain("request_id", ctx.request_id);
  if (!ctx.client_request_id.empty()) {
    fields.plain("client_request_id", ctx.client_request_id);  // [A-Za-z0-9._:-]{1,128}
  }
  fields.plain("endpoint", endpointLabel(ctx.operation));
  fields.plain("surface", connectors::toString(ctx.surface));
  if (ctx.operation == Operation::Other) {
    fields.string("path", loggablePath(ctx.path));  // a secret sent as a path stays out
  }
  fields.number("status", ctx.status);
  fields.milliseconds("duration_ms", seconds);
  if (ctx.first_byte_at) {
    fields.milliseconds("ttfb_ms",
                        std::chrono::duration<double>(*ctx.first_byte_at - ctx.started_at).count());
  }
  if (ctx.principal != nullptr) {
    fields.plain("key_id", ctx.principal->key_id);
    fields.plain("team", ctx.principal->team);
  }
  if (!ctx.requested_model.empty()) {
    fields.string("requested_model", loggableModel(ctx.config->catalog(), ctx.requested_model));
  }
  fields.plain("tier", ctx.tier);
  fields.plain("backend", ctx.backend);
  if (ctx.answered_by != nullptr) {
    fields.string("model", ctx.answered_by->model);
  }
  if (ctx.operation != Operation::Other && ctx.operation != Operation::Models) {
    fields.plain("sensitivity", ctx.config->dlpPolicy().levels().name(ctx.sensitivity));
  }
  if (ctx.rule != nullptr) {
    fields.plain("rule", ctx.rule->name);
  }
  if (ctx.difficulty) {
    fields.number("difficulty", ctx.difficulty->score);
  }
  if (ctx.status == 403) {
    fields.plain("block_reason", blockReasonLabel(ctx.block_reason));
  }
  if (ctx.answered_by != nullptr) {
    fields.number("tokens_in", ctx.usage.prompt_tokens);
    fields.number("tokens_out", ctx.usage.completion_tokens);
    fields.number("cost_usd", ctx.cost_usd);
    if (ctx.usage_estimated) {
      fields.boolean("usage_estimated", true);  // no (complete) usage from the upstream
    }
  }
  fields.boolean("stream", ctx.stream);
  worker_.accessLog(fields.text());
}

}  // namespace sy::server
