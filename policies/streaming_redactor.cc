#include "policies/streaming_redactor.h"

#include <algorithm>

#include "policies/validators.h"

namespace sy::policies {
namespace {

bool isTokenRunChar(char c) {
  return isAlnum(c) || c == '+' || c == '/' || c == '=' || c == '_' || c == '-' || c == '.' ||
         c == '~';
}

bool isPseudonymChar(char c) { return (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_'; }

constexpr size_t kPemEndMarkerMax = 48;  // "-----END OPENSSH PRIVATE KEY-----" and friends

}  // namespace

StreamingRedactor::StreamingRedactor(const DlpEngine* engine, ActionFn action_for,
                                     Pseudonymizer* pseudonymizer, Options options)
    : engine_(engine),
      action_for_(std::move(action_for)),
      pseudonymizer_(pseudonymizer),
      options_(options),
      window_(options.window_bytes != 0 ? options.window_bytes
                                        : (engine != nullptr ? engine->streamWindowBytes() : 0)) {}

std::string StreamingRedactor::feed(std::string_view delta) {
  buffer_.append(delta);
  return drain(false);
}

std::string StreamingRedactor::finish() { return drain(true); }

std::string StreamingRedactor::restoreRaw(std::string_view raw) const {
  return pseudonymizer_ != nullptr ? pseudonymizer_->restore(raw) : std::string(raw);
}

void StreamingRedactor::remember(std::string_view raw) {
  context_.append(raw);
  if (context_.size() > options_.context_bytes) {
    context_.erase(0, context_.size() - options_.context_bytes);
  }
}

void StreamingRedactor::consumeContinuation(bool final) {
  size_t consumed = 0;
  if (open_ == Continuation::TokenRun) {
    while (consumed < buffer_.size() && isTokenRunChar(buffer_[consumed])) {
      ++consumed;
    }
    if (consumed < buffer_.size() || final) {
      open_ = Continuation::None;
    }
  } else if (open_ == Continuation::PemBlock) {
    size_t end_marker = buffer_.find("-----END");
    size_t close =
        end_marker == std::string::npos ? std::string::npos : buffer_.find("-----", end_marker + 8);
    if (close != std::string::npos) {
      consumed = close + 5;
      open_ = Continuation::None;
    } else if (final) {
      consumed = buffer_.size();
      open_ = Continuation::None;
    } else {
      // Keep a tail that may be the start of the END marker.
      consumed = buffer_.size() > kPemEndMarkerMax ? buffer_.size() - kPemEndMarkerMax : 0;
    }
  }
  if (consumed > 0 && open_index_ < findings_.size()) {
    findings_[open_index_].end += consumed;
  }
  remember(std::string_view(buffer_).substr(0, consumed));
  buffer_.erase(0, consumed);
  offset_ += consumed;
}

size_t StreamingRedactor::safeCut(size_t cut) const {
  // Never split a pseudonym token: hold back a trailing "<LABEL_" that has no '>' yet.
  if (pseudonymizer_ != nullptr && pseudonymizer_->maxTokenLength() > 0) {
    size_t lookback = std::min(cut, pseudonymizer_->maxTokenLength());
    for (size_t p = cut; p-- > cut - lookback;) {
      if (buffer_[p] == '<') {
        bool partial = true;
        for (size_t q = p + 1; q < cut; ++q) {
          partial &= isPseudonymChar(buffer_[q]);
        }
        if (partial) {
          cut = p;
        }
        break;
      }
      if (!isPseudonymChar(buffer_[p])) {
        break;
      }
    }
  }
  // Never split a UTF-8 character.
  while (cut > 0 && cut < buffer_.size() &&
         (static_cast<unsigned char>(buffer_[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return cut;
}

std::vector<Finding> StreamingRedactor::scanHeld() const {
  std::vector<Finding> found;
  if (engine_ == nullptr) {
    return found;
  }
  const size_t context = context_.size();
  ScanResult scanned = engine_->scanText(context_ + buffer_, options_.source);
  if (scanned.limit && scanned.limit->end > context) {
    // A scan bound left this part unexamined: it goes out redacted, whatever the rules say.
    scanned.findings.push_back({std::string(kScanLimitDetectorId), DetectorClass::Secret, "",
                                scanned.limit->begin, scanned.limit->end, false});
  }
  for (Finding& f : scanned.findings) {
    if (f.end <= context) {
      continue;  // handled when it was emitted
    }
    f.start = std::max(f.start, context) - context;
    f.end -= context;
    found.push_back(std::move(f));
  }
  std::sort(found.begin(), found.end(),
            [](const Finding& a, const Finding& b) { return a.start < b.start; });
  return found;
}

std::string StreamingRedactor::drain(bool final) {
  std::string out;
  if (open_ != Continuation::None) {
    consumeContinuation(final);
    if (open_ != Continuation::None) {
      return out;
    }
  }
  const size_t available = buffer_.size();
  if (available == 0 || (!final && available <= window_ && engine_ != nullptr)) {
    return out;
  }
  size_t cut = final ? available : safeCut(available - (engine_ != nullptr ? window_ : 0));
  std::vector<Finding> found = scanHeld();
  // A finding that straddles the cut is emitted whole; one that also reaches the end of what
  // was received is longer than the window and continues in the next deltas.
  const size_t base_cut = cut;
  bool forced = false;
  for (const Finding& f : found) {
    if (f.start < cut && f.end > cut) {
      cut = f.end;
      forced |= !final && f.end == available && f.start < base_cut;
    }
  }
  std::erase_if(found, [&](const Finding& f) { return f.start >= cut; });
  out = emit(cut, found, forced);
  if (final && open_ != Continuation::None) {
    consumeContinuation(true);
  }
  return out;
}

std::string StreamingRedactor::emit(size_t cut, std::vector<Finding>& found, bool forced) {
  const size_t available = buffer_.size();
  std::vector<DlpAction> actions;
  for (const Finding& f : found) {
    DlpAction action = action_for_ ? action_for_(f) : DlpAction::Redact;
    actions.push_back(f.detector_id == kScanLimitDetectorId ? DlpAction::Redact : action);
  }
  std::string out;
  size_t pos = 0;
  Continuation continuation = Continuation::None;
  std::string_view raw(buffer_);
  for (const ActionGroup& group : groupFindings(found, actions)) {
    out += restoreRaw(raw.substr(pos, group.start - pos));
    const Finding& label = found[group.finding];
    out += replacementFor(label, raw.substr(group.start, group.end - group.start), group.action,
                          pseudonymizer_, options_.source);
    pos = group.end;
    if (forced && group.end == available && group.action != DlpAction::Allow &&
        label.detector_id != kScanLimitDetectorId) {
      continuation = label.detector_id == "secret.private_key" ? Continuation::PemBlock
                                                               : Continuation::TokenRun;
    }
  }
  out += restoreRaw(raw.substr(pos, cut - pos));
  for (Finding& f : found) {
    f.start += offset_;
    f.end += offset_;
    findings_.push_back(std::move(f));
  }
  if (continuation != Continuation::None) {
    // The finding that runs on past the window; consumeContinuation() extends it.
    for (size_t i = findings_.size(); i-- > 0;) {
      if (findings_[i].end == offset_ + available) {
        open_index_ = i;
        break;
      }
    }
  }
  remember(raw.substr(0, cut));
  buffer_.erase(0, cut);
  offset_ += cut;
  open_ = continuation;
  return out;
}

}  // namespace sy::policies
