#include "policies/limit_state.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace sy::policies {
namespace {

using namespace std::chrono_literals;
using TimePoint = LimitState::TimePoint;

// 2026-11-26T10:00:00Z: 14 h to the next UTC midnight, 4 days 14 h to 2026-12-01.
TimePoint at(int year, unsigned month, unsigned day, std::chrono::seconds time_of_day = 10h) {
  return std::chrono::sys_days{std::chrono::year{year} / month / day} + time_of_day;
}
const TimePoint kStart = at(2026, 11, 26);

// A fake clock: time moves only when the test says so.
struct FakeClock {
  TimePoint now = kStart;
  void advance(std::chrono::milliseconds by) { now += by; }
};

LimitSubject subject(std::string scope, Limits limits) { return {std::move(scope), limits}; }

AdmitRequest request(std::string id, std::vector<LimitSubject> subjects, uint64_t tokens = 0,
                     int64_t micro_usd = 0) {
  return AdmitRequest{std::move(subjects), tokens, micro_usd, std::move(id)};
}

void expectRefused(const Admission& admission, std::string_view limit, std::string_view scope,
                   std::chrono::seconds retry_after) {
  EXPECT_FALSE(admission.admitted);
  EXPECT_EQ(admission.limit, limit);
  EXPECT_EQ(admission.scope, scope);
  EXPECT_EQ(admission.retry_after, retry_after);
}

bool sameUsage(const ScopeUsage& a, const ScopeUsage& b) {
  return a.requests == b.requests && a.tokens == b.tokens && a.leases == b.leases &&
         a.day_spent == b.day_spent && a.day_reserved == b.day_reserved &&
         a.month_spent == b.month_spent && a.month_reserved == b.month_reserved;
}

TEST(LimitStateTest, RpmAdmitsExactlyLimitThenRefusesUntilTheOldestBucketLeaves) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.rpm = 3});
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(state.admit(request("r" + std::to_string(i), {key}), clock.now).admitted);
    clock.advance(10s);
  }
  // Admitted at +0, +10, +20; now +30: the +0 bucket leaves at +60.
  expectRefused(state.admit(request("r3", {key}), clock.now), "rpm", "key:a", 30s);
  clock.advance(29s);
  expectRefused(state.admit(request("r3", {key}), clock.now), "rpm", "key:a", 1s);
  clock.advance(1s);
  EXPECT_TRUE(state.admit(request("r3", {key}), clock.now).admitted);
}

TEST(LimitStateTest, RpmRetryAfterCountsEnoughBucketsToMakeRoom) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.rpm = 4});
  state.admit(request("a", {key}), clock.now);  // +0: 1
  clock.advance(5s);
  state.admit(request("b", {key}), clock.now);  // +5: 3
  state.admit(request("c", {key}), clock.now);
  state.admit(request("d", {key}), clock.now);
  clock.advance(5s);
  // 4 in window, 1 must leave: the +0 bucket, at +60.
  expectRefused(state.admit(request("e", {key}), clock.now), "rpm", "key:a", 50s);
}

TEST(LimitStateTest, SubSecondTimeCountsInItsWholeSecondBucket) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.rpm = 1});
  clock.advance(900ms);
  EXPECT_TRUE(state.admit(request("a", {key}), clock.now).admitted);
  clock.advance(59s);  // +59.9 s: the +0 bucket is still in the window
  expectRefused(state.admit(request("b", {key}), clock.now), "rpm", "key:a", 1s);
  clock.advance(100ms);  // +60.0 s
  EXPECT_TRUE(state.admit(request("b", {key}), clock.now).admitted);
}

TEST(LimitStateTest, TpmAdmitsUpToTheLimitThenRefuses) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.tpm = 1000});
  EXPECT_TRUE(state.admit(request("a", {key}, 400), clock.now).admitted);
  clock.advance(20s);
  EXPECT_TRUE(state.admit(request("b", {key}, 600), clock.now).admitted);  // exactly 1000
  clock.advance(1s);
  expectRefused(state.admit(request("c", {key}, 1), clock.now), "tpm", "key:a", 39s);
  // 500 more needs both buckets gone: the +20 one leaves at +80.
  expectRefused(state.admit(request("c", {key}, 500), clock.now), "tpm", "key:a", 59s);
  EXPECT_EQ(state.usage("key:a", clock.now).tokens, 1000u);
}

