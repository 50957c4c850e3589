#include "router/selection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "router/backend_state.h"
#include "router/retry.h"

namespace sy::router {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Time only moves when a test says so. Atomic so the multi-threaded test may advance it.
class FakeClock {
 public:
  NowFn fn() {
    return [this] { return SteadyClock::time_point(SteadyClock::duration(ticks_.load())); };
  }
  void advance(SteadyClock::duration d) { ticks_.fetch_add(d.count()); }

 private:
  std::atomic<SteadyClock::rep> ticks_{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
};

BackendSpec backend(std::string name, Location location = Location::SelfHosted) {
  BackendSpec spec;
  spec.name = std::move(name);
  spec.location = location;
  return spec;
}

// A BackendStates on a fake clock plus a few backends, for the tests below.
struct Fixture {
  explicit Fixture(SelectionPolicy policy = {}) : states(policy, clock.fn()) {}
  FakeClock clock;
  BackendStates states;
  BackendSpec a = backend("a");
  BackendSpec b = backend("b");
  BackendSpec c = backend("c");
  BackendSpec d = backend("d");

  void fail(std::string_view name, int times, Outcome outcome = Outcome::ServerError) {
    for (int i = 0; i < times; ++i) {
      Inflight guard = states.state(name).acquire();
      ASSERT_TRUE(guard) << name;
      guard.report(outcome);
    }
  }
};

std::vector<std::string> names(const Selection& selection) {
  std::vector<std::string> out;
  for (const Pick& pick : selection.picks) {
    out.push_back(pick.spec->name);
  }
  return out;
}

// How often each backend comes first over `draws` seeded orders.
std::map<std::string, double> firstShares(BackendStates& states,
                                          const std::vector<Candidate>& candidates, int draws) {
  std::map<std::string, int> wins;
  for (int seed = 0; seed < draws; ++seed) {
    Selection selection = states.order(candidates, static_cast<uint64_t>(seed));
    ++wins[selection.picks.front().spec->name];
  }
  std::map<std::string, double> shares;
  for (const auto& [name, count] : wins) {
    shares[name] = static_cast<double>(count) / draws;
  }
  return shares;
}

std::vector<Inflight> hold(BackendState& state, int count) {
  std::vector<Inflight> guards;
  for (int i = 0; i < count; ++i) {
    guards.push_back(state.acquire());
  }
  return guards;
}

// --- Selection ---

TEST(SelectionTest, EqualIdleBackendsShareTheFirstPlaceEvenly) {
  Fixture f;
  auto shares = firstShares(f.states, {{&f.a, 1}, {&f.b, 1}}, 20000);
  EXPECT_NEAR(shares["a"], 0.5, 0.02);
  EXPECT_NEAR(shares["b"], 0.5, 0.02);
}

TEST(SelectionTest, PowerOfTwoPrefersTheLessLoadedBackend) {
  Fixture f;
  // Outstanding 0, 1, 2, 3: the least loaded wins every pair it is drawn in.
  auto hold_b = hold(f.states.state("b"), 1);
  auto hold_c = hold(f.states.state("c"), 2);
  auto hold_d = hold(f.states.state("d"), 3);
  auto shares = firstShares(f.states, {{&f.a, 1}, {&f.b, 1}, {&f.c, 1}, {&f.d, 1}}, 20000);
  EXPECT_NEAR(shares["a"], 3.0 / 6, 0.02);  // in 3 of the 6 pairs
  EXPECT_NEAR(shares["b"], 2.0 / 6, 0.02);
  EXPECT_NEAR(shares["c"], 1.0 / 6, 0.02);
  EXPECT_EQ(shares["d"], 0.0);  // the most loaded never wins a pair
}

TEST(SelectionTest, HeavierBackendWinsAtEqualOutstanding) {
  Fixture f;
  auto shares = firstShares(f.states, {{&f.a, 1}, {&f.b, 3}}, 2000);
  EXPECT_EQ(shares["b"], 1.0);  // score 1/3 < 1/1
}

TEST(SelectionTest, WeightDrawsTheFirstContenderOnATiedScore) {
  Fixture f;
  // a: (2+1)/3 = 1, b: (0+1)/1 = 1. A tie goes to the first drawn, drawn in proportion to weight.
  auto hold_a = hold(f.states.state("a"), 2);
  auto shares = firstShares(f.states, {{&f.a, 3}, {&f.b, 1}}, 20000);
  EXPECT_NEAR(shares["a"], 0.75, 0.02);
}

TEST(SelectionTest, ZeroWeightIsTreatedAsOne) {
  Fixture f;
  auto shares = firstShares(f.states, {{&f.a, 0}, {&f.b, 1}}, 20000);
  EXPECT_NEAR(shares["a"], 0.5, 0.02);
}

TEST(SelectionTest, FailoverOrderIsByScoreThenCandidateOrder) {
  Fixture f;
  auto hold_a = hold(f.states.state("a"), 4);
  auto hold_c = hold(f.states.state("c"), 1);
  std::vector<Candidate> candidates = {{&f.a, 1}, {&f.b, 1}, {&f.c, 1}, {&f.d, 1}};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Selection selection = f.states.order(candidates, seed);
    ASSERT_FALSE(selection.panic);
    std::vector<std::string> got = names(selection);
    ASSERT_EQ(got.size(), 4u);
    std::vector<std::string> rest(got.begin() + 1, got.end());
    std::vector<std::string> expected;
    for (const char* name : {"b", "d", "c", "a"}) {  // scores 1, 1, 2, 5
      if (got.front() != name) {
        expected.push_back(name);
      }
    }
    EXPECT_EQ(rest, expected) << "seed " << seed;
  }
}

TEST(SelectionTest, SameSeedGivesTheSameOrder) {
  Fixture f;
  std::vector<Candidate> candidates = {{&f.a, 1}, {&f.b, 2}, {&f.c, 1}};
  EXPECT_EQ(names(f.states.order(candidates, 42)), names(f.states.order(candidates, 42)));
}

TEST(SelectionTest, SkipsBackendsWithAnOpenBreaker) {
  Fixture f;
  f.fail("b", 5);
  ASSERT_EQ(f.states.state("b").breaker(), BreakerState::Open);
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Selection selection =
        f.states.order(std::vector<Candidate>{{&f.a, 1}, {&f.b, 5}, {&f.c, 1}}, seed);
    EXPECT_FALSE(selection.panic);
    std::vector<std::string> got = names(selection);
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), (std::set<std::string>{"a", "c"}));
  }
}

