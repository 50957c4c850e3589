// Structured logs: one JSON object per line on stderr ({"ts","level","msg",...fields}).
// Thread-safe: each line is written with a single write(2). Never log secrets or prompt text:
// callers pass only ids, names from the policy, addresses and error messages.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace sy::log {

enum class Level { Debug, Info, Warn, Error };

using Field = std::pair<std::string_view, std::string_view>;

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::Info, msg, fields);
}
inline void warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::Warn, msg, fields);
}
inline void error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::Error, msg, fields);
}

// For callers that gather lines (the per-request access log, which builds its fields without a
// JSON tree): formatFields appends the info line {"ts","level":"info","msg":msg,<fields>} to
// `out`, newline included, where `json_fields` is the members after "msg", already serialized
// (starting with a comma); writeLines writes whole lines with one write(2), which keeps them
// whole next to other threads' lines if it is at most kAtomicWriteBytes (PIPE_BUF) long.
inline constexpr size_t kAtomicWriteBytes = 4096;
void formatFields(std::string& out, std::string_view msg, std::string_view json_fields);
void writeLines(std::string_view lines);
bool enabled(Level level);  // false when lines of `level` are dropped

// Lines below this level are dropped. Default Info; SWITCHYARD_LOG_LEVEL=debug|info|warn|error.
void setMinLevel(Level level);

}  // namespace sy::log
