#include "router/difficulty.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "router/difficulty_features.h"

namespace sy::router {
namespace {

namespace d = difficulty;

std::string configLine() {
  char line[64];
  std::snprintf(line, sizeof line, "config %016llx\n",
                static_cast<unsigned long long>(d::configHash()));
  return line;
}

std::string minimalModel(const std::string& extra = "") {
  return "sy-difficulty 1\n" + configLine() + "threshold 0.4\nbias 0.5\n" + extra;
}

std::string parseError(const std::string& text) {
  auto model = DifficultyModel::parse(text, "w.txt");
  EXPECT_FALSE(model.has_value());
  return model ? std::string() : model.error().message;
}

d::Features featuresOf(std::string_view text) {
  d::Features f;
  d::extract(std::span(&text, 1), f);
  return f;
}

constexpr std::string_view kMath =
    "A train leaves at 3:15 pm travelling 80 km/h; a second train leaves 45 minutes later at "
    "110 km/h. At what time does the second train catch up, and how far from the station? "
    "Show each step, then compute the total distance.";
constexpr std::string_view kLatex =
    "Evaluate $\\int_0^1 x^2 \\, dx$ and prove that $\\sqrt{2}$ is "
    "irrational.";
constexpr std::string_view kCode =
    "Why does this crash?\n```python\ndef mean(xs):\n    total = sum(xs)\n    return total / "
    "len(xs)\n```\nFix the function so it handles an empty list.";
constexpr std::string_view kPoem = "Write a short poem about autumn leaves.";
constexpr std::string_view kEmail =
    "Rewrite this email so it sounds friendlier: Please send the "
    "report by Friday.";

TEST(DifficultyModelTest, BuiltinLoads) {
  auto model = DifficultyModel::builtin();
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model, DifficultyModel::builtin());  // parsed once
  EXPECT_GT(model->defaultThreshold(), 0.0);
  EXPECT_LT(model->defaultThreshold(), 1.0);
  // The shipped model uses no hashed difficulty weight (tests/eval/README.md: they carried the
  // format of the training sources); its domain model does.
  EXPECT_EQ(model->hashedWeightCount(), 0u);
}

std::string domainLines(const std::string& extra = "") {
  std::string out;
  for (const char* name :
       {"general", "code", "math", "science", "legal", "medical", "finance", "creative"}) {
    out += std::string("domain ") + name + (std::string(name) == "general" ? " 0.1\n" : " 0\n");
  }
  return out + extra;
}

TEST(DifficultyModelTest, DomainModelPicksTheHighestLogit) {
  // Without a domain model every request is `general`.
  auto plain = DifficultyModel::parse(minimalModel(), "w.txt");
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ((*plain)->score(kCode).domain, Domain::General);
  // One word bucket with a large `code` weight: requests containing that word are `code`.
  d::Features def = featuresOf("def");
  ASSERT_FALSE(def.words.empty());
  const std::string line =
      "domain_hashed " + std::to_string(def.words[0]) + " 0 50 0 0 0 0 0 0\n";
  auto model = DifficultyModel::parse(minimalModel(domainLines(line)), "w.txt");
  ASSERT_TRUE(model.has_value()) << model.error().message;
  EXPECT_EQ((*model)->score("def").domain, Domain::Code);
  EXPECT_EQ((*model)->score(kPoem).domain, Domain::General);  // the bias
}

TEST(DifficultyModelTest, DomainLinesAreChecked) {
  EXPECT_EQ(parseError(minimalModel("domain legal 0.5\n")),
            "w.txt:5: the domain model needs a 'domain' line for each of the 8 domains");
  EXPECT_EQ(parseError(minimalModel("domain lawful 0.5\n")),
            "w.txt:5: expected 'domain <domain name> <number>'");
  EXPECT_EQ(parseError(minimalModel(domainLines("domain_hashed 3 1 2\n"))),
            "w.txt:13: expected 'domain_hashed <bucket>' and 8 numbers");
  EXPECT_EQ(parseError(minimalModel(domainLines("domain_hashed 3 0 0 0 0 0 0 0 1\n"
                                                "domain_hashed 3 0 0 0 0 0 0 0 1\n"))),
            "w.txt:14: duplicate domain bucket 3");
}

TEST(DifficultyModelTest, BuiltinNamesObviousDomains) {
  auto model = DifficultyModel::builtin();
  EXPECT_EQ(model->score(kCode).domain, Domain::Code);
  EXPECT_EQ(model->score("Solve for x: 3x^2 - 12x + 9 = 0, and find the sum of the roots.").domain,
            Domain::Math);
  EXPECT_EQ(model->score("Is a landlord liable under the lease if the tenant is injured, and can "
                         "the tenant sue for negligence in court?")
                .domain,
            Domain::Legal);
}

TEST(DomainTest, NamesRoundTrip) {
  for (size_t i = 0; i < kDomainCount; ++i) {
    const auto domain = static_cast<Domain>(i);
    EXPECT_EQ(parseDomain(toString(domain)), domain);
  }
  EXPECT_FALSE(parseDomain("law").has_value());
}

TEST(DifficultyModelTest, ParsesMinimalModel) {
  auto model = DifficultyModel::parse("# comment\n\n" + minimalModel(), "w.txt");
  ASSERT_TRUE(model.has_value()) << model.error().message;
  EXPECT_DOUBLE_EQ((*model)->defaultThreshold(), 0.4);
  // Only the bias: every input scores sigmoid(0.5).
  const double expected = 1 / (1 + std::exp(-0.5));
  EXPECT_NEAR((*model)->score(kPoem).score, expected, 1e-9);
  EXPECT_NEAR((*model)->score(kCode).score, expected, 1e-9);
}

TEST(DifficultyModelTest, DenseWeightMovesScore) {
  auto model = DifficultyModel::parse(minimalModel("dense code_fence 2\n"), "w.txt");
  ASSERT_TRUE(model.has_value()) << model.error().message;
  const double plain = (*model)->score(kPoem).score;
  const double fenced = (*model)->score(kCode).score;
  EXPECT_NEAR(fenced, 1 / (1 + std::exp(-2.5)), 1e-9);
  EXPECT_LT(plain, fenced);
}

TEST(DifficultyModelTest, ErrorsNameFileAndLine) {
  EXPECT_EQ(parseError(""), "w.txt:1: empty weights file");
  EXPECT_EQ(parseError("# c\nbias 1\n"),
            "w.txt:2: expected 'sy-difficulty 1' before anything else");
  EXPECT_EQ(parseError("sy-difficulty 2\n"), "w.txt:1: unsupported format version '2'");
  EXPECT_EQ(parseError(minimalModel("dense nope 1\n")), "w.txt:5: unknown dense feature 'nope'");
  EXPECT_EQ(parseError(minimalModel("dense latex 1\ndense latex 2\n")),
            "w.txt:6: duplicate dense feature 'latex'");
  EXPECT_EQ(parseError(minimalModel("hashed 7 0.5\nhashed 7 0.25\n")),
            "w.txt:6: duplicate bucket 7");
  EXPECT_EQ(parseError(minimalModel("hashed 262144 1\n")),
            "w.txt:5: bucket 262144 out of range (< 262144)");
  EXPECT_EQ(parseError(minimalModel("hashed 3 abc\n")),
            "w.txt:5: expected 'hashed <bucket> <number>'");
  EXPECT_EQ(parseError(minimalModel("weights 1\n")), "w.txt:5: unknown key 'weights'");
  EXPECT_EQ(parseError("sy-difficulty 1\n" + configLine() + "threshold 1.5\n"),
            "w.txt:3: expected 'threshold <number in (0,1)>'");
  EXPECT_EQ(parseError("sy-difficulty 1\n" + configLine() + "threshold 0.5\n"),
            "w.txt:3: missing 'bias' line");
  std::string mismatch = parseError("sy-difficulty 1\nconfig 00000000000000ab\n");
  EXPECT_EQ(mismatch.rfind("w.txt:2: feature config 00000000000000ab does not match", 0), 0u)
      << mismatch;
}

TEST(DifficultyModelTest, LoadReportsMissingFileAndPathInErrors) {
  auto missing = DifficultyModel::load("/nonexistent/difficulty.txt");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);

