// difficulty.judge: a self-hosted backend's second opinion on prompts the classifier finds
// ambiguous (a score within the policy's band). The pipeline (Pipeline::consultJudge, judge.cc)
// asks it after classifying and before routing; this header holds the pure parts: the request,
// the reading of its answer, and the verdict the route phase, explain and metrics see. The judge
// never sees a prompt the self-hosted destination would receive transformed or not at all, and
// any failure (timeout, error, an answer that is not a grade) keeps the classifier's label.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "router/difficulty.h"
#include "router/routing.h"

namespace sy::server {

enum class JudgeOutcome : uint8_t {
  Agreed,      // the judge gave the classifier's label
  Overruled,   // the judge gave the other label: it decides
  Timeout,     // no answer in time: the classifier's label
  Failed,      // an error status, a transport error or an answer that is not a grade
  SkippedDlp,  // the prompt has findings the self-hosted destination transforms or blocks
};
std::string_view toString(JudgeOutcome outcome);  // metric label: agreed, overruled, ...

struct JudgeVerdict {
  JudgeOutcome outcome = JudgeOutcome::Failed;
  std::optional<router::DifficultyLabel> label;  // the judge's grade, when it gave one
  double seconds = 0;                            // the exchange's duration (0 when skipped)
};

// At most this much of the judged turn's text is sent (cut at a UTF-8 boundary).
inline constexpr size_t kMaxJudgedBytes = 8 << 10;

// True when `score` is within the judge's band, both ends included.
bool inBand(const router::JudgeSpec& judge, double score);

// The judged user turn's text parts, joined by newlines, at most kMaxJudgedBytes.
std::string judgedText(const boost::json::object& user_turn);

// The canonical chat request that asks `model` for a one-word grade of `text`.
boost::json::object judgeRequest(std::string_view text, std::string_view model);

// The grade in an answer's text: its first word, "complex" or "routine" (any case, surrounding
// punctuation ignored); nullopt for anything else.
std::optional<router::DifficultyLabel> parseGrade(std::string_view answer);

}  // namespace sy::server
