// The pure value parsers: durations, sizes, integers, numbers, listen addresses, upstream URLs,
// key expiry dates, Redis URLs, names and enum spellings. Table-driven: each input expects a value
// or an exact message.
#include "gateway/config/value_parsers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace sy::config {
namespace {

using std::chrono::milliseconds;

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

template <class T>
struct Valid {
  std::string_view text;
  T expected;
};

struct Invalid {
  std::string_view text;
  std::string message;
};

// Runs `parse` over both tables.
template <class T, class Parse>
void expectParses(Parse parse, const std::vector<Valid<T>>& valid,
                  const std::vector<Invalid>& invalid) {
  for (const auto& c : valid) {
    SCOPED_TRACE(std::string("input: '").append(c.text).append("'"));
    const auto parsed = parse(c.text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error();
    EXPECT_EQ(*parsed, c.expected);
  }
  for (const auto& c : invalid) {
    SCOPED_TRACE(std::string("input: '").append(c.text).append("'"));
    const auto parsed = parse(c.text);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error(), c.message);
  }
}

TEST(ConfigParsersTest, DurationsNeedAUnitAndArePositive) {
  expectParses<milliseconds>(
      parseDuration,
      {{"500ms", milliseconds(500)},
       {"1ms", milliseconds(1)},
       {"10s", milliseconds(10'000)},
       {"2m", milliseconds(120'000)},
       {"1h", milliseconds(3'600'000)},
       {"30d", milliseconds(2'592'000'000)},
       {"365d", kMaxDuration},
       {"010s", milliseconds(10'000)},
       {"8760h", kMaxDuration},
       {"525600m", kMaxDuration}},
      {{"0s", "duration must be > 0, got '0s'"},
       {"0ms", "duration must be > 0, got '0ms'"},
       {"10", "invalid duration '10' (use e.g. 500ms, 10s, 2m, 1h)"},
       {"s", "invalid duration 's' (use e.g. 500ms, 10s, 2m, 1h)"},
       {"", "invalid duration '' (use e.g. 500ms, 10s, 2m, 1h)"},
       {"10 s", "invalid duration '10 s' (use e.g. 500ms, 10s, 2m, 1h)"},
       {"1.5s", "invalid duration '1.5s' (use e.g. 500ms, 10s, 2m, 1h)"},
       {"-1s", "invalid duration '-1s' (use e.g. 500ms, 10s, 2m, 1h)"},
       {"10S", "invalid duration '10S' (use e.g. 500ms, 10s, 2m, 1h)"},
       {"1w", "invalid duration '1w' (use e.g. 500ms, 10s, 2m, 1h)"},
       {"8761h", "duration '8761h' is too large (max 8760h)"},
       {"18446744073709551615ms", "duration '18446744073709551615ms' is too large (max 8760h)"},
       {"99999999999999999999h", "duration '99999999999999999999h' is too large (max 8760h)"}});
}

TEST(ConfigParsersTest, SizesTakeBinaryOrDecimalUnits) {
  expectParses<uint64_t>(
      parseSize,
      {{"1", 1},
       {"1B", 1},
       {"16KiB", 16 << 10},
       {"8MiB", 8 << 20},
       {"1GiB", 1ull << 30},
       {"1KB", 1'000},
       {"2MB", 2'000'000},
       {"3GB", 3'000'000'000},
       {"18446744073709551615", kU64Max},
       {"17179869183GiB", 17179869183ull << 30}},
      {{"0", "size must be > 0, got '0'"},
       {"0KiB", "size must be > 0, got '0KiB'"},
       {"8XB", "invalid size '8XB' (use e.g. 8MiB)"},
       {"8 MiB", "invalid size '8 MiB' (use e.g. 8MiB)"},
       {"8mib", "invalid size '8mib' (use e.g. 8MiB)"},
       {"MiB", "invalid size 'MiB' (use e.g. 8MiB)"},
       {"", "invalid size '' (use e.g. 8MiB)"},
       {"-1", "invalid size '-1' (use e.g. 8MiB)"},
       {"1.5MiB", "invalid size '1.5MiB' (use e.g. 8MiB)"},
       {"99999999999999999999GiB", "size '99999999999999999999GiB' is too large"},
       {"18446744073709551616", "size '18446744073709551616' is too large"},
       {"17179869184GiB", "size '17179869184GiB' is too large"}});
}

TEST(ConfigParsersTest, UnsignedIntegersAreDigitsOnlyUpToTheMax) {
  const auto parse = [](std::string_view text) { return parseUnsigned(text, 4294967295u); };
  expectParses<uint64_t>(
      parse, {{"0", 0}, {"10", 10}, {"007", 7}, {"4294967295", 4294967295u}},
      {{"4294967296", "integer '4294967296' is out of range (max 4294967295)"},
       {"99999999999999999999", "integer '99999999999999999999' is out of range (max 4294967295)"},
       {"12.5", "expected an integer, got '12.5'"},
       {"-1", "expected a non-negative integer, got '-1'"},
       {"-", "expected an integer, got '-'"},
       {"+1", "expected an integer, got '+1'"},
       {"0x10", "expected an integer, got '0x10'"},
       {"1e3", "expected an integer, got '1e3'"},
       {"", "expected an integer, got ''"}});
}

TEST(ConfigParsersTest, NumbersAreFiniteAndNonNegative) {
  expectParses<double>(parseNonNegativeNumber,
                       {{"0", 0.0}, {"-0", 0.0}, {"0.05", 0.05}, {"3.00", 3.0}, {"1e-3", 0.001}},
                       {{"-1", "must be >= 0, got '-1'"},
                        {"abc", "expected a number, got 'abc'"},
                        {"", "expected a number, got ''"},
                        {"inf", "expected a number, got 'inf'"},
                        {"nan", "expected a number, got 'nan'"},
                        {"+1", "expected a number, got '+1'"},
                        {"1.5.2", "expected a number, got '1.5.2'"},
                        {"1e999", "number '1e999' is out of range"}});
}

TEST(ConfigParsersTest, ListenAddressesAreHostAndPortWithBracketedIpv6) {
  const auto parse = [](std::string_view text) {
    auto parsed = parseListenAddress(text);
    return parsed ? std::expected<std::string, std::string>(parsed->host + "|" +
                                                            std::to_string(parsed->port))
                  : std::unexpected(parsed.error());
  };
  expectParses<std::string>(
      parse,
      {{"0.0.0.0:8080", "0.0.0.0|8080"},
       {"127.0.0.1:0", "127.0.0.1|0"},
       {"[::1]:8080", "::1|8080"},
       {"[::]:443", "::|443"},
       {"localhost:65535", "localhost|65535"},
       {"my_host.internal:80", "my_host.internal|80"}},
      {{"0.0.0.0", "missing port in '0.0.0.0' (use host:port, e.g. 0.0.0.0:8080 or [::1]:8080)"},
       {"[::1]", "missing port in '[::1]' (use host:port, e.g. 0.0.0.0:8080 or [::1]:8080)"},
       {":8080", "missing host in ':8080'"},
       {"", "missing host in ''"},
       {"::1:8080", "IPv6 addresses must be in brackets, e.g. [::1]:8080"},
       {"[::1", "invalid listen address '[::1' (missing ']')"},
       {"[zz]:80", "invalid IPv6 address 'zz'"},
       {"[]:80", "invalid IPv6 address ''"},
       {"[::1]x:80", "invalid listen address '[::1]x:80'"},
       {"host:99999", "invalid port '99999' (use 0-65535)"},
       {"host:", "invalid port '' (use 0-65535)"},
       {"host:8o", "invalid port '8o' (use 0-65535)"},
       {"host:-1", "invalid port '-1' (use 0-65535)"},
       {"999.1.1.1:80", "invalid host '999.1.1.1'"},
       {"a b:80", "invalid host 'a b'"}});
}

// "tls|host|port|base_path", to compare whole addresses in one string.
std::expected<std::string, std::string> urlSummary(std::string_view text) {
  auto parsed = parseUpstreamUrl(text);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  return std::string(parsed->tls ? "https|" : "http|")
      .append(parsed->host)
      .append("|")
      .append(std::to_string(parsed->port))
      .append("|")
      .append(parsed->base_path);
}

TEST(ConfigParsersTest, UpstreamUrlsAreHttpOrHttpsWithOptionalBasePath) {
  expectParses<std::string>(
      urlSummary,
      {{"http://127.0.0.1:8000", "http|127.0.0.1|8000|"},
       {"https://api.anthropic.com", "https|api.anthropic.com|443|"},
       {"http://vllm.ai.svc", "http|vllm.ai.svc|80|"},
       {"https://x.openai.azure.com/openai", "https|x.openai.azure.com|443|/openai"},
       {"https://x.openai.azure.com/openai/", "https|x.openai.azure.com|443|/openai"},
       {"http://h/", "http|h|80|"},
       {"http://h/a/b//", "http|h|80|/a/b"},
       {"http://[::1]:8000/v1", "http|::1|8000|/v1"},
       {"HTTPS://H", "https|H|443|"},
       {"http://h/p@x", "http|h|80|/p@x"}},
      {{"127.0.0.1:8000", "invalid URL '127.0.0.1:8000' (use e.g. http://127.0.0.1:8000)"},
       {"://h", "invalid URL '://h' (use e.g. http://127.0.0.1:8000)"},
       {"", "invalid URL '' (use e.g. http://127.0.0.1:8000)"},
       {"ftp://h", "scheme must be http or https, got 'ftp'"},
       {"http://", "missing host in 'http://'"},
       {"http:///v1", "missing host in 'http:///v1'"},
       {"http://user:pw@h",
        "credentials are not allowed in a URL (put the key in an "
        "environment variable and name it in api_key_env)"},
       {"http://h?key=1", "query strings are not allowed in a backend URL"},
       {"http://h/#x", "fragments are not allowed in a backend URL"},
       {"http://h:0", "invalid port '0' (use 1-65535)"},
       {"http://h:65536", "invalid port '65536' (use 1-65535)"},
       {"http://h:", "invalid port '' (use 1-65535)"},
       {"http://a b", "invalid host 'a b'"},
       {"http://h/a b", "invalid character in URL path '/a b'"},
       {"http://::1:80", "IPv6 addresses must be in brackets, e.g. [::1]:8080"},
       {"http://[::1", "invalid URL 'http://[::1' (missing ']')"}});
}

// The expiry as "YYYY-MM-DD HH:MM:SS.mmm" (UTC), to compare instants as text.
std::expected<std::string, std::string> expirySummary(std::string_view text) {
  using namespace std::chrono;
  const auto parsed = parseExpiry(text);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  const auto ms = floor<milliseconds>(*parsed);
  const auto day = floor<days>(ms);
  const year_month_day date(day);
  const hh_mm_ss time(ms - day);
  char out[40];
  std::snprintf(out, sizeof(out), "%04d-%02u-%02u %02d:%02d:%02d.%03d",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                static_cast<int>(time.subseconds().count()));
  return std::string(out);
}

// The returned instant is the first one at which the key is refused.
TEST(ConfigParsersTest, ExpiryIsADateOrAUtcTimestamp) {
  const std::string use =
      " (use a date like 2027-06-30, or a UTC timestamp like 2027-06-30T12:00:00Z)";
  expectParses<std::string>(
      expirySummary,
      {{"2027-06-30", "2027-07-01 00:00:00.000"},  // works through the end of that UTC day
       {"2027-12-31", "2028-01-01 00:00:00.000"},
       {"2028-02-29", "2028-03-01 00:00:00.000"},
       {"2027-06-30T12:00:00Z", "2027-06-30 12:00:00.000"},
       {"2027-06-30t23:59:59z", "2027-06-30 23:59:59.000"},
       {"2027-06-30T12:00:00.25Z", "2027-06-30 12:00:00.250"},
       {"2027-06-30T12:00:00.123456789Z", "2027-06-30 12:00:00.123"}},
      {{"2027/06/30", "invalid expiry '2027/06/30'" + use},
       {"27-06-30", "invalid expiry '27-06-30'" + use},
       {"2027-6-30", "invalid expiry '2027-6-30'" + use},
       {"", "invalid expiry ''" + use},
       {"2027-06-30 12:00:00Z", "invalid expiry '2027-06-30 12:00:00Z'" + use},
       {"2027-06-30T12:00Z", "invalid expiry '2027-06-30T12:00Z'" + use},
       {"2027-06-30T12:00:00.Z", "invalid expiry '2027-06-30T12:00:00.Z'" + use},
       {"2027-06-30T12:00:00.1234567890Z",
        "invalid expiry '2027-06-30T12:00:00.1234567890Z'" + use},
       {"2027-02-29", "invalid expiry '2027-02-29' (no such date)"},
       {"2027-13-01", "invalid expiry '2027-13-01' (no such date)"},
       {"2027-06-31", "invalid expiry '2027-06-31' (no such date)"},
       {"2027-06-30T12:60:00Z", "invalid expiry '2027-06-30T12:60:00Z' (no such time)"},
       {"2027-06-30T12:00:60Z", "invalid expiry '2027-06-30T12:00:60Z' (no such time)"},
       {"2027-06-30T12:00:00",
        "invalid expiry '2027-06-30T12:00:00' (a timestamp must be in UTC and end in Z, e.g. "
        "2027-06-30T12:00:00Z)"},
       {"2027-06-30T12:00:00+00:00",
        "invalid expiry '2027-06-30T12:00:00+00:00' (a timestamp must be in UTC and end in Z, "
        "e.g. 2027-06-30T12:00:00Z)"}});
}

// "host|port|db".
std::expected<std::string, std::string> redisSummary(std::string_view text) {
  const auto parsed = parseRedisUrl(text);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  return parsed->host + "|" + std::to_string(parsed->port) + "|" + std::to_string(parsed->db);
}

TEST(ConfigParsersTest, RedisUrlsNeverEchoTheirCredentials) {
  const std::string use = " (use redis://[[user]:password@]host[:port][/db])";
  expectParses<std::string>(
      redisSummary,
      {{"redis://127.0.0.1:6379/0", "127.0.0.1|6379|0"},
       {"redis://cache", "cache|6379|0"},
       {"redis://cache/", "cache|6379|0"},
       {"redis://cache:6380/15", "cache|6380|15"},
       {"redis://[::1]:7000", "::1|7000|0"},
       {"redis://:pw@cache", "cache|6379|0"},
       {"redis://app:p%40ss@cache:1/2", "cache|1|2"}},
      {{"http://cache", "invalid Redis URL 'http://cache'" + use},
       {"http://u:secret@cache", "invalid Redis URL" + use},
       {"rediss://cache", "TLS to Redis (rediss://) is not supported yet"},
       {"redis://cache?db=1", "query strings and fragments are not allowed in the Redis URL" + use},
       {"redis://secret@cache",
        "credentials in the Redis URL need a password (user:password@ or :password@)"},
       {"redis://u:@cache",
        "credentials in the Redis URL need a password (user:password@ or :password@)"},
       {"redis://u:se%zzcret@cache", "malformed percent-escape in the Redis URL credentials"},
       {"redis://u:secret@", "missing host in 'redis://<credentials>@'"},
       {"redis://", "missing host in 'redis://'"},
       {"redis://cache:0", "invalid port '0' (use 1-65535)"},
       {"redis://cache:http", "invalid port 'http' (use 1-65535)"},
       {"redis://cache/x", "invalid Redis database 'x' (use a number, e.g. redis://host:6379/0)"},
       {"redis://cache/1/2",
        "invalid Redis database '1/2' (use a number, e.g. redis://host:6379/0)"},
       {"redis://cache/99999999999",
        "invalid Redis database '99999999999' (use a number, e.g. redis://host:6379/0)"}});
}

TEST(ConfigParsersTest, NamesUseLettersDigitsDotsUnderscoresAndDashes) {
  for (std::string_view name : {"llama-local", "a.b_c-1", "A", "gpt-4o"}) {
    EXPECT_TRUE(isValidName(name)) << name;
  }
  for (std::string_view name : {"", "a b", "a/b", "a:b", "caf\xc3\xa9"}) {
    EXPECT_FALSE(isValidName(name)) << name;
  }
}

TEST(ConfigParsersTest, EnvVarNamesStartWithALetterOrUnderscore) {
  for (std::string_view name : {"OPENAI_API_KEY", "_x", "a1"}) {
    EXPECT_TRUE(isValidEnvVarName(name)) << name;
  }
  for (std::string_view name : {"", "1A", "A-B", "sk-proj-123", "A B"}) {
    EXPECT_FALSE(isValidEnvVarName(name)) << name;
  }
}

TEST(ConfigParsersTest, EnumSpellingsAreExactAndLowercase) {
  EXPECT_EQ(parseBackendKind("openai"), router::BackendKind::OpenAi);
  EXPECT_EQ(parseBackendKind("ollama"), router::BackendKind::Ollama);
  EXPECT_EQ(parseBackendKind("anthropic"), router::BackendKind::Anthropic);
  EXPECT_EQ(parseBackendKind("azure-openai"), router::BackendKind::AzureOpenAi);
  EXPECT_EQ(parseBackendKind("OpenAI"), std::nullopt);
  EXPECT_EQ(parseLocation("self-hosted"), router::Location::SelfHosted);
  EXPECT_EQ(parseLocation("external"), router::Location::External);
  EXPECT_EQ(parseLocation("cloud"), std::nullopt);
  EXPECT_EQ(parseLicense("osi-open-source"), router::License::OsiOpenSource);
  EXPECT_EQ(parseLicense("open-weight"), router::License::OpenWeight);
  EXPECT_EQ(parseLicense("source-available"), router::License::SourceAvailable);
  EXPECT_EQ(parseLicense("proprietary"), router::License::Proprietary);
  EXPECT_EQ(parseLicense(""), std::nullopt);
}

}  // namespace
}  // namespace sy::config
