// difficulty.judge's pure parts: the band, the judged text, the request and the reading of a grade.
#include "gateway/server/pipeline/judge.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace sy::server {
namespace {

namespace json = boost::json;
using router::DifficultyLabel;

TEST(JudgeTest, TheBandIncludesBothEnds) {
  router::JudgeSpec judge;
  judge.low = 0.4;
  judge.high = 0.7;
  EXPECT_TRUE(inBand(judge, 0.4));
  EXPECT_TRUE(inBand(judge, 0.55));
  EXPECT_TRUE(inBand(judge, 0.7));
  EXPECT_FALSE(inBand(judge, 0.39));
  EXPECT_FALSE(inBand(judge, 0.71));
}

TEST(JudgeTest, AGradeIsTheFirstWordInAnyCaseAndNothingElse) {
  EXPECT_EQ(parseGrade("complex"), DifficultyLabel::Complex);
  EXPECT_EQ(parseGrade("  Routine."), DifficultyLabel::Routine);
  EXPECT_EQ(parseGrade("\"COMPLEX\"\n"), DifficultyLabel::Complex);
  EXPECT_EQ(parseGrade("complex, because it needs a proof"), DifficultyLabel::Complex);
  EXPECT_EQ(parseGrade(""), std::nullopt);
  EXPECT_EQ(parseGrade("It is complex"), std::nullopt);  // not the first word: not a grade
  EXPECT_EQ(parseGrade("complexity"), std::nullopt);
  EXPECT_EQ(parseGrade("Hello from judge. lorem ipsum"), std::nullopt);
}

TEST(JudgeTest, TheJudgedTextJoinsTextPartsAndIsBounded) {
  const json::object parts = json::parse(
      R"({"role":"user","content":[{"type":"text","text":"first"},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},)"
      R"({"type":"text","text":"second"}]})").as_object();
  EXPECT_EQ(judgedText(parts), "first\nsecond");
  // A long text is cut at kMaxJudgedBytes without splitting a UTF-8 sequence ("é" is 2 bytes).
  json::object whole{{"role", "user"}, {"content", std::string(kMaxJudgedBytes - 1, 'x') + "é"}};
  const std::string cut = judgedText(whole);
  EXPECT_EQ(cut.size(), kMaxJudgedBytes - 1);
  EXPECT_EQ(cut.back(), 'x');
}

TEST(JudgeTest, TheRequestAsksTheModelForOneWordAboutTheText) {
  const json::object request = judgeRequest("prove it", "judge-model");
  EXPECT_EQ(request.at("model"), "judge-model");
  EXPECT_EQ(request.at("max_tokens"), 4);
  EXPECT_EQ(request.at("stream"), false);
  const json::array& messages = request.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("role"), "system");
  EXPECT_NE(std::string_view(messages[0].at("content").as_string()).find("exactly one word"),
            std::string_view::npos);
  EXPECT_EQ(messages[1].at("content"), "prove it");
}

TEST(JudgeTest, OutcomesHaveStableMetricLabels) {
  EXPECT_EQ(toString(JudgeOutcome::Agreed), "agreed");
  EXPECT_EQ(toString(JudgeOutcome::Overruled), "overruled");
  EXPECT_EQ(toString(JudgeOutcome::Timeout), "timeout");
  EXPECT_EQ(toString(JudgeOutcome::Failed), "failed");
  EXPECT_EQ(toString(JudgeOutcome::SkippedDlp), "skipped_dlp");
}

}  // namespace
}  // namespace sy::server
