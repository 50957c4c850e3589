// The rate-limit and budget semantics as a deterministic state machine: per scope, a sliding
// minute of requests and tokens, concurrency leases, and spend per UTC day and UTC month. Time
// is an argument (there is no clock inside), so tests drive it with a fake clock. It is the
// LocalLimitStore's state and the reference model the Redis store's Lua scripts must match.
// Pure CPU, no I/O. NOT thread-safe: the owner serializes every call (including const ones).
// The protocol (admit, then settle) is described in gateway/server/state/limit_store.h.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policies/access_config.h"

namespace sy::policies {

// One set of limits to enforce: "key:<id>" or "team:<name>".
struct LimitSubject {
  std::string scope;
  Limits limits;
};

struct AdmitRequest {
  std::vector<LimitSubject> subjects;  // distinct scopes; empty: admit() admits, touches nothing
  uint64_t tokens = 0;                 // worst case: prompt estimate + max output tokens
  int64_t micro_usd = 0;               // worst-case cost, in millionths of a dollar (< 0 is 0)
  std::string request_id;              // names the reservation and the lease; unique in flight
  // The Redis store keeps every subject's counters under this scope's hash tag, so one script
  // touches one Redis Cluster slot: the team's scope when the key has a team (stable whether or
  // not the team has limits), else the key's. Empty: the team subject's scope, else the first
  // subject's. LimitState ignores it.
  std::string hash_tag{};
  // The output part of the worst case, which admit() may lower to fit tpm and budgets: of
  // `tokens`, `output_tokens` are the request's output cap, each costing (at most)
  // `micro_usd_per_output_token` of `micro_usd`. admit() grants g output tokens, at least
  // min(min_output_tokens, output_tokens), and reserves tokens - (output_tokens - g) and
  // micro_usd - floor((output_tokens - g) * micro_usd_per_output_token). min_output_tokens >=
  // output_tokens (the default, 0 and 0) never lowers: the whole worst case fits or is refused.
  uint64_t output_tokens = 0;
  uint64_t min_output_tokens = UINT64_MAX;
  double micro_usd_per_output_token = 0;
};

struct Admission {
  bool admitted = false;
  uint64_t output_tokens = 0;  // when admitted: the output granted (request.output_tokens if not
                               // lowered); the caller tells the upstream no more
  // When refused: which limit ("rpm", "tpm", "concurrency", "budget_day", "budget_month"), of
  // which subject scope, and when a retry may succeed (whole seconds, >= 1).
  std::string limit;
  std::string scope;
  std::chrono::seconds retry_after{0};
};

struct Usage {
  uint64_t tokens = 0;    // prompt + completion actually used
  int64_t micro_usd = 0;  // actual cost (< 0 is 0)
};

// The spend of one scope in one period, as persisted: the value is absolute (upsert, not add).
struct SpendRecord {
  std::string scope;
  std::string period;  // a UTC day "2026-11-26" or a UTC month "2026-11"
  int64_t micro_usd = 0;
  bool operator==(const SpendRecord&) const = default;
};

// One scope's counters as admit() would see them at an instant.
struct ScopeUsage {
  uint64_t requests = 0;  // admitted in the last 60 bucket-aligned seconds
  uint64_t tokens = 0;    // reserved or used by those requests
  uint32_t leases = 0;    // live concurrency leases
  int64_t day_spent = 0;  // micro-USD, current UTC day
  int64_t day_reserved = 0;
  int64_t month_spent = 0;  // micro-USD, current UTC month
  int64_t month_reserved = 0;
};

class LimitState {
 public:
  using TimePoint = std::chrono::system_clock::time_point;  // UTC (Unix time)
  static constexpr int64_t kWindowSeconds = 60;
  static constexpr std::chrono::seconds kDefaultLeaseTtl{600};

  // `lease_ttl` (>= 1 s) bounds how long an admitted request holds its concurrency slot and its
  // budget reservation if settle() never comes (a crash, a lost settle).
  explicit LimitState(std::chrono::seconds lease_ttl = kDefaultLeaseTtl);