TEST(SelectionTest, HalfOpenBackendIsOfferedOnlyWhileItsProbeSlotIsFree) {
  Fixture f;
  std::vector<Candidate> candidates = {{&f.a, 1}, {&f.b, 1}};
  f.fail("b", 5);
  f.clock.advance(seconds(10));
  EXPECT_EQ(names(f.states.order(candidates, 1)).size(), 2u);
  Inflight probe = f.states.state("b").acquire();
  ASSERT_TRUE(probe.probe());
  EXPECT_EQ(names(f.states.order(candidates, 1)), (std::vector<std::string>{"a"}));
}

TEST(SelectionTest, PanicReturnsEveryCandidateWhenNoneIsAdmissible) {
  Fixture f;
  f.fail("a", 5);
  f.fail("b", 5);
  std::vector<Candidate> candidates = {{&f.a, 1}, {&f.b, 1}};
  Selection selection = f.states.order(candidates, 7);
  EXPECT_TRUE(selection.panic);
  std::vector<std::string> got = names(selection);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), (std::set<std::string>{"a", "b"}));
  // Without the panic flag the breaker refuses; with it the try is admitted (not as a probe).
  EXPECT_FALSE(selection.picks[0].state->acquire());
  Inflight forced = selection.picks[0].state->acquire(selection.panic);
  EXPECT_TRUE(forced);
  EXPECT_FALSE(forced.probe());
  EXPECT_EQ(selection.picks[0].state->outstanding(), 1u);
}

