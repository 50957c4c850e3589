// difficulty.judge: the pure parts (judge.h) and the pipeline phase that asks the judge backend.
#include "gateway/server/pipeline/judge.h"

#include <boost/json/parse.hpp>
#include <chrono>

#include "gateway/server/pipeline/pipeline.h"

namespace sy::server {

namespace json = boost::json;

namespace {

// What the judge is asked. One word back keeps the answer short and its reading exact.
constexpr std::string_view kJudgeInstructions =
    "You grade how hard a request to an AI assistant is. Answer with exactly one word: "
    "\"complex\" if answering it well needs multi-step reasoning, expert knowledge, a proof, a "
    "derivation, a design or careful analysis; \"routine\" if it is a lookup, a rewrite, a short "
    "summary, a translation, small talk or a simple task. Do not answer the request itself.";

bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The cut of `text` at most `limit` bytes long that does not split a UTF-8 sequence.
std::string_view utf8Prefix(std::string_view text, size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

// The canonical answer's text: choices[0].message.content.
std::optional<std::string_view> answerText(const json::value& answer) {
  const json::object* object = answer.if_object();
  const json::value* choices = object != nullptr ? object->if_contains("choices") : nullptr;
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
    return std::nullopt;
  }
  const json::object* choice = choices->get_array()[0].if_object();
  const json::value* message = choice != nullptr ? choice->if_contains("message") : nullptr;
  const json::value* content = message != nullptr && message->is_object()
                                   ? message->get_object().if_contains("content")
                                   : nullptr;
  if (content == nullptr || !content->is_string()) {
    return std::nullopt;
  }
  return std::string_view(content->get_string());
}

}  // namespace

std::string_view toString(JudgeOutcome outcome) {
  switch (outcome) {
    case JudgeOutcome::Agreed:
      return "agreed";
    case JudgeOutcome::Overruled:
      return "overruled";
    case JudgeOutcome::Timeout:
      return "timeout";
    case JudgeOutcome::Failed:
      return "failed";
    case JudgeOutcome::SkippedDlp:
      return "skipped_dlp";
  }
  return "failed";
}

bool inBand(const router::JudgeSpec& judge, double score) {
  return score >= judge.low && score <= judge.high;
}

std::string judgedText(const json::object& user_turn) {
  std::string text;
  auto add = [&](std::string_view part) {
    if (!text.empty()) {
      text += '\n';
    }
    text.append(part);
  };
  if (const json::value* content = user_turn.if_contains("content")) {
    if (const json::string* whole = content->if_string()) {
      add(*whole);
    } else if (const json::array* parts = content->if_array()) {
      for (const json::value& part : *parts) {
        const json::object* object = part.if_object();
        const json::value* value = object != nullptr ? object->if_contains("text") : nullptr;
        if (value != nullptr && value->is_string() && text.size() < kMaxJudgedBytes) {
          add(value->get_string());
        }
      }
    }
  }
  text.resize(utf8Prefix(text, kMaxJudgedBytes).size());
  return text;
}

json::object judgeRequest(std::string_view text, std::string_view model) {
  json::array messages;
  messages.push_back(json::object{{"role", "system"}, {"content", kJudgeInstructions}});
  messages.push_back(json::object{{"role", "user"}, {"content", text}});
  return json::object{{"model", model},
                      {"messages", std::move(messages)},
                      {"max_tokens", 4},
                      {"temperature", 0},
                      {"stream", false}};
}

std::optional<router::DifficultyLabel> parseGrade(std::string_view answer) {
  size_t begin = 0;
  while (begin < answer.size() && !isWordChar(answer[begin])) {
    ++begin;
  }
  size_t end = begin;
  while (end < answer.size() && isWordChar(answer[end])) {
    ++end;
  }
  std::string word(answer.substr(begin, end - begin));
  for (char& c : word) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (word == "complex") {
    return router::DifficultyLabel::Complex;
  }
  if (word == "routine") {
    return router::DifficultyLabel::Routine;
  }
  return std::nullopt;
}

net::awaitable<void> Pipeline::consultJudge(RequestContext& ctx) {
  const config::JudgeRuntime* judge = ctx.config->judge();
  if (judge == nullptr || !ctx.difficulty || ctx.judged_turn == nullptr ||
      !inBand(judge->spec, ctx.difficulty->score)) {
    co_return;
  }
  // The judge receives the prompt as it stands: only when its own destination would too.
  if (ctx.dlp) {
    const DestinationVerdict& verdict = ctx.dlp->verdict(Location::SelfHosted);
    if (verdict.block || verdict.transforms) {
      ctx.judge = JudgeVerdict{JudgeOutcome::SkippedDlp, std::nullopt, 0};
      worker_.recordJudge(toString(JudgeOutcome::SkippedDlp), -1);
      co_return;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  auto finish = [&](JudgeOutcome outcome, std::optional<router::DifficultyLabel> label) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ctx.judge = JudgeVerdict{outcome, label, seconds};
    worker_.recordJudge(toString(outcome), seconds);
  };
  auto timedOut = [](const Error& error) { return error.code == ErrorCode::DeadlineExceeded; };

  json::object body = judgeRequest(judgedText(*ctx.judged_turn), judge->backend_spec.model);
  auto request = judge->backend.connector->buildRequest(
      connectors::Endpoint::ChatCompletions, body, judge->backend_spec, judge->backend.api_key,
      ctx.request_id);
  if (!request) {
    finish(JudgeOutcome::Failed, std::nullopt);
    co_return;
  }
  auto sent = co_await upstream_.send(judge->backend, *request, ctx.config->version());
  if (!sent) {
    finish(timedOut(sent.error()) ? JudgeOutcome::Timeout : JudgeOutcome::Failed, std::nullopt);
    co_return;
  }
  UpstreamExchange& exchange = **sent;
  const unsigned status = exchange.status();
  const bool event_stream =
      exchange.headers()[http::field::content_type].starts_with("text/event-stream");
  auto answer = co_await exchange.readBody();
  if (!answer) {
    finish(timedOut(answer.error()) ? JudgeOutcome::Timeout : JudgeOutcome::Failed, std::nullopt);
    co_return;
  }
  exchange.release();
  if (status != 200 || event_stream) {
    finish(JudgeOutcome::Failed, std::nullopt);
    co_return;
  }
  auto translator = judge->backend.connector->newTranslator(
      connectors::Endpoint::ChatCompletions, status, false, {});
  if (!translator->onChunk(*answer, true)) {
    finish(JudgeOutcome::Failed, std::nullopt);
    co_return;
  }
  boost::system::error_code ec;
  const json::value parsed = json::parse(*answer, ec);
  const auto text = ec ? std::nullopt : answerText(parsed);
  const auto grade = text ? parseGrade(*text) : std::nullopt;
  if (!grade) {
    finish(JudgeOutcome::Failed, std::nullopt);
    co_return;
  }
  const bool agrees = *grade == ctx.difficulty->label(ctx.config->difficultyThreshold());
  finish(agrees ? JudgeOutcome::Agreed : JudgeOutcome::Overruled, grade);
}

}  // namespace sy::server
