#include "observability/audit_record.h"

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace sy::observability {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kHashKey = ",\"hash\":\"";
constexpr size_t kHashHexLength = 64;

std::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Internal, std::move(message));
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one.
size_t utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    low = lead == 0xe0 ? 0xa0 : 0x80;
    high = lead == 0xed ? 0x9f : 0xbf;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    low = lead == 0xf0 ? 0x90 : 0x80;
    high = lead == 0xf4 ? 0x8f : 0xbf;
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) {
    return 0;
  }
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) {
      return 0;
    }
  }
  return length;
}

void appendString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = utf8SequenceLength(text, i);
      if (length == 0) {
        out += "\\ufffd";  // keeps the line valid JSON; the record holds no binary data
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    ++i;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20) {
      out.push_back(static_cast<char>(c));
    } else if (c >= '\b' && c <= '\r' && c != '\v') {
      out.push_back('\\');
      out.push_back("btn_fr"[c - '\b']);  // \b \t \n \f \r
    } else {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  out.push_back('"');
}

// Fixed-point, locale-independent; null for NaN and infinities (JSON has no such numbers).
void appendFixed(std::string& out, double value, int decimals) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  if (value == 0) {
    value = 0;  // no "-0.000"
  }
  char text[400];  // DBL_MAX has 309 integer digits
  const auto [end, ec] =
      std::to_chars(text, text + sizeof text, value, std::chars_format::fixed, decimals);
  if (ec != std::errc()) {
    out += "null";
    return;
  }
  out.append(text, end);
}

void appendMember(std::string& out, std::string_view key, std::string_view value) {
  out.push_back('"');
  out += key;
  out += "\":";
  appendString(out, value);
}

void appendMember(std::string& out, std::string_view key, uint64_t value) {
  out.push_back('"');
  out += key;
  out += "\":";
  out += std::to_string(value);
}

void appendShadow(std::string& out, const AuditRecord::Shadow& shadow) {
  out += ",\"shadow\":{";
  appendMember(out, "policy_version", shadow.policy_version);
  out.push_back(',');
  appendMember(out, "action", shadow.action);
  out.push_back(',');
  appendMember(out, "status", shadow.status);
  const std::pair<std::string_view, const std::string*> strings[] = {
      {"tier", &shadow.tier},
      {"backend", &shadow.backend},
      {"rule", &shadow.rule},
      {"sensitivity", &shadow.sensitivity},
  };
  for (const auto& [key, value] : strings) {
    out.push_back(',');
    appendMember(out, key, *value);
  }
  out += ",\"differs\":[";
  for (size_t i = 0; i < shadow.differs.size(); ++i) {
    if (i > 0) {
      out.push_back(',');
    }
    appendString(out, shadow.differs[i]);
  }
  out += "]}";
}

// Reads members of a parsed line into a record, remembering the first error.
class MemberReader {
 public:
  explicit MemberReader(const boost::json::object& object) : object_(object) {}

  void string(std::string_view key, std::string& out, bool required = false) {
    const boost::json::value* value = find(key, required);
    if (value == nullptr) {
      return;
    }
    if (!value->is_string()) {
      fail(key, "not a string");
      return;
    }
    out = std::string(value->get_string());
  }

  void unsignedInt(std::string_view key, uint64_t& out, bool required = false) {
    const boost::json::value* value = find(key, required);
    if (value == nullptr) {
      return;
    }
    boost::system::error_code ec;
    const auto number = value->is_double() ? 0 : value->to_number<uint64_t>(ec);
    if (value->is_double() || ec) {
      fail(key, "not an unsigned integer");
      return;
    }
    out = number;
  }

  // JSON null reads as NaN.
  void number(std::string_view key, double& out) {
    const boost::json::value* value = find(key, false);
    if (value == nullptr) {
      return;
    }
    if (value->is_null()) {
      out = std::nan("");
      return;
    }
    boost::system::error_code ec;
    const double number = value->to_number<double>(ec);
    if (ec) {
      fail(key, "not a number");
      return;
    }
    out = number;
  }

