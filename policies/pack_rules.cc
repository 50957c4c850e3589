#include "policies/pack_rules.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

namespace sy::policies {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// gitleaks' shannonEntropy: bits per byte over the secret's bytes.
double shannonEntropy(std::string_view s) {
  if (s.empty()) {
    return 0;
  }
  std::array<size_t, 256> counts{};
  for (unsigned char c : s) {
    ++counts[c];
  }
  double entropy = 0;
  const double n = static_cast<double>(s.size());
  for (size_t count : counts) {
    if (count != 0) {
      const double p = static_cast<double>(count) / n;
      entropy -= p * std::log2(p);
    }
  }
  return entropy;
}

std::string_view lineAround(std::string_view text, size_t begin, size_t end) {
  size_t from = text.rfind('\n', begin == 0 ? 0 : begin - 1);
  from = (from == std::string_view::npos || begin == 0) ? 0 : from + 1;
  size_t to = text.find('\n', end);
  to = to == std::string_view::npos ? text.size() : to;
  return text.substr(from, to - from);
}

bool applies(const CompiledAllowlist& list, std::string_view secret, std::string_view match,
             std::string_view line) {
  std::string_view target = list.target == PackAllowlist::Target::Secret  ? secret
                            : list.target == PackAllowlist::Target::Match ? match
                                                                          : line;
  const bool has_regexes = !list.regexes.empty();
  const bool has_stopwords = !list.stopwords.empty();
  const bool regex_hit =
      has_regexes && std::any_of(list.regexes.begin(), list.regexes.end(),
                                 [&](const auto& re) { return RE2::PartialMatch(target, *re); });
  bool stopword_hit = false;
  if (has_stopwords) {
    const std::string secret_lower = lower(secret);
    stopword_hit = std::any_of(
        list.stopwords.begin(), list.stopwords.end(),
        [&](const std::string& w) { return secret_lower.find(w) != std::string::npos; });
  }
  if (list.all) {
    // AND: every listed criterion must hold; paths and commits never hold for a prompt.
    return !list.has_path_criteria && (has_regexes || has_stopwords) &&
           (!has_regexes || regex_hit) && (!has_stopwords || stopword_hit);
  }
  return regex_hit || stopword_hit;
}

}  // namespace

std::vector<CompiledAllowlist> compileAllowlists(const std::vector<PackAllowlist>& lists,
                                                 const std::string& where,
                                                 std::vector<std::string>& errors) {
  std::vector<CompiledAllowlist> out;
  for (const PackAllowlist& list : lists) {
    CompiledAllowlist compiled;
    compiled.target = list.target;
    compiled.all = list.all;
    compiled.has_path_criteria = list.has_path_criteria;
    for (const std::string& regex : list.regexes) {
      RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_unique<RE2>(regex, options);
      if (!re->ok()) {
        errors.push_back(where + ": invalid allowlist regex: " + re->error());
        continue;
      }
      compiled.regexes.push_back(std::move(re));
    }
    for (const std::string& word : list.stopwords) {
      if (!word.empty()) {
        compiled.stopwords.push_back(lower(word));
      }
    }
    out.push_back(std::move(compiled));
  }
  return out;
}

std::string packPrefilter(const PackRule& rule) {
  if (rule.keywords.empty()) {
    return rule.regex;
  }
  std::string alternatives;
  for (const std::string& keyword : rule.keywords) {
    alternatives += alternatives.empty() ? "" : "|";
    alternatives += RE2::QuoteMeta(keyword);
  }
  return "(?i:" + alternatives + ")";
}

bool acceptPackMatch(const PackCheck& check, std::string_view text, const re2::StringPiece* groups,
                     int n, Span& value) {
  const auto spanOf = [&](const re2::StringPiece& g) {
    const size_t begin = static_cast<size_t>(g.data() - text.data());
    return Span{begin, begin + g.size()};
  };
  const Span match = spanOf(groups[0]);
  value = match;
  if (n > 1) {
    if (check.secret_group > 0) {
      if (check.secret_group >= n || groups[check.secret_group].data() == nullptr) {
        return false;
      }
      value = spanOf(groups[check.secret_group]);
    } else {
      for (int g = 1; g < n; ++g) {
        if (groups[g].data() != nullptr && !groups[g].empty()) {
          value = spanOf(groups[g]);
          break;
        }
      }
    }
  }
  if (value.end <= value.begin) {
    return false;
  }
  const std::string_view secret = text.substr(value.begin, value.end - value.begin);
  if (check.entropy > 0 && shannonEntropy(secret) <= check.entropy) {
    return false;
  }
  const std::string_view whole = text.substr(match.begin, match.end - match.begin);
  const std::string_view line = lineAround(text, match.begin, match.end);
  const auto allowed = [&](const std::vector<CompiledAllowlist>& lists) {
    return std::any_of(lists.begin(), lists.end(),
                       [&](const CompiledAllowlist& l) { return applies(l, secret, whole, line); });
  };
  if (allowed(check.allowlists) || (check.global != nullptr && allowed(*check.global))) {
    return false;
  }
  return true;
}

}  // namespace sy::policies