TEST(SelectionTest, ActivelyUnhealthyBackendsAreSkippedAndCauseThePanicWhenAllAre) {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    f.states.recordProbe("a", false);
  }
  std::vector<Candidate> candidates = {{&f.a, 1}, {&f.b, 1}};
  EXPECT_EQ(names(f.states.order(candidates, 3)), (std::vector<std::string>{"b"}));
  for (int i = 0; i < 3; ++i) {
    f.states.recordProbe("b", false);
  }
  Selection selection = f.states.order(candidates, 3);
  EXPECT_TRUE(selection.panic);
  EXPECT_EQ(selection.picks.size(), 2u);
}

TEST(SelectionTest, EmptyCandidatesGiveAnEmptySelection) {
  Fixture f;
  Selection selection = f.states.order({}, 1);
  EXPECT_TRUE(selection.picks.empty());
}

TEST(SelectionTest, StateReferencesSurviveNewBackendsAndSnapshotIsSortedByName) {
  Fixture f;
  BackendState& b = f.states.state("b");
  for (int i = 0; i < 100; ++i) {
    f.states.state("x" + std::to_string(i));
  }
  EXPECT_EQ(&b, &f.states.state("b"));
  f.fail("b", 5);
  auto guard = f.states.state("a").acquire();
  std::vector<BackendStatus> snapshot = f.states.snapshot();
  ASSERT_EQ(snapshot.size(), 102u);
  EXPECT_EQ(snapshot[0].name, "a");
  EXPECT_EQ(snapshot[0].outstanding, 1u);
  EXPECT_EQ(snapshot[1].name, "b");
  EXPECT_EQ(snapshot[1].breaker, BreakerState::Open);
  EXPECT_EQ(static_cast<int>(snapshot[1].breaker), 1);
  EXPECT_EQ(snapshot[1].ejections_total, 1u);
  EXPECT_TRUE(snapshot[1].healthy);
}

// --- Breaker ---

TEST(BreakerTest, OpensAfterTheConfiguredRunOfFailures) {
  Fixture f;
  BackendState& a = f.states.state("a");
  f.fail("a", 2, Outcome::ConnectError);
  f.fail("a", 2, Outcome::Timeout);
  EXPECT_EQ(a.breaker(), BreakerState::Closed);
  EXPECT_EQ(a.status().consecutive_failures, 4u);
  f.fail("a", 1, Outcome::ServerError);
  EXPECT_EQ(a.breaker(), BreakerState::Open);
  EXPECT_EQ(a.status().ejections_total, 1u);
  EXPECT_EQ(a.status().consecutive_failures, 0u);
  EXPECT_FALSE(a.admissible());
  EXPECT_FALSE(a.acquire());
}

TEST(BreakerTest, SuccessAndClientErrorResetTheRun) {
  Fixture f;
  BackendState& a = f.states.state("a");
  f.fail("a", 4);
  f.fail("a", 1, Outcome::Success);
  f.fail("a", 4);
  f.fail("a", 1, Outcome::ClientError);
  f.fail("a", 4);
  EXPECT_EQ(a.breaker(), BreakerState::Closed);
  EXPECT_EQ(a.status().ejections_total, 0u);
}

TEST(BreakerTest, RateLimitedAndCancelledAreNeutral) {
  Fixture f;
  BackendState& a = f.states.state("a");
  f.fail("a", 20, Outcome::RateLimited);
  f.fail("a", 20, Outcome::Cancelled);
  EXPECT_EQ(a.breaker(), BreakerState::Closed);
  f.fail("a", 4);
  f.fail("a", 1, Outcome::RateLimited);  // does not reset the run either
  EXPECT_EQ(a.status().consecutive_failures, 4u);
  f.fail("a", 1);
  EXPECT_EQ(a.breaker(), BreakerState::Open);
}