  const boost::json::value* find(std::string_view key, bool required) {
    const boost::json::value* value = object_.if_contains(key);
    if (value == nullptr && required) {
      fail(key, "missing");
    }
    return value;
  }

  void fail(std::string_view key, std::string_view what) {
    if (error_.empty()) {
      error_ = std::string(prefix_) + std::string(key) + ": " + std::string(what);
    }
  }

  MemberReader nested(std::string_view key, const boost::json::object& object) const {
    MemberReader reader(object);
    reader.prefix_ = std::string(key) + ".";
    return reader;
  }

  const std::string& error() const { return error_; }
  void adopt(const MemberReader& other) {
    if (error_.empty()) {
      error_ = other.error_;
    }
  }

 private:
  const boost::json::object& object_;
  std::string prefix_;
  std::string error_;
};

void readShadow(MemberReader& reader, const boost::json::value& value, AuditRecord& record) {
  if (!value.is_object()) {
    reader.fail("shadow", "not an object");
    return;
  }
  MemberReader inner = reader.nested("shadow", value.get_object());
  // Assigned, not emplace()d: clang (the fuzz build) takes the nested struct with default member
  // initializers as not default-constructible inside std::optional.
  record.shadow = AuditRecord::Shadow{};
  AuditRecord::Shadow& shadow = *record.shadow;
  inner.string("policy_version", shadow.policy_version);
  inner.string("action", shadow.action);
  uint64_t status = 0;
  inner.unsignedInt("status", status);
  shadow.status = static_cast<unsigned>(status);
  inner.string("tier", shadow.tier);
  inner.string("backend", shadow.backend);
  inner.string("rule", shadow.rule);
  inner.string("sensitivity", shadow.sensitivity);
  if (const auto* differs = value.get_object().if_contains("differs"); differs != nullptr) {
    if (!differs->is_array()) {
      inner.fail("differs", "not an array");
    } else {
      for (const boost::json::value& item : differs->get_array()) {
        if (!item.is_string()) {
          inner.fail("differs", "an item is not a string");
          break;
        }
        shadow.differs.emplace_back(item.get_string());
      }
    }
  }
  reader.adopt(inner);
}

void readContent(MemberReader& reader, const boost::json::object& object, AuditRecord& record) {
  reader.string("phase", record.phase);
  reader.string("time", record.time);
  reader.string("policy_version", record.policy_version);
  reader.string("previous_policy_version", record.previous_policy_version);
  reader.string("trigger", record.trigger);
  reader.string("error", record.error);
  reader.string("request_id", record.request_id);
  reader.string("client_request_id", record.client_request_id);
  reader.string("key_id", record.key_id);
  reader.string("team", record.team);
  reader.string("endpoint", record.endpoint);
  reader.string("surface", record.surface);
  reader.string("requested_model", record.requested_model);
  reader.string("model", record.model);
  reader.string("tier", record.tier);
  reader.string("backend", record.backend);
  reader.string("rule", record.rule);
  reader.string("sensitivity", record.sensitivity);
  if (const auto* difficulty = object.if_contains("difficulty"); difficulty != nullptr) {
    if (!difficulty->is_object()) {
      reader.fail("difficulty", "not an object");
    } else {
      MemberReader inner = reader.nested("difficulty", difficulty->get_object());
      double score = std::nan("");
      inner.number("score", score);
      record.difficulty.score = std::isnan(score) ? std::nullopt : std::optional<double>(score);
      inner.string("label", record.difficulty.label);
      inner.string("domain", record.difficulty.domain);
      reader.adopt(inner);
    }
  }
  if (const auto* findings = object.if_contains("findings"); findings != nullptr) {
    if (!findings->is_array()) {
      reader.fail("findings", "not an array");
    } else {
      for (const boost::json::value& item : findings->get_array()) {
        if (!item.is_object()) {
          reader.fail("findings", "an item is not an object");
          break;
        }
        MemberReader inner = reader.nested("findings[]", item.get_object());
        AuditFinding& finding = record.findings.emplace_back();
        inner.string("detector", finding.detector);
        inner.unsignedInt("count", finding.count);
        inner.string("action", finding.action);
        reader.adopt(inner);
      }
    }
  }
  reader.string("outcome", record.outcome);
  uint64_t status = 0;
  reader.unsignedInt("status", status);
  record.status = static_cast<unsigned>(status);
  if (const auto* tokens = object.if_contains("tokens"); tokens != nullptr) {
    if (!tokens->is_object()) {
      reader.fail("tokens", "not an object");
    } else {
      MemberReader inner = reader.nested("tokens", tokens->get_object());
      inner.unsignedInt("prompt", record.tokens.prompt);
      inner.unsignedInt("completion", record.tokens.completion);
      inner.unsignedInt("cached", record.tokens.cached);
      reader.adopt(inner);
    }
  }
  reader.number("cost_usd", record.cost_usd);
  reader.number("latency_ms", record.latency_ms);
  if (const auto* shadow = object.if_contains("shadow"); shadow != nullptr) {
    readShadow(reader, *shadow, record);
  }
}

}  // namespace

