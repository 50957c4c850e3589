#include "policies/dlp_transform.h"

#include <openssl/rand.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>

#include "policies/validators.h"

namespace sy::policies {
namespace {

int strictness(DlpAction action) {
  switch (action) {
    case DlpAction::Allow:
      return 0;
    case DlpAction::Mask:
      return 1;
    case DlpAction::Pseudonymize:
      return 2;
    case DlpAction::Redact:
      return 3;
  }
  return 3;
}

bool isTokenLabelChar(char c) { return (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_'; }

}  // namespace

void Pseudonymizer::reserve(std::string_view text) {
  for (size_t open = text.find('<'); open != std::string_view::npos;
       open = text.find('<', open + 1)) {
    size_t close = open + 1;
    while (close < text.size() && isTokenLabelChar(text[close])) {
      ++close;
    }
    // "<" label "_" random ">": at least one label character before the separator.
    const size_t length = close - open + 1;
    if (close < text.size() && text[close] == '>' && length >= kRandomChars + 4 &&
        text[close - kRandomChars - 1] == '_') {
      reserved_.push_back(std::hash<std::string_view>{}(text.substr(open, length)));
      reserved_sorted_ = false;
    }
  }
}

bool Pseudonymizer::isReserved(std::string_view token) {
  if (!reserved_sorted_) {
    std::sort(reserved_.begin(), reserved_.end());
    reserved_sorted_ = true;
  }
  return std::binary_search(reserved_.begin(), reserved_.end(),
                            std::hash<std::string_view>{}(token));
}

std::string Pseudonymizer::newToken(std::string_view label) {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford
  for (;;) {
    unsigned char bytes[kRandomChars];
    if (random_ != nullptr) {
      random_(std::span<unsigned char>(bytes));
    } else if (RAND_bytes(bytes, sizeof bytes) != 1) {
      // OpenSSL's generator failed (not expected once seeded): fall back to the OS's.
      std::random_device device;
      for (unsigned char& byte : bytes) {
        byte = static_cast<unsigned char>(device());
      }
    }
    std::string token;
    token.reserve(label.size() + kRandomChars + 3);
    token.push_back('<');
    token.append(label);
    token.push_back('_');
    for (unsigned char byte : bytes) {
      token.push_back(kAlphabet[byte % kAlphabet.size()]);  // 256 % 32 == 0: uniform
    }
    token.push_back('>');
    if (!entry_by_token_.contains(token) && !isReserved(token)) {
      return token;
    }
  }
}

std::string Pseudonymizer::tokenFor(std::string_view label, std::string_view value,
                                    TextSource source) {
  const bool restorable = scope_ == RestoreScope::All || source == TextSource::User;
  std::string key;
  key.reserve(label.size() + 1 + value.size());
  key.append(label).push_back('\0');
  key.append(value);
  auto it = token_by_key_.find(key);
  if (it != token_by_key_.end()) {
    Entry& entry = entry_by_token_.at(it->second);
    if (restorable && !entry.restorable) {
      entry.restorable = true;
      ++restorable_;
    }
    return it->second;
  }
  std::string token = newToken(label);
  max_token_length_ = std::max(max_token_length_, token.size());
  entry_by_token_.emplace(token, Entry{std::string(value), restorable});
  restorable_ += restorable ? 1 : 0;
  token_by_key_.emplace(std::move(key), token);
  return token;
}

std::optional<std::string_view> Pseudonymizer::originalFor(std::string_view token) const {
  auto it = entry_by_token_.find(std::string(token));
  if (it == entry_by_token_.end() || !it->second.restorable) {
    return std::nullopt;
  }
  return std::string_view(it->second.value);
}

std::string Pseudonymizer::restore(std::string_view text) const {
  if (restorable_ == 0) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('<', pos);
    if (open == std::string_view::npos) {
      break;
    }
    size_t close = open + 1;
    while (close < text.size() && close - open <= max_token_length_ &&
           isTokenLabelChar(text[close])) {
      ++close;
    }
    if (close < text.size() && text[close] == '>') {
      auto original = originalFor(text.substr(open, close - open + 1));
      if (original.has_value()) {
        out.append(text.substr(pos, open - pos));
        out.append(*original);
        pos = close + 1;
        continue;
      }
    }
    out.append(text.substr(pos, open + 1 - pos));
    pos = open + 1;
  }
  out.append(text.substr(pos));
  return out;
}

std::string maskValue(std::string_view detector_id, std::string_view value) {
  if (detector_id == "email") {
    size_t at = value.find('@');
    if (at != std::string_view::npos && at > 0) {
      return std::string(value.substr(0, 1)) + "***" + std::string(value.substr(at));
    }
  }
  std::string tail;
  size_t alnum = 0;
  for (size_t i = value.size(); i-- > 0;) {
    if (isAlnum(value[i])) {
      ++alnum;
      if (tail.size() < 4) {
        tail.insert(tail.begin(), value[i]);
      }
    }
  }
  return alnum >= 8 ? "****" + tail : "****";
}

std::string replacementFor(const Finding& finding, std::string_view value, DlpAction action,
                           Pseudonymizer* pseudonymizer, TextSource source) {
  switch (action) {
    case DlpAction::Allow:
      return std::string(value);
    case DlpAction::Mask:
      return maskValue(finding.detector_id, value);
    case DlpAction::Pseudonymize:
      if (pseudonymizer != nullptr) {
        return pseudonymizer->tokenFor(labelFor(finding.detector_id), value, source);
      }
      [[fallthrough]];
    case DlpAction::Redact:
      return "[" + labelFor(finding.detector_id) + "]";
  }
  return "[" + labelFor(finding.detector_id) + "]";
}

std::vector<ActionGroup> groupFindings(std::span<const Finding> findings,
                                       std::span<const DlpAction> actions) {
  std::vector<size_t> order(std::min(findings.size(), actions.size()));
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return findings[a].start < findings[b].start; });
  std::vector<ActionGroup> groups;
  for (size_t index : order) {
    const Finding& finding = findings[index];
    if (finding.end <= finding.start) {
      continue;
    }
    if (!groups.empty() && finding.start < groups.back().end) {
      ActionGroup& group = groups.back();
      group.end = std::max(group.end, finding.end);
      if (strictness(actions[index]) > strictness(group.action)) {
        group.action = actions[index];
        group.finding = index;
      }
      continue;
    }
    groups.push_back({finding.start, finding.end, index, actions[index]});
  }
  return groups;
}

std::string applyActions(std::string_view text, std::span<const Finding> findings,
                         std::span<const DlpAction> actions, Pseudonymizer* pseudonymizer,
                         TextSource source) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const ActionGroup& group : groupFindings(findings, actions)) {
    size_t start = std::min(group.start, text.size());
    size_t end = std::min(group.end, text.size());
    if (start < pos) {
      continue;
    }
    out.append(text.substr(pos, start - pos));
    out.append(replacementFor(findings[group.finding], text.substr(start, end - start),
                              group.action, pseudonymizer, source));
    pos = end;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

std::string redact(std::string_view text, std::span<const Finding> findings) {
  std::vector<DlpAction> actions(findings.size(), DlpAction::Redact);
  return applyActions(text, findings, actions, nullptr);
}

}  // namespace sy::policies