  std::string path = ::testing::TempDir() + "difficulty_bad.txt";
  std::FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("sy-difficulty 1\nbogus\n", file);
  std::fclose(file);
  auto bad = DifficultyModel::load(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, path + ":2: unknown key 'bogus'");
  EXPECT_EQ(bad.error().source, ErrorSource::Config);
  std::remove(path.c_str());
}

TEST(DifficultyModelTest, ScoresAreInRangeAndDeterministic) {
  auto model = DifficultyModel::builtin();
  for (std::string_view text : {kMath, kLatex, kCode, kPoem, kEmail, std::string_view("")}) {
    DifficultyScore a = model->score(text);
    DifficultyScore b = model->score(text);
    EXPECT_GE(a.score, 0.0);
    EXPECT_LE(a.score, 1.0);
    EXPECT_EQ(a.score, b.score);
    EXPECT_EQ(a.high_stakes, b.high_stakes);
  }
  // Same result from other threads (thread-local buffers, immutable model).
  const double expected = model->score(kMath).score;
  std::vector<double> seen(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = model->score(kMath).score; });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (double s : seen) {
    EXPECT_EQ(s, expected);
  }
}

TEST(DifficultyModelTest, EmptyInputIsLowAndRoutine) {
  auto model = DifficultyModel::builtin();
  DifficultyScore none = model->score(std::span<const std::string_view>());
  DifficultyScore empty = model->score(std::string_view(""));
  EXPECT_EQ(none.score, empty.score);
  EXPECT_FALSE(none.high_stakes);
  EXPECT_EQ(none.label(model->defaultThreshold()), DifficultyLabel::Routine);
}

