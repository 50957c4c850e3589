#include "policies/limit_state.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace sy::policies {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::seconds;
using std::chrono::sys_days;

constexpr int64_t kSecondsPerDay = 86400;

int64_t unixSecond(LimitState::TimePoint now) {
  return floor<seconds>(now.time_since_epoch()).count();
}

int64_t dayIndex(LimitState::TimePoint now) { return floor<days>(now).time_since_epoch().count(); }

int64_t monthIndexOf(const std::chrono::year_month_day& ymd) {
  return static_cast<int64_t>(static_cast<int>(ymd.year())) * 12 +
         static_cast<unsigned>(ymd.month()) - 1;
}

int64_t monthIndex(LimitState::TimePoint now) {
  return monthIndexOf(std::chrono::year_month_day{floor<days>(now)});
}

int64_t dayOfSecond(int64_t second) { return floor<days>(seconds{second}).count(); }

int64_t monthOfSecond(int64_t second) {
  return monthIndexOf(std::chrono::year_month_day{sys_days{days{dayOfSecond(second)}}});
}

std::string dayName(int64_t index) {
  const std::chrono::year_month_day ymd{sys_days{days{index}}};
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

std::string monthName(int64_t index) {
  const int64_t year = index >= 0 ? index / 12 : (index - 11) / 12;
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d", static_cast<int>(year),
                static_cast<int>(index - year * 12 + 1));
  return text;
}

// Parses "YYYY-MM-DD" (is_day) or "YYYY-MM" into a period index; nullopt when malformed.
std::optional<std::pair<bool, int64_t>> parsePeriod(std::string_view text) {
  if ((text.size() != 7 && text.size() != 10) || text[4] != '-' ||
      (text.size() == 10 && text[7] != '-')) {
    return std::nullopt;
  }
  auto number = [&](size_t pos, size_t len) -> std::optional<int> {
    int value = 0;
    const char* end = text.data() + pos + len;
    auto [ptr, ec] = std::from_chars(text.data() + pos, end, value);
    if (ec != std::errc() || ptr != end) {
      return std::nullopt;
    }
    return value;
  };
  const auto year = number(0, 4);
  const auto month = number(5, 2);
  if (!year || !month || *month < 1 || *month > 12) {
    return std::nullopt;
  }
  if (text.size() == 7) {
    return std::pair{false, int64_t{*year} * 12 + *month - 1};
  }
  const auto day = number(8, 2);
  if (!day) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{*year},
                                        std::chrono::month{static_cast<unsigned>(*month)},
                                        std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  return std::pair{true, static_cast<int64_t>(sys_days{ymd}.time_since_epoch().count())};
}

int64_t toMicroUsd(double usd) {
  return usd > 0 ? static_cast<int64_t>(std::llround(usd * 1e6)) : 0;
}

Admission admittedAnswer(uint64_t output_tokens) {
  Admission admission;
  admission.admitted = true;
  admission.output_tokens = output_tokens;
  return admission;
}

// The output tokens the request gives back when granted `granted` of its output_tokens.
uint64_t outputGivenBack(const AdmitRequest& request, uint64_t granted) {
  return request.output_tokens - std::min(granted, request.output_tokens);
}

// The reservation at `granted` output tokens (AdmitRequest): its tokens and micro-USD.
uint64_t tokensAt(const AdmitRequest& request, uint64_t granted) {
  return request.tokens - std::min(request.tokens, outputGivenBack(request, granted));
}

int64_t microUsdAt(const AdmitRequest& request, uint64_t granted) {
  const int64_t full = std::max<int64_t>(request.micro_usd, 0);
  const double back = std::floor(static_cast<double>(outputGivenBack(request, granted)) *
                                 std::max(request.micro_usd_per_output_token, 0.0));
  return std::max<int64_t>(full - static_cast<int64_t>(back), 0);
}

// The most output (<= granted) that keeps micro(g) within `room` micro-USD, or nullopt when
// even g = 0 would not: micro(g) <= room <=> floor((out - g) * p) >= micro - room <=>
// out - g >= ceil((micro - room) / p).
std::optional<uint64_t> outputWithin(const AdmitRequest& request, int64_t room, uint64_t granted) {
  const int64_t full = std::max<int64_t>(request.micro_usd, 0);
  if (full <= room) {
    return granted;
  }
  const double per = request.micro_usd_per_output_token;
  if (per <= 0) {
    return std::nullopt;
  }
  const double give_back = std::ceil(static_cast<double>(full - room) / per);
  if (give_back > static_cast<double>(request.output_tokens)) {
    return std::nullopt;
  }
  return std::min(granted, request.output_tokens - static_cast<uint64_t>(give_back));
}

Admission refusal(std::string_view limit, const std::string& scope, int64_t retry_after) {
  return Admission{.admitted = false,
                   .limit = std::string(limit),
                   .scope = scope,
                   .retry_after = seconds{std::max<int64_t>(retry_after, 1)}};
}

}  // namespace

LimitState::LimitState(std::chrono::seconds lease_ttl)
    : lease_ttl_(std::max(lease_ttl, std::chrono::seconds{1})) {}