TEST(BreakerTest, HalfOpenAdmitsOneProbeAtATimeAndSuccessCloses) {
  Fixture f;
  BackendState& a = f.states.state("a");
  f.fail("a", 5);
  f.clock.advance(seconds(10) - milliseconds(1));
  EXPECT_EQ(a.breaker(), BreakerState::Open);
  EXPECT_FALSE(a.acquire());
  f.clock.advance(milliseconds(1));
  EXPECT_EQ(a.breaker(), BreakerState::HalfOpen);
  EXPECT_TRUE(a.admissible());
  Inflight probe = a.acquire();
  ASSERT_TRUE(probe);
  EXPECT_TRUE(probe.probe());
  EXPECT_FALSE(a.admissible());
  EXPECT_FALSE(a.acquire());  // the slot is taken
  probe.report(Outcome::Success);
  EXPECT_EQ(a.breaker(), BreakerState::Closed);
  Inflight normal = a.acquire();
  EXPECT_TRUE(normal);
  EXPECT_FALSE(normal.probe());
}

TEST(BreakerTest, ProbeFailuresDoubleTheOpenTimeUpToTheCap) {
  Fixture f;
  BackendState& a = f.states.state("a");
  f.fail("a", 5);
  const int expected_seconds[] = {10, 20, 40, 80, 160, 300, 300, 300};
  for (int open_seconds : expected_seconds) {
    f.clock.advance(seconds(open_seconds) - milliseconds(1));
    ASSERT_EQ(a.breaker(), BreakerState::Open) << open_seconds;
    f.clock.advance(milliseconds(1));
    ASSERT_EQ(a.breaker(), BreakerState::HalfOpen) << open_seconds;
    Inflight probe = a.acquire();
    ASSERT_TRUE(probe.probe());
    probe.report(Outcome::ConnectError);
  }
  EXPECT_EQ(a.status().ejections_total, 9u);
}

TEST(BreakerTest, StatusCountsEveryTransitionToOpenHalfOpenAndClosed) {
  Fixture f;
  BackendState& a = f.states.state("a");
  auto transitions = [&] {
    const BackendStatus status = a.status();
    return std::vector<uint64_t>{status.ejections_total, status.half_opens_total,
                                 status.closes_total};
  };
  EXPECT_EQ(transitions(), (std::vector<uint64_t>{0, 0, 0}));
  f.fail("a", 5);  // closed -> open
  EXPECT_EQ(transitions(), (std::vector<uint64_t>{1, 0, 0}));
  f.clock.advance(seconds(10));  // -> half-open, by time alone
  EXPECT_EQ(transitions(), (std::vector<uint64_t>{1, 1, 0}));
  a.acquire().report(Outcome::ConnectError);  // the probe fails: -> open again
  EXPECT_EQ(transitions(), (std::vector<uint64_t>{2, 1, 0}));
  f.clock.advance(seconds(20));
  EXPECT_EQ(transitions(), (std::vector<uint64_t>{2, 2, 0}));
  a.acquire().report(Outcome::Success);  // the probe succeeds: -> closed
  EXPECT_EQ(transitions(), (std::vector<uint64_t>{2, 2, 1}));
  f.clock.advance(seconds(600));  // closed stays closed: nothing more
  EXPECT_EQ(transitions(), (std::vector<uint64_t>{2, 2, 1}));
}

TEST(BreakerTest, QuickRelapseKeepsTheStreakButALongCalmResetsIt) {
  Fixture f;
  BackendState& a = f.states.state("a");
  auto eject_and_close = [&](seconds expected_open) {
    f.fail("a", 5);
    f.clock.advance(expected_open - milliseconds(1));
    ASSERT_EQ(a.breaker(), BreakerState::Open);
    f.clock.advance(milliseconds(1));
    Inflight probe = a.acquire();
    ASSERT_TRUE(probe.probe());
    probe.report(Outcome::Success);
    ASSERT_EQ(a.breaker(), BreakerState::Closed);
  };
  eject_and_close(seconds(10));
  f.clock.advance(seconds(30));
  eject_and_close(seconds(20));  // relapse within streak_reset_after
  f.clock.advance(seconds(300));
  eject_and_close(seconds(10));  // five calm minutes: a fresh problem
}