TEST(DifficultyModelTest, BuiltinRanksReasoningAboveRoutineWriting) {
  auto model = DifficultyModel::builtin();
  const double math = model->score(kMath).score;
  const double code = model->score(kCode).score;
  const double poem = model->score(kPoem).score;
  const double email = model->score(kEmail).score;
  EXPECT_GT(math, poem);
  EXPECT_GT(math, email);
  EXPECT_GT(code, poem);
  EXPECT_GT(code, email);
  EXPECT_EQ(model->score(kPoem).label(model->defaultThreshold()), DifficultyLabel::Routine);
}

TEST(DifficultyModelTest, LastSegmentIsTheRequest) {
  auto model = DifficultyModel::builtin();
  std::vector<std::string_view> poem_last = {kMath, kPoem};
  std::vector<std::string_view> math_last = {kPoem, kMath};
  EXPECT_GT(model->score(math_last).score, model->score(poem_last).score);
  // The shipped model judges the request itself: context length and turn count are format cues
  // it does not use (tests/eval/README.md), so the same request scores the same with context.
  EXPECT_DOUBLE_EQ(model->score(poem_last).score, model->score(kPoem).score);
}

TEST(DifficultyLabelTest, ThresholdDecides) {
  DifficultyScore s{0.62, false};
  EXPECT_EQ(s.label(0.5), DifficultyLabel::Complex);
  EXPECT_EQ(s.label(0.62), DifficultyLabel::Complex);
  EXPECT_EQ(s.label(0.7), DifficultyLabel::Routine);
  EXPECT_EQ(toString(DifficultyLabel::Complex), "complex");
  EXPECT_EQ(toString(DifficultyLabel::Routine), "routine");
}

TEST(DifficultyFeaturesTest, MathFires) {
  d::Features f = featuresOf(kMath);
  EXPECT_GT(f[d::Dense::Numbers], 0);
  EXPECT_GT(f[d::Dense::Steps], 0);
  EXPECT_GT(f[d::Dense::Questions], 0);
  EXPECT_GT(f[d::Dense::DigitRatio], 0);
  EXPECT_EQ(f[d::Dense::Latex], 0);
  d::Features tex = featuresOf(kLatex);
  EXPECT_EQ(tex[d::Dense::Latex], 1);
  EXPECT_GT(tex[d::Dense::MathOps], 0);
  // Money is not TeX.
  EXPECT_EQ(featuresOf("It costs $5 or $7 per month.")[d::Dense::Latex], 0);
}