  // Checks every subject in order, and per subject rpm, tpm, concurrency, budget_day,
  // budget_month (a limit of 0 is not checked); the first failure is the answer. With g the
  // output granted so far (starting at request.output_tokens) and tokens(g), micro(g) the
  // reservation at g (see AdmitRequest), tpm and budgets lower g to the most that fits and fail
  // only when that is under the minimum output m:
  //   rpm:    requests in window + 1 > rpm
  //   tpm:    tokens in window + tokens(m) > tpm; a request with tokens(m) > tpm alone is
  //           refused with retry_after 60 (it can never pass: the caller's message says so)
  //   concurrency: live leases + 1 > concurrency, retry_after 1
  //   budget_day / budget_month: spent + reserved + micro(m) > budget, retry_after =
  //           seconds to the next UTC midnight / the first of the next UTC month
  // For rpm and tpm, retry_after is the wait until the oldest buckets whose leaving makes room
  // have left the window (1..60). A refusal changes no counter. When every subject passes, for
  // each: counts 1 request and tokens(g) in the bucket of `now`, takes a lease expiring at
  // now + lease_ttl, and adds micro(g) to the day's and the month's reserved; the answer
  // carries g.
  Admission admit(const AdmitRequest& request, TimePoint now);

  // Ends an admitted request, per subject: releases what admit() reserved for request.request_id
  // (the lease; the reserved micro-USD, from the day/month the reservation was made in only if
  // that period is still current; never below 0), corrects the admit bucket's tokens by
  // used.tokens - reserved tokens (floor 0) if that bucket is still in the window, and adds
  // used.micro_usd to the current day's and month's spent. If the lease has expired (its
  // reservation was already released) or never existed, only the spend is recorded. Calling it
  // twice for one request records the spend twice.
  void settle(const AdmitRequest& request, const Usage& used, TimePoint now);

  // The counters of `scope` at `now` (zeros for an unknown scope). Drops the scope's expired
  // leases and starts its new day/month as admit() would; changes nothing else.
  ScopeUsage usage(std::string_view scope, TimePoint now);

  // The spend changed since the previous call, one record per (scope, period), including periods
  // that ended since then; clears the dirty marks. The caller persists them; if that fails it
  // must keep them (values are absolute, so newer records of the same key supersede them).
  std::vector<SpendRecord> dirtySpend();

  // Sets the spent of the current UTC day and month (at `now`) from persisted records; records
  // of other periods and malformed periods are ignored. Replaces in-memory spend of those
  // periods; marks nothing dirty. Returns how many records were applied.
  size_t loadSpend(const std::vector<SpendRecord>& records, TimePoint now);

  // Period names of `now`: "2026-11-26" and "2026-11".
  static std::string dayPeriod(TimePoint now);
  static std::string monthPeriod(TimePoint now);

 private:
  struct Bucket {
    int64_t second = INT64_MIN;  // Unix second this bucket counts
    uint64_t requests = 0;
    uint64_t tokens = 0;
  };
  struct Period {
    int64_t index = INT64_MIN;  // days since the epoch, or year * 12 + month - 1
    int64_t spent = 0;
    int64_t reserved = 0;
    bool dirty = false;
  };
  struct Lease {
    TimePoint expires;
    int64_t admit_second = 0;
    uint64_t tokens = 0;
    int64_t micro_usd = 0;
  };
  struct Scope {
    std::array<Bucket, kWindowSeconds> buckets;
    std::unordered_map<std::string, Lease> leases;
    std::set<std::pair<TimePoint, std::string>> by_expiry;
    Period day;
    Period month;
  };

  // Drops expired leases (releasing their reservations) and starts a new day/month if `now` is
  // in another one.
  void normalize(const std::string& name, Scope& scope, TimePoint now);
  void roll(const std::string& name, Period& period, int64_t index, bool is_day);
  // Removes a lease, releasing its reservation from the periods it was made in.
  void dropLease(Scope& scope, std::unordered_map<std::string, Lease>::iterator it);
  // The first limit of `subject` the request would exceed even at its minimum output, or
  // nullopt; lowers `granted` to the most output this subject's tpm and budgets leave room for.
  static std::optional<Admission> check(const LimitSubject& subject, const Scope& scope,
                                        const AdmitRequest& request, TimePoint now,
                                        uint64_t& granted);
  void commit(Scope& scope, const AdmitRequest& request, TimePoint now);
  // Requests and tokens of the buckets in the window (now - 60 s, now].
  static std::pair<uint64_t, uint64_t> windowTotals(const Scope& scope, int64_t now_second);
  // Seconds until the oldest in-window buckets holding at least `excess` of the counter leave.
  static int64_t secondsUntilFreed(const Scope& scope, int64_t now_second, uint64_t excess,
                                   bool tokens);

  std::chrono::seconds lease_ttl_;
  std::map<std::string, Scope, std::less<>> scopes_;
  std::vector<SpendRecord> retired_;  // dirty spend of periods that ended before dirtySpend()
};

}  // namespace sy::policies