TEST(BreakerTest, NeutralOrAbandonedProbeFreesTheSlot) {
  Fixture f;
  BackendState& a = f.states.state("a");
  f.fail("a", 5);
  f.clock.advance(seconds(10));
  {
    Inflight probe = a.acquire();
    ASSERT_TRUE(probe.probe());
    probe.report(Outcome::RateLimited);
    EXPECT_EQ(a.breaker(), BreakerState::HalfOpen);
    EXPECT_TRUE(a.admissible());  // freed on report, before the guard ends
  }
  {
    Inflight probe = a.acquire();
    ASSERT_TRUE(probe.probe());
  }  // destroyed unreported: counts as cancelled
  Inflight probe = a.acquire();
  ASSERT_TRUE(probe.probe());
  probe.report(Outcome::Success);
  EXPECT_EQ(a.breaker(), BreakerState::Closed);
  EXPECT_EQ(a.status().ejections_total, 1u);
}

TEST(BreakerTest, OutcomesOfTriesStartedBeforeTheEjectionDoNotMoveIt) {
  Fixture f;
  BackendState& a = f.states.state("a");
  std::vector<Inflight> late = hold(a, 3);
  f.fail("a", 5);
  late[0].report(Outcome::ServerError);
  late[1].report(Outcome::Success);  // not a probe: does not close
  EXPECT_EQ(a.breaker(), BreakerState::Open);
  EXPECT_EQ(a.status().ejections_total, 1u);
  f.clock.advance(seconds(10));
  late[2].report(Outcome::Success);  // half-open now, but it is still not the probe
  EXPECT_EQ(a.breaker(), BreakerState::HalfOpen);
}

TEST(BreakerTest, FailureRatioOverTheWindowOpensIt) {
  SelectionPolicy policy;
  policy.consecutive_failures = 0;  // only the ratio
  policy.failure_ratio = 0.5;
  policy.ratio_min_requests = 10;
  policy.ratio_window = seconds(10);
  Fixture f(policy);
  BackendState& a = f.states.state("a");
  // 2 failures per success: 1/3 success. Below 10 outcomes nothing happens.
  for (int i = 0; i < 3; ++i) {
    f.fail("a", 2);
    f.fail("a", 1, Outcome::Success);
  }
  EXPECT_EQ(a.breaker(), BreakerState::Closed);  // 9 outcomes
  // The 10th outcome: 7 failures of 10 > 0.5.
  f.fail("a", 1);
  EXPECT_EQ(a.breaker(), BreakerState::Open);
}

TEST(BreakerTest, FailureRatioForgetsOutcomesOfAnOldWindow) {
  SelectionPolicy policy;
  policy.consecutive_failures = 0;
  policy.failure_ratio = 0.5;
  policy.ratio_min_requests = 10;
  policy.ratio_window = seconds(10);
  Fixture f(policy);
  BackendState& a = f.states.state("a");
  for (int window = 0; window < 5; ++window) {
    f.fail("a", 6);  // 6 failures per window, never 10 outcomes in one
    f.clock.advance(seconds(10));
  }
  EXPECT_EQ(a.breaker(), BreakerState::Closed);
  f.fail("a", 5);
  f.fail("a", 5, Outcome::Success);
  EXPECT_EQ(a.breaker(), BreakerState::Closed);  // 5 of 10 is not more than half
}