TEST(DifficultyFeaturesTest, CodeFires) {
  d::Features f = featuresOf(kCode);
  EXPECT_EQ(f[d::Dense::CodeFence], 1);
  EXPECT_GT(f[d::Dense::CodeLines], 0);
  EXPECT_GT(f[d::Dense::CodeWords], 0);
  d::Features poem = featuresOf(kPoem);
  EXPECT_EQ(poem[d::Dense::CodeFence], 0);
  EXPECT_EQ(poem[d::Dense::CodeLines], 0);
  EXPECT_GT(poem[d::Dense::FormatCues], 0);
}

TEST(DifficultyFeaturesTest, ConstraintsOptionsAndListsFire) {
  d::Features f = featuresOf(
      "Choose a schedule such that no meeting overlaps, each room is used at least once and you "
      "must not exceed 3 hours.\nA. Plan one\nB. Plan two\n(C) Plan three\n- note\n1. detail");
  EXPECT_NEAR(f[d::Dense::Constraints], std::log1p(3.0f), 1e-6);  // such that, at least, must
  EXPECT_NEAR(f[d::Dense::Options], std::log1p(3.0f), 1e-6);
  EXPECT_NEAR(f[d::Dense::ListItems], std::log1p(2.0f), 1e-6);
  EXPECT_EQ(featuresOf("Say hello.")[d::Dense::Constraints], 0);
}

TEST(DifficultyFeaturesTest, HashedFeaturesAreBoundedAndScaled) {
  d::Features f = featuresOf(kEmail);
  ASSERT_FALSE(f.words.empty());
  ASSERT_FALSE(f.chars.empty());
  for (uint32_t b : f.words) {
    EXPECT_LT(b, d::kHashSize);
  }
  EXPECT_FLOAT_EQ(f.word_scale, 1 / std::sqrt(static_cast<float>(f.words.size())));
  // Case and digit values do not matter to the n-grams.
  EXPECT_EQ(featuresOf("Total: 12 apples").chars, featuresOf("total: 47 APPLES").chars);
  // A huge request is scanned only up to kMaxScanBytes, but its length still counts.
  std::string big(d::kMaxScanBytes * 4, 'a');
  for (size_t i = 0; i < big.size(); i += 6) {
    big[i] = ' ';
  }
  d::Features huge = featuresOf(big);
  EXPECT_LE(huge.chars.size(), d::kMaxScanBytes);
  EXPECT_GT(huge[d::Dense::LogBytes],
            featuresOf(big.substr(0, d::kMaxScanBytes))[d::Dense::LogBytes]);
}

TEST(DifficultyFeaturesTest, HighStakesOnDomainCues) {
  EXPECT_TRUE(featuresOf("My landlord says I am liable for the broken heater under our lease "
                         "contract. Should I sue, and what are my risks in court?")
                  .high_stakes);
  EXPECT_TRUE(featuresOf("I was diagnosed with diabetes last month. Should I change the dosage of "
                         "my medication before surgery?")
                  .high_stakes);
  EXPECT_TRUE(featuresOf("Assess the risk of moving my retirement savings from bonds into a "
                         "leveraged stock portfolio given the tax on capital gains.")
                  .high_stakes);
  EXPECT_FALSE(featuresOf(kPoem).high_stakes);
  EXPECT_FALSE(featuresOf(kMath).high_stakes);
  EXPECT_FALSE(featuresOf("Tell me a joke about lawyers.").high_stakes);
  // Cues in the context count: a pasted contract, then a short question.
  std::vector<std::string_view> conversation = {
      "This contract limits liability and sets the jurisdiction for any lawsuit.",
      "Should I sign it?"};
  d::Features f;
  d::extract(conversation, f);
  EXPECT_TRUE(f.high_stakes);
  EXPECT_EQ(f[d::Dense::HighStakes], 1);
  EXPECT_GT(f[d::Dense::ContextBytes], 0);

  auto model = DifficultyModel::builtin();
  EXPECT_TRUE(model->score(conversation).high_stakes);
}

}  // namespace
}  // namespace sy::router