std::string formatAuditTime(std::chrono::system_clock::time_point time) {
  const auto millis =
      std::chrono::floor<std::chrono::milliseconds>(time).time_since_epoch().count();
  const std::time_t seconds =
      static_cast<std::time_t>(millis >= 0 ? millis / 1000 : (millis - 999) / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[48];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ",
                static_cast<int>(millis - static_cast<int64_t>(seconds) * 1000));
  return text;
}

std::optional<std::chrono::system_clock::time_point> parseAuditTime(std::string_view text) {
  std::tm utc{};
  int millis = 0;
  char zone = 0;
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%n", &utc.tm_year, &utc.tm_mon,
                  &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &millis, &zone,
                  &consumed) != 8 ||
      zone != 'Z' || consumed != 24 || copy.size() != 24) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  const std::time_t seconds = timegm(&utc);
  return std::chrono::system_clock::from_time_t(seconds) + std::chrono::milliseconds(millis);
}

std::string auditContentMembers(const AuditRecord& record) {
  std::string out;
  out.reserve(512);
  appendMember(out, "phase", record.phase);
  out.push_back(',');
  appendMember(out, "time", record.time);
  const std::pair<std::string_view, const std::string*> optional[] = {
      {"policy_version", &record.policy_version},
      {"previous_policy_version", &record.previous_policy_version},
      {"trigger", &record.trigger},
      {"error", &record.error},
  };
  for (const auto& [key, value] : optional) {
    if (!value->empty()) {
      out.push_back(',');
      appendMember(out, key, *value);
    }
  }
  const std::pair<std::string_view, const std::string*> strings[] = {
      {"request_id", &record.request_id},
      {"key_id", &record.key_id},
      {"team", &record.team},
      {"endpoint", &record.endpoint},
      {"requested_model", &record.requested_model},
      {"model", &record.model},
      {"tier", &record.tier},
      {"backend", &record.backend},
      {"rule", &record.rule},
      {"sensitivity", &record.sensitivity},
  };
  for (const auto& [key, value] : strings) {
    out.push_back(',');
    appendMember(out, key, *value);
    if (value == &record.request_id && !record.client_request_id.empty()) {
      out.push_back(',');
      appendMember(out, "client_request_id", record.client_request_id);
    }
    if (value == &record.endpoint && !record.surface.empty()) {
      out.push_back(',');
      appendMember(out, "surface", record.surface);
    }
  }
  out += ",\"difficulty\":{\"score\":";
  appendFixed(out, record.difficulty.score.value_or(std::nan("")), 4);
  out.push_back(',');
  appendMember(out, "label", record.difficulty.label);
  if (!record.difficulty.domain.empty()) {  // records written before domains existed hash as before
    out.push_back(',');
    appendMember(out, "domain", record.difficulty.domain);
  }
  out += "},\"findings\":[";
  for (size_t i = 0; i < record.findings.size(); ++i) {
    const AuditFinding& finding = record.findings[i];
    out += i == 0 ? "{" : ",{";
    appendMember(out, "detector", finding.detector);
    out.push_back(',');
    appendMember(out, "count", finding.count);
    out.push_back(',');
    appendMember(out, "action", finding.action);
    out.push_back('}');
  }
  out += "],";
  appendMember(out, "outcome", record.outcome);
  out.push_back(',');
  appendMember(out, "status", record.status);
  out += ",\"tokens\":{";
  appendMember(out, "prompt", record.tokens.prompt);
  out.push_back(',');
  appendMember(out, "completion", record.tokens.completion);
  if (record.tokens.cached > 0) {  // absent otherwise: records without caching stay as they were
    out.push_back(',');
    appendMember(out, "cached", record.tokens.cached);
  }
  out += "},\"cost_usd\":";
  appendFixed(out, record.cost_usd, 6);
  out += ",\"latency_ms\":";
  appendFixed(out, record.latency_ms, 3);
  if (record.shadow) {
    appendShadow(out, *record.shadow);
  }
  return out;
}

