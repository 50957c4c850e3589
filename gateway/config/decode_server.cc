// Decoders for the `server` and `admin` sections.
#include "gateway/config/decode_sections.h"
#include "gateway/config/str_cat.h"

namespace sy::config {
namespace {

void decodeTls(Decoder& decoder, const Located& where, std::optional<TlsConfig>& out) {
  const Mapping tls(decoder, where, {{"cert", "key"}});
  if (!tls.valid()) {
    return;
  }
  TlsConfig config;
  const bool cert_ok = decoder.readNonEmptyString(tls.required("cert"), config.cert_file);
  const bool key_ok = decoder.readNonEmptyString(tls.required("key"), config.key_file);
  if (cert_ok && key_ok) {
    out = std::move(config);
  }
}

void decodeLimits(Decoder& decoder, const Located& where, ServerLimits& out) {
  const Mapping limits(
      decoder, where,
      {{"max_body_bytes", "max_header_bytes", "max_header_count", "header_timeout", "body_timeout",
        "idle_timeout", "max_connections", "max_inflight_body_bytes", "max_messages",
        "max_content_parts", "max_tools"}});
  decoder.readSize(limits.optional("max_body_bytes"), out.max_body_bytes);
  decoder.readSize(limits.optional("max_header_bytes"), out.max_header_bytes);
  decoder.readInteger(limits.optional("max_header_count"), out.max_header_count, 1);
  decoder.readDuration(limits.optional("header_timeout"), out.header_timeout);
  decoder.readDuration(limits.optional("body_timeout"), out.body_timeout);
  decoder.readDuration(limits.optional("idle_timeout"), out.idle_timeout);
  decoder.readInteger(limits.optional("max_connections"), out.max_connections, 1);
  decoder.readInteger(limits.optional("max_messages"), out.max_messages, 1);
  decoder.readInteger(limits.optional("max_content_parts"), out.max_content_parts, 1);
  decoder.readInteger(limits.optional("max_tools"), out.max_tools, 1);
  const auto inflight = limits.optional("max_inflight_body_bytes");
  decoder.readSize(inflight, out.max_inflight_body_bytes);
  // A body the size limit allows must fit the budget, or it could never be read.
  if (out.max_inflight_body_bytes < out.max_body_bytes) {
    if (inflight) {
      decoder.error(*inflight, strCat("must be at least max_body_bytes (", out.max_body_bytes,
                                      " bytes), got ", out.max_inflight_body_bytes));
    } else if (const auto body = limits.optional("max_body_bytes")) {
      decoder.error(*body,
                    strCat("must be at most max_inflight_body_bytes (", out.max_inflight_body_bytes,
                           " bytes), got ", out.max_body_bytes));
    }
  }
}

// An origin is "*" or scheme://host[:port], as browsers send it in `Origin`.
bool isValidOrigin(std::string_view origin) {
  if (origin == "*") {
    return true;
  }
  const size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos ||
      (origin.substr(0, scheme_end) != "http" && origin.substr(0, scheme_end) != "https")) {
    return false;
  }
  const std::string_view rest = origin.substr(scheme_end + 3);
  return !rest.empty() && rest.find_first_of("/?#@ ") == std::string_view::npos;
}

void decodeCors(Decoder& decoder, const Located& where, ServerConfig::Cors& out) {
  const Mapping cors(decoder, where, {{"allow_origins", "max_age"}});
  if (const auto origins = cors.required("allow_origins")) {
    const std::vector<Located> items = decoder.sequence(*origins);
    for (const Located& item : items) {
      std::string origin;
      if (!decoder.readNonEmptyString(item, origin)) {
        continue;
      }
      if (!isValidOrigin(origin)) {
        decoder.error(item, strCat("invalid origin '", origin,
                                   "' (use \"*\" or scheme://host[:port], e.g. "
                                   "https://app.example.com)"));
        continue;
      }
      out.allow_origins.push_back(std::move(origin));
    }
    if (items.empty() && origins->node.IsSequence()) {
      decoder.error(*origins, "must not be empty");
    }
  }
  std::chrono::milliseconds max_age = out.max_age;
  decoder.readDuration(cors.optional("max_age"), max_age);
  out.max_age = std::chrono::duration_cast<std::chrono::seconds>(max_age);
}

}  // namespace

void decodeServer(Decoder& decoder, const Located& where, ServerConfig& out) {
  const Mapping server(
      decoder, where,
      {{"listen", "workers", "shutdown_grace", "tls", "limits", "access_log", "cors",
        "watch_policy"}});
  decoder.readListenAddress(server.optional("listen"), out.listen);
  decoder.readInteger(server.optional("workers"), out.workers, 0);
  decoder.readDuration(server.optional("shutdown_grace"), out.shutdown_grace);
  decoder.readBool(server.optional("access_log"), out.access_log);
  decoder.readBool(server.optional("watch_policy"), out.watch_policy);
  if (const auto tls = server.optional("tls")) {
    decodeTls(decoder, *tls, out.tls);
  }
  if (const auto limits = server.optional("limits")) {
    decodeLimits(decoder, *limits, out.limits);
  }
  if (const auto cors = server.optional("cors")) {
    decodeCors(decoder, *cors, out.cors);
  }
}

void decodeAdmin(Decoder& decoder, const Located& where, AdminConfig& out) {
  const Mapping admin(decoder, where, {{"listen"}});
  decoder.readListenAddress(admin.optional("listen"), out.listen);
}

void decodeResilience(Decoder& decoder, const Located& where, ResilienceSpec& out) {
  const Mapping resilience(decoder, where, {{"retries", "breaker"}});
  if (!resilience.valid()) {
    return;
  }
  if (const auto retries = resilience.optional("retries")) {
    const Mapping map(decoder, *retries, {{"max_attempts", "backoff", "max_backoff"}});
    decoder.readInteger(map.optional("max_attempts"), out.retry.max_attempts, 1);
    decoder.readDuration(map.optional("backoff"), out.retry.base);
    decoder.readDuration(map.optional("max_backoff"), out.retry.max);
    if (out.retry.max < out.retry.base) {
      decoder.error(*retries, "max_backoff must not be shorter than backoff");
    }
  }
  if (const auto breaker = resilience.optional("breaker")) {
    const Mapping map(decoder, *breaker, {{"failures", "open_for", "max_open_for"}});
    decoder.readInteger(map.optional("failures"), out.selection.consecutive_failures, 1);
    decoder.readDuration(map.optional("open_for"), out.selection.ejection_base);
    decoder.readDuration(map.optional("max_open_for"), out.selection.ejection_max);
    if (out.selection.ejection_max < out.selection.ejection_base) {
      decoder.error(*breaker, "max_open_for must not be shorter than open_for");
    }
  }
}

}  // namespace sy::config