std::string LimitState::dayPeriod(TimePoint now) { return dayName(dayIndex(now)); }

std::string LimitState::monthPeriod(TimePoint now) { return monthName(monthIndex(now)); }

Admission LimitState::admit(const AdmitRequest& request, TimePoint now) {
  if (request.subjects.empty()) {
    return admittedAnswer(request.output_tokens);
  }
  std::vector<Scope*> scopes;
  scopes.reserve(request.subjects.size());
  for (const LimitSubject& subject : request.subjects) {
    auto it = scopes_.try_emplace(subject.scope).first;
    normalize(it->first, it->second, now);
    scopes.push_back(&it->second);
  }
  uint64_t granted = request.output_tokens;
  for (size_t i = 0; i < scopes.size(); ++i) {
    if (auto refused = check(request.subjects[i], *scopes[i], request, now, granted)) {
      return *std::move(refused);
    }
  }
  AdmitRequest reserved = request;  // the worst case at the granted output
  reserved.tokens = tokensAt(request, granted);
  reserved.micro_usd = microUsdAt(request, granted);
  for (Scope* scope : scopes) {
    commit(*scope, reserved, now);
  }
  return admittedAnswer(granted);
}

std::optional<Admission> LimitState::check(const LimitSubject& subject, const Scope& scope,
                                           const AdmitRequest& request, TimePoint now,
                                           uint64_t& granted) {
  const Limits& limits = subject.limits;
  const int64_t now_second = unixSecond(now);
  const auto [requests, tokens] = windowTotals(scope, now_second);
  const uint64_t least = std::min(request.min_output_tokens, request.output_tokens);
  if (limits.rpm > 0 && requests + 1 > limits.rpm) {
    return refusal("rpm", subject.scope,
                   secondsUntilFreed(scope, now_second, requests + 1 - limits.rpm, false));
  }
  if (limits.tpm > 0) {
    const uint64_t smallest = tokensAt(request, least);
    if (smallest > limits.tpm) {
      return refusal("tpm", subject.scope, kWindowSeconds);
    }
    if (tokens + smallest > limits.tpm) {
      return refusal("tpm", subject.scope,
                     secondsUntilFreed(scope, now_second, tokens + smallest - limits.tpm, true));
    }
    // Room for tokens(g) = fixed + g: g <= tpm - window - fixed (>= least, checked above).
    const uint64_t fixed = tokensAt(request, 0);
    granted = std::min(granted, limits.tpm - tokens - fixed);
  }
  if (limits.concurrency > 0 && scope.leases.size() + 1 > limits.concurrency) {
    return refusal("concurrency", subject.scope, 1);
  }
  const int64_t day_budget = toMicroUsd(limits.budget_day_usd);
  if (day_budget > 0) {
    const auto fits =
        outputWithin(request, day_budget - scope.day.spent - scope.day.reserved, granted);
    if (!fits || *fits < least) {
      return refusal("budget_day", subject.scope,
                     (dayIndex(now) + 1) * kSecondsPerDay - now_second);
    }
    granted = *fits;
  }
  const int64_t month_budget = toMicroUsd(limits.budget_month_usd);
  if (month_budget > 0) {
    const auto fits =
        outputWithin(request, month_budget - scope.month.spent - scope.month.reserved, granted);
    if (!fits || *fits < least) {
      const std::chrono::year_month_day ymd{floor<days>(now)};
      const sys_days next_month{(ymd.year() / ymd.month() + std::chrono::months{1}) / 1};
      return refusal("budget_month", subject.scope,
                     floor<seconds>(next_month.time_since_epoch()).count() - now_second);
    }
    granted = *fits;
  }
  return std::nullopt;
}

void LimitState::commit(Scope& scope, const AdmitRequest& request, TimePoint now) {
  const int64_t now_second = unixSecond(now);
  Bucket& bucket = scope.buckets[((now_second % kWindowSeconds) + kWindowSeconds) % kWindowSeconds];
  if (bucket.second != now_second) {
    bucket = Bucket{.second = now_second};
  }
  bucket.requests += 1;
  bucket.tokens += request.tokens;

  if (auto old = scope.leases.find(request.request_id); old != scope.leases.end()) {
    dropLease(scope, old);  // a reused id: the newer admission replaces the older
  }
  const Lease lease{.expires = now + lease_ttl_,
                    .admit_second = now_second,
                    .tokens = request.tokens,
                    .micro_usd = std::max<int64_t>(request.micro_usd, 0)};
  scope.leases.emplace(request.request_id, lease);
  scope.by_expiry.emplace(lease.expires, request.request_id);
  scope.day.reserved += lease.micro_usd;
  scope.month.reserved += lease.micro_usd;
}