std::string assembleAuditLine(uint64_t seq, std::string_view boot_id, std::string_view content,
                              std::string_view prev_hash) {
  std::string out;
  out.reserve(content.size() + 160);
  out.push_back('{');
  appendMember(out, "seq", seq);
  out.push_back(',');
  appendMember(out, "boot_id", boot_id);
  out.push_back(',');
  out += content;
  out.push_back(',');
  appendMember(out, "prev_hash", prev_hash);
  out.push_back('}');
  return out;
}

std::string canonicalAuditText(const AuditRecord& record) {
  return assembleAuditLine(record.seq, record.boot_id, auditContentMembers(record),
                           record.prev_hash);
}

std::string withAuditHash(std::string_view text, std::string_view hash) {
  std::string out;
  out.reserve(text.size() + kHashKey.size() + hash.size() + 2);
  out.append(text.substr(0, text.empty() ? 0 : text.size() - 1));  // drop the final '}'
  out += kHashKey;
  out += hash;
  out += "\"}";
  return out;
}

std::string auditHash(std::string_view text, std::string_view hmac_key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  if (hmac_key.empty()) {
    if (SHA256(data, text.size(), digest.data()) == nullptr) {
      return "";
    }
    length = SHA256_DIGEST_LENGTH;
  } else if (HMAC(EVP_sha256(), hmac_key.data(), static_cast<int>(hmac_key.size()), data,
                  text.size(), digest.data(), &length) == nullptr) {
    return "";
  }
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

Result<SplitAuditLine> splitAuditLine(std::string_view line) {
  constexpr size_t kSuffix = kHashKey.size() + kHashHexLength + 2;  // ,"hash":"<hex>"}
  if (line.size() < kSuffix + 1 || !line.ends_with("\"}") ||
      line.substr(line.size() - kSuffix, kHashKey.size()) != kHashKey) {
    return invalid("does not end with ,\"hash\":\"<64 hex>\"}");
  }
  std::string_view hash = line.substr(line.size() - kHashHexLength - 2, kHashHexLength);
  for (char c : hash) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return invalid("hash is not 64 lowercase hex digits");
    }
  }
  SplitAuditLine split;
  split.hashed.reserve(line.size() - kSuffix + 1);
  split.hashed.append(line.substr(0, line.size() - kSuffix));
  split.hashed.push_back('}');
  split.hash = std::string(hash);
  return split;
}

Result<AuditRecord> parseAuditRecord(std::string_view line) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(line, ec);
  if (ec) {
    return invalid("not JSON (" + ec.message() + ")");
  }
  if (!value.is_object()) {
    return invalid("not a JSON object");
  }
  const boost::json::object& object = value.get_object();
  AuditRecord record;
  MemberReader reader(object);
  reader.unsignedInt("seq", record.seq, true);
  reader.string("boot_id", record.boot_id, true);
  reader.string("prev_hash", record.prev_hash, true);
  reader.string("hash", record.hash, true);
  readContent(reader, object, record);
  if (!reader.error().empty()) {
    return invalid(reader.error());
  }
  return record;
}

}  // namespace sy::observability
