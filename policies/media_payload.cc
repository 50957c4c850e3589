#include "policies/media_payload.h"

#include <array>
#include <cstdint>

namespace sy::policies {
namespace {

constexpr std::string_view kDataPrefix = "data:";
constexpr std::string_view kBase64Marker = ";base64,";

constexpr std::array<int8_t, 256> kBase64Values = [] {
  std::array<int8_t, 256> table{};
  table.fill(-1);
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}();

bool startsWith(std::string_view bytes, std::string_view prefix, size_t at = 0) {
  return bytes.size() >= at + prefix.size() && bytes.substr(at, prefix.size()) == prefix;
}

bool iequalsPrefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) {
    return false;
  }
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != prefix[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view toString(MediaFormat format) {
  switch (format) {
    case MediaFormat::None:
      return "none";
    case MediaFormat::Image:
      return "image";
    case MediaFormat::Audio:
      return "audio";
    case MediaFormat::Video:
      return "video";
    case MediaFormat::Pdf:
      return "pdf";
    case MediaFormat::Archive:
      return "archive";
  }
  return "none";
}

std::optional<std::string_view> mediaPayload(std::string_view value) {
  if (!iequalsPrefix(value, kDataPrefix)) {
    // Not a data URL: a URL (text) when it has a scheme, else the raw base64 of a data field.
    const size_t colon = value.find(':');
    if (colon != std::string_view::npos && colon < 16) {
      return std::nullopt;
    }
    return value;
  }
  const size_t comma = value.find(',');
  if (comma == std::string_view::npos || comma < kBase64Marker.size() - 1 ||
      !iequalsPrefix(value.substr(comma + 1 - kBase64Marker.size()), kBase64Marker)) {
    return std::nullopt;  // data:text/plain,hello: percent-encoded text
  }
  return value.substr(comma + 1);
}

bool decodeBase64Strict(std::string_view text, std::string& out) {
  size_t length = text.size();
  size_t padding = 0;
  while (length > 0 && text[length - 1] == '=' && padding < 2) {
    --length;
    ++padding;
  }
  if ((length + padding) % 4 != 0 && padding != 0) {
    return false;
  }
  if (length % 4 == 1) {
    return false;
  }
  out.resize(length / 4 * 3 + 2);
  char* to = out.data();
  const auto* from = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  for (; i + 4 <= length; i += 4) {
    const int8_t a = kBase64Values[from[i]];
    const int8_t b = kBase64Values[from[i + 1]];
    const int8_t c = kBase64Values[from[i + 2]];
    const int8_t d = kBase64Values[from[i + 3]];
    if ((a | b | c | d) < 0) {
      return false;
    }
    const uint32_t bits = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                          (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    *to++ = static_cast<char>(bits >> 16);
    *to++ = static_cast<char>((bits >> 8) & 0xFF);
    *to++ = static_cast<char>(bits & 0xFF);
  }
  uint32_t bits = 0;
  const size_t rest = length - i;
  for (; i < length; ++i) {
    const int8_t v = kBase64Values[from[i]];
    if (v < 0) {
      return false;
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
  }
  if (rest == 2) {
    *to++ = static_cast<char>((bits >> 4) & 0xFF);
  } else if (rest == 3) {
    *to++ = static_cast<char>((bits >> 10) & 0xFF);
    *to++ = static_cast<char>((bits >> 2) & 0xFF);
  }
  out.resize(static_cast<size_t>(to - out.data()));
  return true;
}

MediaFormat sniffMedia(std::string_view bytes) {
  using namespace std::string_view_literals;
  if (startsWith(bytes, "\x89PNG\r\n\x1a\n"sv) || startsWith(bytes, "\xFF\xD8\xFF"sv) ||
      startsWith(bytes, "GIF87a"sv) || startsWith(bytes, "GIF89a"sv) ||
      (startsWith(bytes, "RIFF"sv) && startsWith(bytes, "WEBP"sv, 8)) ||
      startsWith(bytes, "II*\0"sv) || startsWith(bytes, "MM\0*"sv)) {
    return MediaFormat::Image;
  }
  // ID3 needs its binary version byte after the tag ("ID3" alone is text); an MPEG audio frame
  // starts with 11 set bits.
  if ((startsWith(bytes, "ID3"sv) && bytes.size() > 3 && static_cast<unsigned char>(bytes[3]) < 0x10) ||
      (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
       (static_cast<unsigned char>(bytes[1]) & 0xE0) == 0xE0) ||
      (startsWith(bytes, "RIFF"sv) && startsWith(bytes, "WAVE"sv, 8)) ||
      startsWith(bytes, "fLaC"sv) || startsWith(bytes, "OggS"sv) ||
      (startsWith(bytes, "FORM"sv) && (startsWith(bytes, "AIFF"sv, 8) || startsWith(bytes, "AIFC"sv, 8)))) {
    return MediaFormat::Audio;
  }
  if (startsWith(bytes, "ftyp"sv, 4) || startsWith(bytes, "\x1A\x45\xDF\xA3"sv)) {
    return MediaFormat::Video;
  }
  if (startsWith(bytes, "%PDF-"sv)) {
    return MediaFormat::Pdf;
  }
  if (startsWith(bytes, "PK\x03\x04"sv) || startsWith(bytes, "\x1F\x8B"sv) ||
      startsWith(bytes, "7z\xBC\xAF\x27\x1C"sv)) {
    return MediaFormat::Archive;
  }
  return MediaFormat::None;
}

bool isText(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') {
        return false;
      }
      ++i;
      continue;
    }
    const size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (length == 0 || c > 0xF4 || i + length > bytes.size()) {
      return false;
    }
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(bytes[i + k]) & 0xC0) != 0x80) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

bool pdfHasFilteredStreams(std::string_view bytes) {
  return bytes.find("/Filter") != std::string_view::npos;
}

std::string printableRuns(std::string_view bytes, size_t min_run) {
  std::string out;
  size_t start = 0;
  auto flush = [&](size_t end) {
    if (end - start >= min_run) {
      out.append(bytes.substr(start, end - start));
      out.push_back('\n');
    }
  };
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c != '\t' && (c < 0x20 || c > 0x7E)) {
      flush(i);
      start = i + 1;
    }
  }
  flush(bytes.size());
  return out;
}

}  // namespace sy::policies