// A policy reload: new thresholds for every backend, nothing reset.
TEST(BreakerTest, ANewPolicyAppliesToTheLiveStateWithoutResettingIt) {
  Fixture f;  // 5 failures in a row open a breaker for 10 s
  BackendState& a = f.states.state("a");
  BackendState& b = f.states.state("b");
  f.fail("a", 2);
  f.fail("b", 5);  // open until +10 s
  for (int i = 0; i < 3; ++i) {
    f.states.recordProbe("c", false);
  }
  SelectionPolicy reloaded;
  reloaded.consecutive_failures = 3;
  reloaded.ejection_base = seconds(30);
  reloaded.ejection_max = seconds(60);
  reloaded.healthy_threshold = 1;
  f.states.setPolicy(reloaded);
  EXPECT_EQ(f.states.policy(), reloaded);

  EXPECT_EQ(a.status().consecutive_failures, 2u) << "the run of failures carries on";
  f.fail("a", 1);  // the third in a row: enough under the new policy
  EXPECT_EQ(a.breaker(), BreakerState::Open);
  f.clock.advance(seconds(10));
  EXPECT_EQ(b.breaker(), BreakerState::HalfOpen) << "an open breaker keeps its open time";
  f.clock.advance(seconds(20) - milliseconds(1));
  EXPECT_EQ(a.breaker(), BreakerState::Open) << "a new ejection is open for the new open_for";
  f.clock.advance(milliseconds(1));
  EXPECT_EQ(a.breaker(), BreakerState::HalfOpen);

  BackendState& c = f.states.state("c");
  EXPECT_FALSE(c.healthy()) << "health verdicts survive";
  f.states.recordProbe("c", true);
  EXPECT_TRUE(c.healthy()) << "one pass is enough under the new threshold";

  f.fail("d", 3);  // a backend new with the reload: fresh state, new thresholds
  EXPECT_EQ(f.states.state("d").breaker(), BreakerState::Open);
  EXPECT_EQ(f.states.state("d").status().ejections_total, 1u);
}

// --- Active health ---

TEST(ActiveHealthTest, ThresholdsOfConsecutiveProbesFlipTheVerdict) {
  Fixture f;
  BackendState& a = f.states.state("a");
  EXPECT_TRUE(a.healthy());  // optimistic until probes say otherwise
  f.states.recordProbe("a", false);
  f.states.recordProbe("a", false);
  f.states.recordProbe("a", true);  // breaks the run
  f.states.recordProbe("a", false);
  f.states.recordProbe("a", false);
  EXPECT_TRUE(a.healthy());
  f.states.recordProbe("a", false);
  EXPECT_FALSE(a.healthy());
  EXPECT_FALSE(a.admissible());
  EXPECT_FALSE(a.acquire());
  EXPECT_TRUE(a.acquire(/*panic=*/true));
  f.states.recordProbe("a", true);
  EXPECT_FALSE(a.healthy());
  f.states.recordProbe("a", true);
  EXPECT_TRUE(a.healthy());
  EXPECT_TRUE(a.admissible());
  EXPECT_EQ(a.breaker(), BreakerState::Closed);  // independent of the breaker
  EXPECT_TRUE(f.states.snapshot().front().healthy);
}

// --- Inflight ---

TEST(InflightTest, CountsOutstandingUntilDestroyedAcrossMoves) {
  Fixture f;
  BackendState& a = f.states.state("a");
  {
    Inflight first = a.acquire();
    EXPECT_EQ(a.outstanding(), 1u);
    Inflight moved(std::move(first));
    EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    EXPECT_EQ(a.outstanding(), 1u);
    Inflight assigned = a.acquire();
    EXPECT_EQ(a.outstanding(), 2u);
    assigned = std::move(moved);  // releases the one `assigned` held
    EXPECT_EQ(a.outstanding(), 1u);
    std::vector<Inflight> guards;
    guards.push_back(std::move(assigned));
    guards.push_back(a.acquire());
    EXPECT_EQ(a.outstanding(), 2u);
    guards.front().reset();
    guards.front().reset();  // idempotent
    EXPECT_EQ(a.outstanding(), 1u);
  }
  EXPECT_EQ(a.outstanding(), 0u);
}

TEST(InflightTest, OnlyTheFirstReportCounts) {
  Fixture f;
  BackendState& a = f.states.state("a");
  Inflight guard = a.acquire();
  guard.report(Outcome::ServerError);
  guard.report(Outcome::ServerError);
  guard.report(Outcome::Success);
  EXPECT_EQ(a.status().consecutive_failures, 1u);
  EXPECT_EQ(a.outstanding(), 1u);  // report does not end the try
  Inflight empty;
  empty.report(Outcome::ServerError);  // no-op
  EXPECT_EQ(a.status().consecutive_failures, 1u);
}