TEST(LimitStateTest, RequestLargerThanTpmIsRefusedWithRetryAfterSixty) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.tpm = 1000});
  expectRefused(state.admit(request("a", {key}, 1001), clock.now), "tpm", "key:a", 60s);
  EXPECT_TRUE(state.admit(request("b", {key}, 1000), clock.now).admitted);
}

TEST(LimitStateTest, ConcurrencyAdmitsLimitThenRefusesUntilSettled) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.concurrency = 2});
  const auto first = request("a", {key});
  EXPECT_TRUE(state.admit(first, clock.now).admitted);
  EXPECT_TRUE(state.admit(request("b", {key}), clock.now).admitted);
  expectRefused(state.admit(request("c", {key}), clock.now), "concurrency", "key:a", 1s);
  state.settle(first, {}, clock.now);
  EXPECT_TRUE(state.admit(request("c", {key}), clock.now).admitted);
  EXPECT_EQ(state.usage("key:a", clock.now).leases, 2u);
}

TEST(LimitStateTest, DayBudgetRefusesUntilNextUtcMidnight) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.budget_day_usd = 1.0});
  const auto spend = request("a", {key}, 0, 600'000);
  ASSERT_TRUE(state.admit(spend, clock.now).admitted);
  state.settle(spend, {.micro_usd = 600'000}, clock.now);
  EXPECT_TRUE(state.admit(request("b", {key}, 0, 400'000), clock.now).admitted);  // exactly 1.00
  expectRefused(state.admit(request("c", {key}, 0, 1), clock.now), "budget_day", "key:a", 14h);
}

TEST(LimitStateTest, MonthBudgetRefusesUntilTheFirstOfNextUtcMonth) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.budget_month_usd = 5.0});
  const auto spend = request("a", {key}, 0, 5'000'000);
  ASSERT_TRUE(state.admit(spend, clock.now).admitted);
  state.settle(spend, {.micro_usd = 5'000'000}, clock.now);
  expectRefused(state.admit(request("b", {key}, 0, 1), clock.now), "budget_month", "key:a",
                std::chrono::seconds{4 * 86400 + 14 * 3600});
}

TEST(LimitStateTest, ChecksLimitsInOrderAndTheFirstFailureWins) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.rpm = 1, .tpm = 10, .concurrency = 1, .budget_day_usd = 1});
  ASSERT_TRUE(state.admit(request("a", {key}, 10, 1'000'000), clock.now).admitted);
  expectRefused(state.admit(request("b", {key}, 10, 1'000'000), clock.now), "rpm", "key:a", 60s);
  // Without the rpm limit, tpm is next; then concurrency; then the day budget; then the month.
  auto limits = key.limits;
  limits.rpm = 0;
  expectRefused(state.admit(request("b", {subject("key:a", limits)}, 10, 1'000'000), clock.now),
                "tpm", "key:a", 60s);
  limits.tpm = 0;
  expectRefused(state.admit(request("b", {subject("key:a", limits)}, 10, 1'000'000), clock.now),
                "concurrency", "key:a", 1s);
  limits.concurrency = 0;
  limits.budget_month_usd = 1;
  expectRefused(state.admit(request("b", {subject("key:a", limits)}, 10, 1'000'000), clock.now),
                "budget_day", "key:a", 14h);
  limits.budget_day_usd = 0;
  expectRefused(state.admit(request("b", {subject("key:a", limits)}, 10, 1'000'000), clock.now),
                "budget_month", "key:a", std::chrono::seconds{4 * 86400 + 14 * 3600});
}

