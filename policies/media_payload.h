// Binary files inside request bodies (an image's data URL, input_audio's data, a file's
// file_data, an Anthropic base64 source): recognizing them by their bytes, so that DLP reads
// what such a file can carry as text (its printable runs: metadata, comments, uncompressed PDF
// text) instead of scanning its base64 as if it were prose, and knows what it cannot read.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sy::policies {

// What a payload's leading bytes say it is.
enum class MediaFormat {
  None,      // no known binary signature
  Image,     // PNG, JPEG, GIF, WebP, TIFF
  Audio,     // WAV, MP3 (ID3 or a frame header), FLAC, Ogg, AIFF
  Video,     // ISO base media (MP4, M4A, HEIC, AVIF: "ftyp"), Matroska/WebM
  Pdf,       // %PDF-
  Archive,   // ZIP (docx, xlsx, pptx, odt), gzip, 7z: compressed, unreadable as text
};

std::string_view toString(MediaFormat format);

// The base64 payload of a media field's value: a `data:<type>[;params];base64,<payload>` URL's
// payload, or the whole value when it is not a URL (input_audio.data, Anthropic source.data).
// nullopt for a URL that is not a base64 data URL (an http(s) link): such a value is text.
std::optional<std::string_view> mediaPayload(std::string_view value);

// Decodes standard base64 (optional '=' padding at the end only, no whitespace) into `out`.
// False for anything else, including URL-safe base64 and wrapped lines: callers then read the
// value as text, as every string is read.
bool decodeBase64Strict(std::string_view text, std::string& out);

// The format `bytes` start with.
MediaFormat sniffMedia(std::string_view bytes);

// Valid UTF-8 without control characters other than whitespace: a text file's bytes.
bool isText(std::string_view bytes);

// True when a PDF's bytes hold a filtered (compressed or otherwise encoded) stream, whose text
// DLP cannot read without a PDF parser.
bool pdfHasFilteredStreams(std::string_view bytes);

// The runs of at least `min_run` printable ASCII bytes (and tabs) in `bytes`, each on its own
// line, as `strings` prints them: the text a binary file carries in the clear.
std::string printableRuns(std::string_view bytes, size_t min_run = 8);

}  // namespace sy::policies