void LimitState::settle(const AdmitRequest& request, const Usage& used, TimePoint now) {
  const int64_t cost = std::max<int64_t>(used.micro_usd, 0);
  for (const LimitSubject& subject : request.subjects) {
    auto scope_it = scopes_.try_emplace(subject.scope).first;
    Scope& scope = scope_it->second;
    normalize(scope_it->first, scope, now);
    if (auto it = scope.leases.find(request.request_id); it != scope.leases.end()) {
      const Lease& lease = it->second;
      Bucket& bucket =
          scope.buckets[((lease.admit_second % kWindowSeconds) + kWindowSeconds) % kWindowSeconds];
      if (bucket.second == lease.admit_second && bucket.second > unixSecond(now) - kWindowSeconds) {
        // Replace the worst-case tokens by the actual ones, never below zero.
        bucket.tokens = bucket.tokens >= lease.tokens ? bucket.tokens - lease.tokens : 0;
        bucket.tokens += used.tokens;
      }
      dropLease(scope, it);
    }
    if (cost > 0) {
      scope.day.spent += cost;
      scope.month.spent += cost;
      scope.day.dirty = scope.month.dirty = true;
    }
  }
}

ScopeUsage LimitState::usage(std::string_view name, TimePoint now) {
  auto it = scopes_.find(name);
  if (it == scopes_.end()) {
    return ScopeUsage{};
  }
  Scope& scope = it->second;
  normalize(it->first, scope, now);
  const auto [requests, tokens] = windowTotals(scope, unixSecond(now));
  return ScopeUsage{.requests = requests,
                    .tokens = tokens,
                    .leases = static_cast<uint32_t>(scope.leases.size()),
                    .day_spent = scope.day.spent,
                    .day_reserved = scope.day.reserved,
                    .month_spent = scope.month.spent,
                    .month_reserved = scope.month.reserved};
}

std::vector<SpendRecord> LimitState::dirtySpend() {
  std::vector<SpendRecord> records = std::move(retired_);
  retired_.clear();
  for (auto& [name, scope] : scopes_) {
    if (scope.day.dirty) {
      records.push_back({name, dayName(scope.day.index), scope.day.spent});
      scope.day.dirty = false;
    }
    if (scope.month.dirty) {
      records.push_back({name, monthName(scope.month.index), scope.month.spent});
      scope.month.dirty = false;
    }
  }
  return records;
}

size_t LimitState::loadSpend(const std::vector<SpendRecord>& records, TimePoint now) {
  const int64_t today = dayIndex(now);
  const int64_t this_month = monthIndex(now);
  size_t applied = 0;
  for (const SpendRecord& record : records) {
    const auto period = parsePeriod(record.period);
    if (!period || period->second != (period->first ? today : this_month)) {
      continue;
    }
    auto it = scopes_.try_emplace(record.scope).first;
    normalize(it->first, it->second, now);
    (period->first ? it->second.day : it->second.month).spent =
        std::max<int64_t>(record.micro_usd, 0);
    ++applied;
  }
  return applied;
}

void LimitState::normalize(const std::string& name, Scope& scope, TimePoint now) {
  roll(name, scope.day, dayIndex(now), true);
  roll(name, scope.month, monthIndex(now), false);
  while (!scope.by_expiry.empty() && scope.by_expiry.begin()->first <= now) {
    dropLease(scope, scope.leases.find(scope.by_expiry.begin()->second));
  }
}

void LimitState::roll(const std::string& name, Period& period, int64_t index, bool is_day) {
  if (period.index == index) {
    return;
  }
  if (period.dirty) {
    retired_.push_back(
        {name, is_day ? dayName(period.index) : monthName(period.index), period.spent});
  }
  period = Period{.index = index};
}

void LimitState::dropLease(Scope& scope, std::unordered_map<std::string, Lease>::iterator it) {
  const Lease& lease = it->second;
  if (scope.day.index == dayOfSecond(lease.admit_second)) {
    scope.day.reserved = std::max<int64_t>(scope.day.reserved - lease.micro_usd, 0);
  }
  if (scope.month.index == monthOfSecond(lease.admit_second)) {
    scope.month.reserved = std::max<int64_t>(scope.month.reserved - lease.micro_usd, 0);
  }
  scope.by_expiry.erase({lease.expires, it->first});
  scope.leases.erase(it);
}

std::pair<uint64_t, uint64_t> LimitState::windowTotals(const Scope& scope, int64_t now_second) {
  uint64_t requests = 0;
  uint64_t tokens = 0;
  for (const Bucket& bucket : scope.buckets) {
    if (bucket.second > now_second - kWindowSeconds && bucket.second <= now_second) {
      requests += bucket.requests;
      tokens += bucket.tokens;
    }
  }
  return {requests, tokens};
}

int64_t LimitState::secondsUntilFreed(const Scope& scope, int64_t now_second, uint64_t excess,
                                      bool tokens) {
  uint64_t freed = 0;
  for (int64_t second = now_second - kWindowSeconds + 1; second <= now_second; ++second) {
    const Bucket& bucket =
        scope.buckets[((second % kWindowSeconds) + kWindowSeconds) % kWindowSeconds];
    if (bucket.second != second) {
      continue;
    }
    freed += tokens ? bucket.tokens : bucket.requests;
    if (freed >= excess) {
      return second + kWindowSeconds - now_second;  // it leaves when `now` reaches second + 60
    }
  }
  return kWindowSeconds;  // unreachable while excess <= the window's total
}

}  // namespace sy::policies
