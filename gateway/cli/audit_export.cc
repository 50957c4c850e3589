#include "gateway/cli/audit_export.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace sy::cli {
namespace {

namespace json = boost::json;

constexpr uint64_t kMaxPlaceholder = 256 * 1024;
constexpr uint64_t kCharsPerToken = 4;  // as the gateway's own prompt estimate

json::object recordedOf(const observability::AuditRecord& record) {
  json::array detectors;
  for (const observability::AuditFinding& finding : record.findings) {
    detectors.push_back(json::object{
        {"detector", finding.detector}, {"count", finding.count}, {"action", finding.action}});
  }
  return json::object{{"time", record.time},
                      {"request_id", record.request_id},
                      {"policy_version", record.policy_version},
                      {"rule", record.rule},
                      {"tier", record.tier},
                      {"backend", record.backend},
                      {"status", record.status},
                      {"outcome", record.outcome},
                      {"sensitivity", record.sensitivity},
                      {"difficulty", record.difficulty.label},
                      {"findings", std::move(detectors)},
                      {"prompt_tokens", record.tokens.prompt}};
}

}  // namespace

std::string placeholderText(uint64_t chars) {
  static constexpr std::string_view kWord = "placeholder ";
  chars = std::clamp<uint64_t>(chars, kWord.size() - 1, kMaxPlaceholder);
  std::string text;
  text.reserve(chars);
  while (text.size() < chars) {
    text += kWord.substr(0, std::min<uint64_t>(kWord.size(), chars - text.size()));
  }
  while (!text.empty() && text.back() == ' ') {
    text.pop_back();
  }
  return text;
}

std::optional<RequestLine> auditRequestLine(const observability::AuditRecord& record) {
  if (record.phase != "completion" ||
      (record.endpoint != "chat" && record.endpoint != "embeddings")) {
    return std::nullopt;
  }
  RequestLine line;
  line.id = record.request_id;
  CaseRequest& request = line.request;
  request.key = record.key_id;  // "" for a request that named no valid key: it replays as such
  request.team = record.team;
  request.surface = record.surface.empty() ? "openai" : record.surface;
  request.endpoint = record.endpoint;
  const std::string text = placeholderText(record.tokens.prompt * kCharsPerToken);
  json::object body{{"model", record.requested_model}};
  if (request.endpoint == "embeddings") {
    body["input"] = text;
  } else {
    body["messages"] = json::array{json::object{{"role", "user"}, {"content", text}}};
    if (request.surface == "anthropic") {
      body["max_tokens"] = 1024;  // required by the Messages API; not recorded
    }
  }
  request.body = json::serialize(body);
  line.recorded = recordedOf(record);
  return line;
}

}  // namespace sy::cli