// --- Retry ---

TEST(RetryTest, RetryableOutcomesBeforeTheFirstByteOnly) {
  struct Row {
    Outcome outcome;
    bool before_first_byte;
  };
  const Row table[] = {
      {Outcome::ConnectError, true}, {Outcome::Timeout, true},  {Outcome::ServerError, true},
      {Outcome::RateLimited, true},  {Outcome::Success, false}, {Outcome::ClientError, false},
      {Outcome::Cancelled, false},
  };
  for (const Row& row : table) {
    EXPECT_EQ(retryable(row.outcome, false), row.before_first_byte) << toString(row.outcome);
    EXPECT_FALSE(retryable(row.outcome, true)) << toString(row.outcome);
  }
}

TEST(RetryTest, ShouldRetryRespectsTheAttemptBudget) {
  RetryPolicy policy;  // 3 attempts
  EXPECT_TRUE(shouldRetry(policy, 1, Outcome::ServerError, false));
  EXPECT_TRUE(shouldRetry(policy, 2, Outcome::RateLimited, false));
  EXPECT_FALSE(shouldRetry(policy, 3, Outcome::ServerError, false));
  EXPECT_FALSE(shouldRetry(policy, 1, Outcome::ServerError, true));
  EXPECT_FALSE(shouldRetry(policy, 1, Outcome::ClientError, false));
  policy.max_attempts = 0;  // treated as 1: no retry
  EXPECT_FALSE(shouldRetry(policy, 1, Outcome::ConnectError, false));
}

TEST(RetryTest, ATriedBackendIsRetriedAfterConnectErrors429And5xxButNotATimeout) {
  EXPECT_TRUE(retryableOnSameBackend(Outcome::ConnectError));
  EXPECT_TRUE(retryableOnSameBackend(Outcome::ServerError));
  EXPECT_TRUE(retryableOnSameBackend(Outcome::RateLimited));
  EXPECT_FALSE(retryableOnSameBackend(Outcome::Timeout));
  EXPECT_FALSE(retryableOnSameBackend(Outcome::ClientError));
  EXPECT_FALSE(retryableOnSameBackend(Outcome::Cancelled));
  EXPECT_FALSE(retryableOnSameBackend(Outcome::Success));
}

TEST(RetryTest, BackoffStaysWithinTheExponentialCeiling) {
  RetryPolicy policy;  // base 25ms, max 1000ms
  const std::pair<uint32_t, int64_t> ceilings[] = {{0, 25},   {1, 25},    {2, 50},
                                                   {3, 100},  {5, 400},   {6, 800},
                                                   {7, 1000}, {64, 1000}, {1000000, 1000}};
  for (auto [attempt, ceiling] : ceilings) {
    int64_t highest = 0;
    for (uint64_t seed = 0; seed < 2000; ++seed) {
      const int64_t delay = backoff(policy, attempt, seed).count();
      ASSERT_GE(delay, 0);
      ASSERT_LE(delay, ceiling) << "attempt " << attempt;
      highest = std::max(highest, delay);
    }
    EXPECT_GE(highest, ceiling * 9 / 10) << "attempt " << attempt;  // reaches the ceiling
  }
  EXPECT_EQ(backoff(policy, 3, 77), backoff(policy, 3, 77));
}

TEST(RetryTest, BackoffJitterSpreadsUniformly) {
  RetryPolicy policy;
  const int draws = 20000;
  std::set<int64_t> distinct;
  int below_tenth = 0;
  double sum = 0;
  for (int seed = 0; seed < draws; ++seed) {
    const int64_t delay = backoff(policy, 6, static_cast<uint64_t>(seed)).count();  // [0, 800]
    distinct.insert(delay);
    below_tenth += delay < 80 ? 1 : 0;
    sum += static_cast<double>(delay);
  }
  EXPECT_NEAR(sum / draws, 400, 15);
  EXPECT_NEAR(static_cast<double>(below_tenth) / draws, 0.1, 0.015);
  EXPECT_GT(distinct.size(), 700u);
}

