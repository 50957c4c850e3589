#include "router/difficulty_features.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <string>

namespace sy::router::difficulty {
namespace {

// Bump when the meaning of a feature changes without any name or list below changing.
constexpr std::string_view kExtractorVersion = "difficulty-features-3";

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;
constexpr uint64_t kSeedUnigram = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kSeedBigram = 0xc2b2ae3d27d4eb4full;
constexpr uint64_t kSeedChar = 0x165667b19e3779f9ull;
constexpr uint64_t kBos = 0x27d4eb2f165667c5ull;
constexpr size_t kCuePrefix =
    7;  // cue lookup compares the first 7 bytes: "diagnosed" ~ "diagnosis"

constexpr std::array<std::string_view, kDenseCount> kDenseNames = {
    "log_bytes",   "log_words",   "questions",    "numbers",       "digit_ratio",
    "math_ops",    "latex",       "code_fence",   "code_lines",    "code_words",
    "constraints", "format_cues", "steps",        "analysis",      "list_items",
    "options",     "sentences",   "avg_word_len", "long_words",    "legal",
    "medical",     "financial",   "high_stakes",  "context_bytes", "context_segments",
    "demanding",   "light",       "tech_terms",   "tech_density"};

uint64_t mix(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// Fibonacci hashing: one multiply (this runs once per character of the prompt).
uint32_t bucket(uint64_t h) {
  return static_cast<uint32_t>((h * 0x9E3779B97F4A7C15ull) >> (64 - kHashBits));
}

uint64_t combine(uint64_t a, uint64_t b) { return mix(a * 31 + b) ^ (a >> 7); }

uint64_t fnv(std::string_view s) {
  uint64_t h = kFnvOffset;
  for (char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
  }
  return h;
}

enum CueBit : uint16_t {
  kConstraint = 1,
  kFormat = 2,
  kStep = 4,
  kAnalysis = 8,
  kLegal = 16,
  kMedical = 32,
  kFinancial = 64,
  kCode = 128,
  kDemanding = 256,
  kLight = 512,
  kTech = 1024,
};
constexpr size_t kCueKinds = 11;

struct Lexicon {
  CueBit bit;
  std::string_view words;  // space-separated; "a_b" is the bigram "a b"
};

// Hand-written cue lists (general vocabulary, not dataset items).
constexpr Lexicon kLexicons[] = {
    {kConstraint,
     "must exactly at_least at_most no_more no_less fewer_than more_than without don't do_not "
     "ensure only required requirement requirements constraint constraints such_that given_that "
     "assume assuming satisfy satisfies subject_to unless except cannot limit"},
    {kFormat,
     "words word sentences sentence paragraph paragraphs bullet bullets markdown json title "
     "capital lowercase uppercase highlight comma commas quotation placeholder postscript section "
     "poem essay email blog story tweet rewrite summarize summary letter song rap limerick haiku "
     "slogan joke riddle advertisement pitch persuasive funny tone style pretend imagine roleplay "
     "character dialogue describe list"},
    {kStep,
     "step steps first then next finally after total remaining left each per how_many how_much "
     "calculate compute prove derive solve find determine explain_why show_that times percent "
     "twice half average probability algorithm complexity optimize implement deduce infer "
     "true_or which_of"},
    {kAnalysis,
     "analyze analyse analysis assess assessment evaluate compare contrast implications risk "
     "risks recommend recommendation advise advice strategy tradeoff tradeoffs justify critique "
     "should_i can_i review interpret"},
    {kLegal,
     "legal law laws lawsuit lawyer attorney court judge statute statutory contract contracts "
     "clause clauses liability liable plaintiff defendant litigation sue sued tort negligence "
     "jurisdiction compliance regulation regulatory gdpr hipaa indemnify indemnification breach "
     "copyright trademark patent custody divorce eviction tenant landlord felony criminal "
     "prosecution constitutional amendment precedent legally nda"},
    {kMedical,
     "medical medicine medication medications diagnosis diagnose diagnosed symptom symptoms dose "
     "dosage doses mg prescription prescribed treatment treat patient patients disease surgery "
     "cancer tumor diabetes insulin pregnant pregnancy clinical doctor physician therapy "
     "chemotherapy antibiotic antibiotics side_effects infection chronic allergy allergic vaccine "
     "overdose prognosis hospital depression disorder syndrome"},
    {kFinancial,
     "financial finance invest investment investing investor portfolio stock stocks bond bonds "
     "tax taxes taxable loan loans mortgage debt credit interest_rate retirement ira pension "
     "securities audit accounting revenue earnings valuation dividend dividends equity asset "
     "assets liabilities balance_sheet cash_flow bankruptcy insurance budget savings hedge crypto "
     "cryptocurrency inflation capital_gains fiduciary irs"},
    // What is asked for: work that needs reasoning (proof, derivation, design, implementation,
    // analysis, optimisation, debugging) ...
    {kDemanding,
     "prove proof proofs derive derivation design architect architecture implement implementation "
     "optimize optimise optimization optimal efficient efficiently complexity algorithm algorithms "
     "debug refactor scalable scalability concurrency concurrent distributed correctness invariant "
     "theorem lemma rigorous rigorously formally formal_proof show_that solve solving analyze "
     "analyse tradeoffs trade-offs benchmark performance bottleneck simulate simulation model "
     "estimate approximate minimize maximize minimum maximum bound bounds asymptotic "
     "write_a write_code program function class script build develop"},
    // ... against work that restates or looks up (rewrite, summary, translation, lookup, chat).
    {kLight,
     "rewrite rephrase paraphrase reword summarize summarise summary translate translation "
     "proofread grammar spelling correct_the fix_the tell_me what_is who_is where_is when_is "
     "define definition meaning name list suggest recommend give_me classify categorize extract "
     "email letter poem story joke tweet slogan caption title headline greeting thank hello "
     "my_card my_account "
     "account card payment refund order delivery password app money transfer bank fee charge "
     "cancel subscription address phone pin balance top_up exchange_rate atm cash receipt "
     "recipe weather restaurant hotel trip travel vacation gift birthday party movie song"},
    // Technical vocabulary of code, math and science.
    {kTech,
     "api database sql server client thread threads memory cache compiler kernel gpu cpu "
     "matrix matrices vector vectors graph graphs tree trees node nodes recursion recursive "
     "polynomial polynomials prime primes integer integers theorem derivative integral integrals "
     "eigenvalue eigenvalues quantum entropy probability probabilities expected variance "
     "distribution random variable variables equation equations inequality function functions "
     "series sequence converge convergence limit modulo mod gcd factorial permutation "
     "permutations combinatorics lattice group groups ring field fields topology manifold "
     "differential linear nonlinear regression gradient neural network networks tensor "
     "pytorch numpy pandas rust golang typescript javascript python java kotlin swift haskell "
     "react docker kubernetes linux socket http tcp latency throughput parser regex "
     "binary hash heap stack queue array arrays pointer pointers struct async mutex lock "
     "query index schema transaction encryption cryptography protocol isomorphic rational "
     "irrational real_numbers number_theory sum product triangle circle angle angles area "
     "radius square_root root roots digit digits divisible remainder coefficient coefficients "
     "exponent logarithm log sin cos tan geometry algebra calculus physics chemistry velocity "
     "acceleration force energy mass momentum particle electron molecule reaction dna protein "
     "code coding compile compiler bug loop file input output data dataset implementation "
     "runtime memory_leak segfault exception stdin stdout unittest test_case edge_cases "
     "c++ cpp rustc llvm assembly shader opengl unity godot webgl sorting sort search "
     "dynamic_programming greedy dp bfs dfs dijkstra shortest_path subarray substring "
     "pandas groupby dataframe spring django flask fastapi node npm dotnet php ruby rails "
     "matlab powershell shell command terminal filesystem partition terraform ansible aws azure "
     "gcp cloud cluster deploy deployment nginx backend frontend library framework module "
     "modules callback event events atomic goroutine serialize deserialize marshal bytes byte "
     "bits bitwise encode decode cipher malware exploit vulnerability firewall network circuit "
     "voltage resistor transistor microcontroller arduino firmware embedded sensor signal "
     "fourier frequency wavelet matlab latex proof lagrange theorem corollary axiom "
     "centroid cluster clusters k-means classifier training inference transformer llm prompt "
     "token tokens embedding embeddings"},
    {kCode,
     "def return function class int void const import include lambda printf console var let elif "
     "struct public private static async await python javascript java sql regex api html css "
     "bash script code compile bug error exception array string integer boolean null none self "
     "args param typedef namespace std println print while"},
};

uint64_t cueKey(std::string_view token) { return fnv(token.substr(0, kCuePrefix)); }

// Open-addressing table from cue key (unigram or bigram) to CueBit mask. Built once, read-only.
class CueTable {
 public:
  CueTable() : keys_(kSlots, 0), bits_(kSlots, 0) {
    for (const Lexicon& lex : kLexicons) {
      std::string_view rest = lex.words;
      while (!rest.empty()) {
        size_t space = rest.find(' ');
        std::string_view entry = rest.substr(0, space);
        rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        size_t underscore = entry.find('_');
        uint64_t key = underscore == std::string_view::npos
                           ? cueKey(entry)
                           : combine(cueKey(entry.substr(0, underscore)),
                                     cueKey(entry.substr(underscore + 1)));
        insert(key, lex.bit);
      }
    }
  }

  uint16_t find(uint64_t key) const {
    for (size_t i = key & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      if (bits_[i] == 0) {
        return 0;
      }
      if (keys_[i] == key) {
        return bits_[i];
      }
    }
  }

 private:
  static constexpr size_t kSlots = 4096;  // > 8x the number of entries: short probe chains

  void insert(uint64_t key, uint16_t bit) {
    for (size_t i = key & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      if (bits_[i] == 0 || keys_[i] == key) {
        keys_[i] = key;
        bits_[i] |= bit;
        return;
      }
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<uint16_t> bits_;
};

const CueTable& cueTable() {
  static const CueTable table;
  return table;
}

bool isWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'' ||
         c >= 0x80;
}
bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool isSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

struct CueCounts {
  std::array<int, kCueKinds> by_bit{};  // index = log2(CueBit)
  void add(uint16_t bits) {
    for (size_t i = 0; i < kCueKinds; ++i) {
      by_bit[i] += (bits >> i) & 1;
    }
  }
  int get(CueBit bit) const { return by_bit[std::countr_zero(static_cast<unsigned>(bit))]; }
};

// Calls on_word(token_lowercase, has_digit) and on_punct(char) for the tokens of `text`.
// Words are runs of letters, digits, apostrophes and non-ASCII bytes; every other non-space byte
// is a one-byte punctuation token; '\n' is a punctuation token too.
template <class OnWord, class OnPunct>
void tokenize(std::string_view text, OnWord&& on_word, OnPunct&& on_punct) {
  char buffer[64];
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(text[i]);
    if (isWordByte(c)) {
      size_t len = 0;
      bool digit = false;
      size_t start = i;
      while (i < n && isWordByte(static_cast<unsigned char>(text[i]))) {
        auto w = static_cast<unsigned char>(text[i]);
        digit |= isDigit(w);
        if (len < sizeof buffer) {
          buffer[len++] = static_cast<char>(lower(w));
        }
        ++i;
      }
      on_word(std::string_view(buffer, len), digit, i - start);
    } else {
      if (!isSpace(c) || c == '\n') {
        on_punct(static_cast<char>(c));
      }
      ++i;
    }
  }
}

void countCues(std::string_view text, CueCounts& counts) {
  const CueTable& table = cueTable();
  uint64_t prev = 0;
  tokenize(
      text,
      [&](std::string_view word, bool digit, size_t) {
        if (digit) {
          prev = 0;
          return;
        }
        uint64_t key = cueKey(word);
        counts.add(table.find(key));
        if (prev != 0) {
          counts.add(table.find(combine(prev, key)));
        }
        prev = key;
      },
      [&](char) { prev = 0; });
}

float log1pf(int count) { return std::log1p(static_cast<float>(count)); }

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Line-level structure: code-looking lines, list items, multiple-choice options.
void scanLines(std::string_view text, int& code_lines, int& list_items, int& options) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t indent = 0;
    while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) {
      ++indent;
    }
    std::string_view body = line.substr(indent);
    while (!body.empty() && isSpace(static_cast<unsigned char>(body.back()))) {
      body.remove_suffix(1);
    }
    if (body.empty()) {
      continue;
    }
    char last = body.back();
    if ((indent >= 2 && line[0] != '\t' && body.size() > 1 && !startsWith(body, "- ")) ||
        last == ';' || last == '{' || last == '}' || startsWith(body, "def ") ||
        startsWith(body, "import ") || startsWith(body, "#include") || startsWith(body, ">>>") ||
        startsWith(body, "return ") || startsWith(body, "class ")) {
      ++code_lines;
    }
    if (startsWith(body, "- ") || startsWith(body, "* ") || startsWith(body, "\xe2\x80\xa2")) {
      ++list_items;
    } else if (isDigit(static_cast<unsigned char>(body[0]))) {
      size_t d = 0;
      while (d < body.size() && isDigit(static_cast<unsigned char>(body[d]))) {
        ++d;
      }
      if (d < body.size() && (body[d] == '.' || body[d] == ')') && d <= 3) {
        ++list_items;
      }
    }
    std::string_view opt = body;
    if (!opt.empty() && opt[0] == '(') {
      opt.remove_prefix(1);
    }
    if (opt.size() >= 2 && opt[0] >= 'A' && opt[0] <= 'J' &&
        (opt[1] == '.' || opt[1] == ')' || opt[1] == ':')) {
      ++options;
    }
  }
}

