#include "observability/logging.h"

#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace sy::log {
namespace {

Level initialLevel() {
  const char* env = std::getenv("SWITCHYARD_LOG_LEVEL");
  const std::string_view level = env == nullptr ? "info" : env;
  if (level == "debug") return Level::Debug;
  if (level == "warn") return Level::Warn;
  if (level == "error") return Level::Error;
  return Level::Info;
}

std::atomic<Level> min_level{initialLevel()};

std::string_view levelName(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warn";
    case Level::Error:
      return "error";
  }
  return "info";
}

// RFC 3339 UTC with milliseconds: 2026-11-26T08:05:43.123Z
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
  return text;
}

}  // namespace

void setMinLevel(Level level) { min_level.store(level); }

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (level < min_level.load(std::memory_order_relaxed)) {
    return;
  }
  boost::json::object line;
  line["ts"] = timestamp();
  line["level"] = levelName(level);
  line["msg"] = msg;
  for (const auto& [key, value] : fields) {
    line[key] = value;
  }
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  // One write(2) per line keeps lines whole when several threads log at once.
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, text.data(), text.size());
}

void formatFields(std::string& out, std::string_view msg, std::string_view json_fields) {
  out += "{\"ts\":\"";
  out += timestamp();
  out += "\",\"level\":\"info\",\"msg\":";
  out += boost::json::serialize(boost::json::string_view(msg));
  out += json_fields;
  out += "}\n";
}

void writeLines(std::string_view lines) {
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, lines.data(), lines.size());
}

bool enabled(Level level) { return level >= min_level.load(std::memory_order_relaxed); }

}  // namespace sy::log