TEST(LimitStateTest, RefusalsChangeNoCounter) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.rpm = 10, .budget_day_usd = 1.0});
  const auto team = subject("team:t", {.concurrency = 1});
  ASSERT_TRUE(state.admit(request("a", {key, team}, 50, 300'000), clock.now).admitted);
  const ScopeUsage key_before = state.usage("key:a", clock.now);
  const ScopeUsage team_before = state.usage("team:t", clock.now);
  expectRefused(state.admit(request("b", {key, team}, 50, 300'000), clock.now), "concurrency",
                "team:t", 1s);
  expectRefused(state.admit(request("c", {key}, 50, 800'000), clock.now), "budget_day", "key:a",
                14h);
  EXPECT_TRUE(sameUsage(state.usage("key:a", clock.now), key_before));
  EXPECT_TRUE(sameUsage(state.usage("team:t", clock.now), team_before));
  EXPECT_EQ(key_before.requests, 1u);
  EXPECT_EQ(key_before.tokens, 50u);
  EXPECT_EQ(key_before.day_reserved, 300'000);
}

TEST(LimitStateTest, TeamLimitTripsAcrossItsKeysAndNamesTheTeam) {
  LimitState state;
  FakeClock clock;
  const auto team = subject("team:t", {.rpm = 3});
  const auto key_a = subject("key:a", {.rpm = 10});
  const auto key_b = subject("key:b", {.rpm = 10});
  EXPECT_TRUE(state.admit(request("1", {key_a, team}), clock.now).admitted);
  EXPECT_TRUE(state.admit(request("2", {key_b, team}), clock.now).admitted);
  EXPECT_TRUE(state.admit(request("3", {key_a, team}), clock.now).admitted);
  expectRefused(state.admit(request("4", {key_b, team}), clock.now), "rpm", "team:t", 60s);
  EXPECT_EQ(state.usage("key:a", clock.now).requests, 2u);
  EXPECT_EQ(state.usage("key:b", clock.now).requests, 1u);  // the refusal counted nowhere
  EXPECT_EQ(state.usage("team:t", clock.now).requests, 3u);
}

TEST(LimitStateTest, SubjectsAreCheckedInOrder) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.rpm = 1});
  const auto team = subject("team:t", {.rpm = 1});
  ASSERT_TRUE(state.admit(request("1", {key, team}), clock.now).admitted);
  expectRefused(state.admit(request("2", {key, team}), clock.now), "rpm", "key:a", 60s);
  expectRefused(state.admit(request("2", {team, key}), clock.now), "rpm", "team:t", 60s);
}

TEST(LimitStateTest, SlidingWindowFreesCapacityAfterSixtySeconds) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.rpm = 2, .tpm = 100});
  EXPECT_TRUE(state.admit(request("a", {key}, 100), clock.now).admitted);
  clock.advance(30s);
  expectRefused(state.admit(request("b", {key}, 1), clock.now), "tpm", "key:a", 30s);
  clock.advance(30s);
  EXPECT_EQ(state.usage("key:a", clock.now).tokens, 0u);
  EXPECT_TRUE(state.admit(request("b", {key}, 100), clock.now).admitted);
  EXPECT_TRUE(state.admit(request("c", {key}), clock.now).admitted);
  expectRefused(state.admit(request("d", {key}), clock.now), "rpm", "key:a", 60s);
}

TEST(LimitStateTest, TpmSettleReplacesTheReservationByActualUsage) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.tpm = 1000});
  const auto big = request("a", {key}, 900);
  ASSERT_TRUE(state.admit(big, clock.now).admitted);
  clock.advance(2s);
  expectRefused(state.admit(request("b", {key}, 500), clock.now), "tpm", "key:a", 58s);
  state.settle(big, {.tokens = 150}, clock.now);
  EXPECT_EQ(state.usage("key:a", clock.now).tokens, 150u);
  EXPECT_TRUE(state.admit(request("b", {key}, 500), clock.now).admitted);
  EXPECT_EQ(state.usage("key:a", clock.now).tokens, 650u);
}