TEST(RetryTest, ZeroBaseOrMaxMeansNoDelay) {
  EXPECT_EQ(backoff({3, milliseconds(0), milliseconds(1000)}, 4, 5).count(), 0);
  EXPECT_EQ(backoff({3, milliseconds(25), milliseconds(0)}, 4, 5).count(), 0);
}

// --- Fallback ---

TEST(FallbackTest, NeverFromAllSelfHostedToExternal) {
  BackendSpec local1 = backend("l1");
  BackendSpec local2 = backend("l2");
  BackendSpec cloud = backend("cloud", Location::External);
  using Set = std::vector<const BackendSpec*>;
  EXPECT_FALSE(fallbackAllowed(Set{&local1, &local2}, Set{&cloud}));
  EXPECT_FALSE(fallbackAllowed(Set{&local1}, Set{&local2, &cloud}));
  EXPECT_FALSE(fallbackAllowed(Set{}, Set{&cloud}));  // fail closed
  EXPECT_TRUE(fallbackAllowed(Set{&local1}, Set{&local2}));
  EXPECT_TRUE(fallbackAllowed(Set{&local1, &cloud}, Set{&cloud}));
  EXPECT_TRUE(fallbackAllowed(Set{&cloud}, Set{&local1}));
  EXPECT_TRUE(fallbackAllowed(Set{&local1}, Set{}));
  // A rule that keeps data local forbids external fallback even from a mixed primary.
  EXPECT_FALSE(fallbackAllowed(Set{&local1, &cloud}, Set{&cloud}, true));
  EXPECT_TRUE(fallbackAllowed(Set{&cloud}, Set{&local1}, true));
}

// --- Concurrency ---

TEST(ConcurrencyTest, FourThreadsOnOneStateBalanceOutstandingToZero) {
  SelectionPolicy policy;
  policy.failure_ratio = 0.6;
  policy.ratio_min_requests = 5;
  Fixture f(policy);
  std::vector<Candidate> candidates = {{&f.a, 1}, {&f.b, 2}, {&f.c, 1}};
  std::atomic<uint64_t> tries{0};
  std::atomic<uint32_t> peak{0};
  auto worker = [&](uint64_t id) {
    uint64_t seed = id * 1'000'003;
    for (int i = 0; i < 4000; ++i) {
      ++seed;
      Selection selection = f.states.order(candidates, seed);
      std::vector<Inflight> guards;
      for (const Pick& pick : selection.picks) {
        Inflight guard = pick.state->acquire(selection.panic);
        if (!guard) {
          continue;
        }
        peak.store(std::max(peak.load(), pick.state->outstanding()));
        ++tries;
        const Outcome outcome = static_cast<Outcome>(seed % 7);
        guard.report(outcome);
        if (seed % 3 == 0) {
          guards.push_back(std::move(guard));  // some end late, all at once
        }
        if (!retryable(outcome, false)) {
          break;
        }
      }
      if (id == 0) {
        f.clock.advance(milliseconds(7));
      }
      if (id == 1 && i % 50 == 0) {
        f.states.recordProbe(f.a.name, i % 100 == 0);
      }
      (void)f.states.snapshot();
    }
  };
  std::vector<std::thread> threads;
  for (uint64_t id = 0; id < 4; ++id) {
    threads.emplace_back(worker, id);
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_GE(tries.load(), 16000u);
  EXPECT_GE(peak.load(), 1u);
  uint64_t ejections = 0;
  for (const BackendStatus& status : f.states.snapshot()) {
    EXPECT_EQ(status.outstanding, 0u) << status.name;
    ejections += status.ejections_total;
  }
  EXPECT_GT(ejections, 0u);  // the breakers did work under contention
}

}  // namespace
}  // namespace sy::router