bool hasLatex(std::string_view text) {
  static constexpr std::string_view kMarks[] = {"\\frac",  "\\sqrt", "\\sum", "\\int", "\\cdot",
                                                "\\times", "\\pi",   "\\le",  "\\ge",  "\\("};
  for (std::string_view mark : kMarks) {
    if (text.find(mark) != std::string_view::npos) {
      return true;
    }
  }
  size_t dollar = text.find('$');
  if (dollar != std::string_view::npos) {
    size_t close = text.find('$', dollar + 1);
    // "$x^2$" is TeX; "$5 and $7" (money) has a digit right after the first '$'.
    if (close != std::string_view::npos && close - dollar < 80 && dollar + 1 < text.size() &&
        !isDigit(static_cast<unsigned char>(text[dollar + 1]))) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view denseName(size_t index) {
  return index < kDenseNames.size() ? kDenseNames[index] : std::string_view{};
}

uint64_t configHash() {
  static const uint64_t hash = [] {
    std::string descriptor(kExtractorVersion);
    descriptor += ";bits=" + std::to_string(kHashBits) + ";scan=" + std::to_string(kMaxScanBytes) +
                  ";ctx=" + std::to_string(kMaxContextBytes) +
                  ";prefix=" + std::to_string(kCuePrefix) +
                  ";seeds=" + std::to_string(kSeedUnigram) + "," + std::to_string(kSeedBigram) +
                  "," + std::to_string(kSeedChar);
    for (std::string_view name : kDenseNames) {
      descriptor += ";";
      descriptor += name;
    }
    for (const Lexicon& lex : kLexicons) {
      descriptor += ";" + std::to_string(lex.bit) + ":";
      descriptor += lex.words;
    }
    return fnv(descriptor);
  }();
  return hash;
}

void extract(std::span<const std::string_view> texts, Features& out) {
  out.words.clear();
  out.chars.clear();
  out.dense.fill(0);
  out.high_stakes = false;
  out.word_scale = 0;
  out.char_scale = 0;

  std::string_view last = texts.empty() ? std::string_view{} : texts.back();
  const size_t total_bytes = last.size();
  std::string_view text = last.substr(0, kMaxScanBytes);

  // Context: length, count and domain cues of the earlier segments, nearest first.
  CueCounts cues;
  size_t context_bytes = 0;
  size_t context_budget = kMaxContextBytes;
  for (size_t i = texts.size() > 1 ? texts.size() - 1 : 0; i-- > 0;) {
    context_bytes += texts[i].size();
    if (context_budget > 0) {
      std::string_view part = texts[i].substr(0, context_budget);
      context_budget -= part.size();
      countCues(part, cues);
    }
  }
  // Domain cues of the context count toward high_stakes; the other cue features describe only
  // the request itself.
  CueCounts context_cues = cues;

  // Words: unigram and bigram buckets, cue counts, word shape statistics.
  const CueTable& table = cueTable();
  uint64_t prev_hash = kBos;
  uint64_t prev_key = 0;
  int words = 0;
  int numbers = 0;
  int letters = 0;
  int long_words = 0;
  int math_ops = 0;
  int questions = 0;
  tokenize(
      text,
      [&](std::string_view word, bool digit, size_t length) {
        ++words;
        uint64_t h;
        if (digit) {
          ++numbers;
          char shape[2] = {'#', static_cast<char>('0' + std::min<size_t>(length, 5))};
          h = fnv(std::string_view(shape, 2));
          prev_key = 0;
        } else {
          h = fnv(word);
          letters += static_cast<int>(length);
          long_words += length >= 9 ? 1 : 0;
          uint64_t key = cueKey(word);
          cues.add(table.find(key));
          if (prev_key != 0) {
            cues.add(table.find(combine(prev_key, key)));
          }
          prev_key = key;
        }
        out.words.push_back(bucket(h ^ kSeedUnigram));
        out.words.push_back(bucket(combine(prev_hash, h) ^ kSeedBigram));
        prev_hash = h;
      },
      [&](char c) {
        uint64_t h = fnv(std::string_view(&c, 1));
        out.words.push_back(bucket(h ^ kSeedUnigram));
        out.words.push_back(bucket(combine(prev_hash, h) ^ kSeedBigram));
        prev_hash = h;
        prev_key = 0;
        questions += c == '?';
        math_ops += c == '=' || c == '+' || c == '^' || c == '*' || c == '/' || c == '<' ||
                    c == '>' || c == '%';
      });

  // Characters: 4-grams over lowercased text, digits folded to '0', whitespace runs to ' '.
  int digits = 0;
  int sentences = 0;
  uint32_t window = 0;
  int filled = 0;
  bool last_space = true;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (isSpace(c)) {
      if (last_space) {
        continue;
      }
      c = ' ';
      last_space = true;
    } else {
      last_space = false;
      if (isDigit(c)) {
        ++digits;
        c = '0';
        if (i > 0 && text[i - 1] == '-') {
          ++math_ops;
        }
      }
      c = lower(c);
      if ((c == '.' || c == '!' || c == '?') && (i + 1 == text.size() || isSpace(text[i + 1])) &&
          i > 0 && isWordByte(static_cast<unsigned char>(text[i - 1]))) {
        ++sentences;
      }
    }
    window = (window << 8) | c;
    if (++filled >= 4) {
      out.chars.push_back(bucket(window ^ kSeedChar));
    }
  }

  int code_lines = 0;
  int list_items = 0;
  int options = 0;
  scanLines(text, code_lines, list_items, options);

  CueCounts request_cues = cues;
  for (size_t i = 0; i < request_cues.by_bit.size(); ++i) {
    request_cues.by_bit[i] -= context_cues.by_bit[i];
  }
  const int legal = cues.get(kLegal);
  const int medical = cues.get(kMedical);
  const int financial = cues.get(kFinancial);
  const int domain = std::max({legal, medical, financial});
  out.high_stakes = (domain >= 2 && cues.get(kAnalysis) >= 1) || domain >= 3;

  Features& f = out;
  const float bytes = static_cast<float>(std::max<size_t>(text.size(), 1));
  f[Dense::LogBytes] = std::log1p(static_cast<float>(total_bytes)) / 4;
  f[Dense::LogWords] = log1pf(words) / 4;
  f[Dense::Questions] = log1pf(questions);
  f[Dense::Numbers] = log1pf(numbers);
  f[Dense::DigitRatio] = static_cast<float>(digits) / bytes;
  f[Dense::MathOps] = log1pf(math_ops);
  f[Dense::Latex] = hasLatex(text) ? 1 : 0;
  f[Dense::CodeFence] = text.find("```") != std::string_view::npos ? 1 : 0;
  f[Dense::CodeLines] = log1pf(code_lines);
  f[Dense::CodeWords] = log1pf(request_cues.get(kCode));
  f[Dense::Constraints] = log1pf(request_cues.get(kConstraint));
  f[Dense::FormatCues] = log1pf(request_cues.get(kFormat));
  f[Dense::Steps] = log1pf(request_cues.get(kStep));
  f[Dense::Analysis] = log1pf(request_cues.get(kAnalysis));
  f[Dense::ListItems] = log1pf(list_items);
  f[Dense::Options] = log1pf(options);
  f[Dense::Sentences] = log1pf(sentences);
  const int letter_words = words - numbers;
  f[Dense::AvgWordLen] =
      letter_words > 0 ? static_cast<float>(letters) / static_cast<float>(letter_words) / 10 : 0;
  f[Dense::LongWords] =
      letter_words > 0 ? static_cast<float>(long_words) / static_cast<float>(letter_words) : 0;
  f[Dense::Legal] = log1pf(legal);
  f[Dense::Medical] = log1pf(medical);
  f[Dense::Financial] = log1pf(financial);
  f[Dense::HighStakes] = out.high_stakes ? 1 : 0;
  f[Dense::ContextBytes] = std::log1p(static_cast<float>(context_bytes)) / 4;
  f[Dense::ContextSegments] = log1pf(texts.empty() ? 0 : static_cast<int>(texts.size() - 1));
  f[Dense::Demanding] = log1pf(request_cues.get(kDemanding));
  f[Dense::Light] = log1pf(request_cues.get(kLight));
  f[Dense::TechTerms] = log1pf(request_cues.get(kTech));
  f[Dense::TechDensity] =
      letter_words > 0 ? std::min(1.0f, 5.0f * static_cast<float>(request_cues.get(kTech)) /
                                            static_cast<float>(letter_words))
                       : 0;

  out.word_scale = out.words.empty() ? 0 : 1 / std::sqrt(static_cast<float>(out.words.size()));
  out.char_scale = out.chars.empty() ? 0 : 1 / std::sqrt(static_cast<float>(out.chars.size()));
}

}  // namespace sy::router::difficulty