TEST(LimitStateTest, TpmSettleAfterTheBucketLeftTheWindowChangesNothing) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.tpm = 1000});
  const auto slow = request("a", {key}, 900);
  ASSERT_TRUE(state.admit(slow, clock.now).admitted);
  clock.advance(90s);
  ASSERT_TRUE(state.admit(request("b", {key}, 100), clock.now).admitted);
  state.settle(slow, {.tokens = 5000}, clock.now);
  EXPECT_EQ(state.usage("key:a", clock.now).tokens, 100u);
}

TEST(LimitStateTest, BudgetReservesWorstCaseAndSettlesActualCost) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.budget_day_usd = 1.00});
  const auto first = request("a", {key}, 0, 400'000);
  const auto second = request("b", {key}, 0, 400'000);
  EXPECT_TRUE(state.admit(first, clock.now).admitted);
  EXPECT_TRUE(state.admit(second, clock.now).admitted);
  expectRefused(state.admit(request("c", {key}, 0, 400'000), clock.now), "budget_day", "key:a",
                14h);
  state.settle(first, {.micro_usd = 100'000}, clock.now);
  state.settle(second, {.micro_usd = 100'000}, clock.now);
  const ScopeUsage usage = state.usage("key:a", clock.now);
  EXPECT_EQ(usage.day_spent, 200'000);
  EXPECT_EQ(usage.day_reserved, 0);
  EXPECT_EQ(usage.month_spent, 200'000);
  EXPECT_TRUE(state.admit(request("c", {key}, 0, 400'000), clock.now).admitted);
  EXPECT_TRUE(state.admit(request("d", {key}, 0, 400'000), clock.now).admitted);
  expectRefused(state.admit(request("e", {key}, 0, 1), clock.now), "budget_day", "key:a", 14h);
}

// A request of 100 prompt-side micro-USD plus up to 1000 output tokens at 10 micro-USD each.
AdmitRequest lowerable(std::string id, std::vector<LimitSubject> subjects, uint64_t least) {
  AdmitRequest out = request(std::move(id), std::move(subjects), 50 + 1000, 100 + 10 * 1000);
  out.output_tokens = 1000;
  out.min_output_tokens = least;
  out.micro_usd_per_output_token = 10;
  return out;
}

TEST(LimitStateTest, ABudgetLowersTheOutputToWhatIsLeftAndRefusesBelowTheMinimum) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.budget_day_usd = 0.025});  // 25'000 micro-USD
  const Admission full = state.admit(lowerable("a", {key}, 16), clock.now);
  ASSERT_TRUE(full.admitted);
  EXPECT_EQ(full.output_tokens, 1000u);  // 10'100 fit
  const Admission second = state.admit(lowerable("b", {key}, 16), clock.now);
  ASSERT_TRUE(second.admitted);
  EXPECT_EQ(second.output_tokens, 1000u);  // 20'200 fit
  // 4'800 left: 100 + 10 g <= 4'800 -> g = 470.
  const Admission lowered = state.admit(lowerable("c", {key}, 16), clock.now);
  ASSERT_TRUE(lowered.admitted);
  EXPECT_EQ(lowered.output_tokens, 470u);
  EXPECT_EQ(state.usage("key:a", clock.now).day_reserved, 25'000);
  // Nothing left: not even 16 output tokens fit.
  expectRefused(state.admit(lowerable("d", {key}, 16), clock.now), "budget_day", "key:a", 14h);
  // The lowered reservation settles like any other.
  state.settle(lowerable("c", {key}, 16), {.tokens = 10, .micro_usd = 200}, clock.now);
  EXPECT_EQ(state.usage("key:a", clock.now).day_reserved, 20'200);
}

TEST(LimitStateTest, TpmLowersTheOutputAndTheMinimumDecidesARefusal) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.tpm = 1500});
  ASSERT_EQ(state.admit(lowerable("a", {key}, 16), clock.now).output_tokens, 1000u);
  // 1'050 of 1'500 in the window: 50 prompt + g <= 450 -> g = 400.
  const Admission lowered = state.admit(lowerable("b", {key}, 16), clock.now);
  ASSERT_TRUE(lowered.admitted);
  EXPECT_EQ(lowered.output_tokens, 400u);
  EXPECT_EQ(state.usage("key:a", clock.now).tokens, 1500u);
  EXPECT_FALSE(state.admit(lowerable("c", {key}, 16), clock.now).admitted);
}

TEST(LimitStateTest, WithoutAMinimumBelowTheCapNothingIsLowered) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.budget_day_usd = 0.015});
  ASSERT_TRUE(state.admit(lowerable("a", {key}, 1000), clock.now).admitted);
  expectRefused(state.admit(lowerable("b", {key}, 1000), clock.now), "budget_day", "key:a", 14h);
  expectRefused(state.admit(request("c", {key}, 1050, 10'100), clock.now), "budget_day", "key:a",
                14h);
}

TEST(LimitStateTest, DayRolloverResetsTheDayBudgetButNotTheMonth) {
  LimitState state;
  FakeClock clock;
  const auto key = subject("key:a", {.budget_day_usd = 1.0, .budget_month_usd = 1.5});
  const auto spend = request("a", {key}, 0, 900'000);
  ASSERT_TRUE(state.admit(spend, clock.now).admitted);
  state.settle(spend, {.micro_usd = 900'000}, clock.now);
  expectRefused(state.admit(request("b", {key}, 0, 200'000), clock.now), "budget_day", "key:a",
                14h);
  clock.advance(14h);  // 2026-11-27T00:00:00Z
  const auto next = request("b", {key}, 0, 200'000);
  EXPECT_TRUE(state.admit(next, clock.now).admitted);
  state.settle(next, {.micro_usd = 200'000}, clock.now);
  EXPECT_EQ(state.usage("key:a", clock.now).day_spent, 200'000);
  EXPECT_EQ(state.usage("key:a", clock.now).month_spent, 1'100'000);
  expectRefused(state.admit(request("c", {key}, 0, 500'000), clock.now), "budget_month", "key:a",
                std::chrono::seconds{4 * 86400});
}

TEST(LimitStateTest, MonthRolloverResetsTheMonthBudget) {
  LimitState state;
  FakeClock clock{.now = at(2026, 12, 31, 23h + 59min + 59s)};
  const auto key = subject("key:a", {.budget_month_usd = 1.0});
  const auto spend = request("a", {key}, 0, 1'000'000);
  ASSERT_TRUE(state.admit(spend, clock.now).admitted);
  state.settle(spend, {.micro_usd = 1'000'000}, clock.now);
  expectRefused(state.admit(request("b", {key}, 0, 1), clock.now), "budget_month", "key:a", 1s);
  clock.advance(1s);
  EXPECT_TRUE(state.admit(request("b", {key}, 0, 1), clock.now).admitted);
}

TEST(LimitStateTest, SettleAfterDayRolloverDoesNotReleaseFromTheNewDay) {
  LimitState state;
  FakeClock clock{.now = at(2026, 11, 26, 23h + 59min)};
  const auto key = subject("key:a", {.budget_day_usd = 1.0});
  const auto old = request("old", {key}, 0, 500'000);
  ASSERT_TRUE(state.admit(old, clock.now).admitted);
  clock.advance(2min);
  ASSERT_TRUE(state.admit(request("new", {key}, 0, 300'000), clock.now).admitted);
  state.settle(old, {.micro_usd = 200'000}, clock.now);
  const ScopeUsage usage = state.usage("key:a", clock.now);
  EXPECT_EQ(usage.day_reserved, 300'000);  // the new day's reservation is intact
  EXPECT_EQ(usage.day_spent, 200'000);     // the cost lands in the day it was settled
  EXPECT_EQ(usage.month_reserved, 300'000);
  EXPECT_EQ(usage.month_spent, 200'000);
}

TEST(LimitStateTest, ExpiredLeaseFreesItsSlotAndReservation) {
  LimitState state(std::chrono::seconds{300});
  FakeClock clock;
  const auto key = subject("key:a", {.concurrency = 1, .budget_day_usd = 1.0});
  const auto lost = request("lost", {key}, 0, 800'000);
  ASSERT_TRUE(state.admit(lost, clock.now).admitted);
  clock.advance(299s);
  expectRefused(state.admit(request("b", {key}), clock.now), "concurrency", "key:a", 1s);
  clock.advance(1s);
  EXPECT_TRUE(state.admit(request("b", {key}, 0, 900'000), clock.now).admitted);
  // A late settle of the expired request records its cost but releases nothing else.
  state.settle(lost, {.micro_usd = 50'000}, clock.now);
  const ScopeUsage usage = state.usage("key:a", clock.now);
  EXPECT_EQ(usage.leases, 1u);
  EXPECT_EQ(usage.day_reserved, 900'000);
  EXPECT_EQ(usage.day_spent, 50'000);
}

TEST(LimitStateTest, EmptySubjectsAdmitWithoutState) {
  LimitState state;
  EXPECT_TRUE(state.admit(request("a", {}), kStart).admitted);
  state.settle(request("a", {}), {.micro_usd = 5}, kStart);
  EXPECT_TRUE(state.dirtySpend().empty());
}

TEST(LimitStateTest, DirtySpendReportsEachChangedPeriodOnceIncludingEndedDays) {
  LimitState state;
  FakeClock clock{.now = at(2026, 11, 26, 23h + 59min + 59s)};
  const auto key = subject("key:a", {});
  state.admit(request("a", {key}), clock.now);
  state.settle(request("a", {key}), {.micro_usd = 10}, clock.now);
  EXPECT_EQ(state.dirtySpend(),
            (std::vector<SpendRecord>{{"key:a", "2026-11-26", 10}, {"key:a", "2026-11", 10}}));
  EXPECT_TRUE(state.dirtySpend().empty());
  state.settle(request("b", {key}), {.micro_usd = 5}, clock.now);
  clock.advance(1s);  // the day ends before the export
  state.settle(request("c", {key}), {.micro_usd = 7}, clock.now);
  EXPECT_EQ(state.dirtySpend(), (std::vector<SpendRecord>{{"key:a", "2026-11-26", 15},
                                                          {"key:a", "2026-11-27", 7},
                                                          {"key:a", "2026-11", 22}}));
}

TEST(LimitStateTest, LoadSpendRestoresOnlyTheCurrentDayAndMonth) {
  LimitState state;
  const std::vector<SpendRecord> records = {{"key:a", "2026-11-26", 700'000},
                                            {"key:a", "2026-11", 2'000'000},
                                            {"key:a", "2026-11-25", 9'000'000},
                                            {"key:a", "2026-10", 9'000'000},
                                            {"key:b", "2026-11", 1},
                                            {"key:a", "2026-13", 1},
                                            {"key:a", "2026-11-31", 1},
                                            {"key:a", "yesterday", 1}};
  EXPECT_EQ(state.loadSpend(records, kStart), 3u);
  const ScopeUsage usage = state.usage("key:a", kStart);
  EXPECT_EQ(usage.day_spent, 700'000);
  EXPECT_EQ(usage.month_spent, 2'000'000);
  EXPECT_EQ(state.usage("key:b", kStart).month_spent, 1);
  EXPECT_TRUE(state.dirtySpend().empty());
  const auto key = subject("key:a", {.budget_day_usd = 1.0});
  expectRefused(state.admit(request("x", {key}, 0, 300'001), kStart), "budget_day", "key:a", 14h);
}

TEST(LimitStateTest, PeriodNamesAreUtcDayAndMonth) {
  EXPECT_EQ(LimitState::dayPeriod(kStart), "2026-11-26");
  EXPECT_EQ(LimitState::monthPeriod(kStart), "2026-11");
  EXPECT_EQ(LimitState::dayPeriod(at(2027, 1, 1, 0s)), "2027-01-01");
  EXPECT_EQ(LimitState::monthPeriod(at(2026, 12, 31, 23h + 59min + 59s)), "2026-12");
}

}  // namespace
}  // namespace sy::policies
