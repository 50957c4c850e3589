// Best-effort validators for street addresses and person names: context words and a small
// gazetteer of common given names (written for this project, not taken from any dataset).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "policies/pii_validators.h"
#include "policies/validators.h"

namespace sy::policies {
namespace {

// Common given names across English, Romance, Germanic, Nordic, Slavic, Greek, Arabic, Indian,
// East Asian and African naming traditions. Lower-case ASCII.
constexpr std::string_view kGivenNames[] = {
    "aaron",     "abdul",     "abigail",   "adam",      "adrian",      "ahmed",     "aisha",
    "akira",     "alan",      "albert",    "alberto",   "alejandro",   "aleksandr", "alex",
    "alexander", "alexandra", "alice",     "alicia",    "ali",         "alison",    "amanda",
    "amelia",    "amir",      "amit",      "amy",       "ana",         "anders",    "andrea",
    "andreas",   "andrew",    "andrzej",   "angela",    "anita",       "anna",      "anne",
    "antonio",   "anton",     "arjun",     "arthur",    "ashley",      "astrid",    "barbara",
    "beatriz",   "ben",       "benjamin",  "bernard",   "betty",       "bjorn",     "boris",
    "brandon",   "brian",     "bruno",     "carl",      "carla",       "carlos",    "carmen",
    "carol",     "caroline",  "catherine", "charles",   "charlotte",   "chen",      "chloe",
    "chris",     "christian", "christina", "christine", "christopher", "claire",    "claudia",
    "daniel",    "daniela",   "david",     "deborah",   "deepak",      "denise",    "dennis",
    "diana",     "diego",     "dimitri",   "donald",    "donna",       "dorothy",   "edward",
    "elena",     "elif",      "elizabeth", "ella",      "emily",       "emma",      "emmanuel",
    "eric",      "erik",      "erin",      "ethan",     "eva",         "fatima",    "felipe",
    "fernando",  "fiona",     "francesca", "francesco", "francisco",   "frank",     "franz",
    "fred",      "gabriel",   "gabriela",  "george",    "georg",       "giovanni",  "giulia",
    "giuseppe",  "gloria",    "gregory",   "hana",      "hannah",      "hans",      "harold",
    "harry",     "hassan",    "heather",   "heinz",     "helen",       "helena",    "henrik",
    "henry",     "hiroshi",   "hugo",      "hussein",   "ibrahim",     "igor",      "ingrid",
    "irina",     "isabel",    "isabella",  "ivan",      "jack",        "jacob",     "jakub",
    "james",     "jan",       "jane",      "janet",     "jason",       "javier",    "jean",
    "jeffrey",   "jennifer",  "jens",      "jeremy",    "jessica",     "joanna",    "joao",
    "johan",     "johann",    "johannes",  "john",      "jonathan",    "jorge",     "jose",
    "joseph",    "joshua",    "juan",      "judith",    "judy",        "julia",     "julian",
    "julie",     "jurgen",    "justin",    "karen",     "karin",       "karl",      "katarzyna",
    "katherine", "kathleen",  "kenji",     "kenneth",   "kevin",       "kim",       "klaus",
    "kumar",     "lars",      "laura",     "lauren",    "leon",        "leonardo",  "li",
    "liam",      "linda",     "lisa",      "liu",       "lorenzo",     "louis",     "luca",
    "lucas",     "lucia",     "luis",      "lukas",     "maria",       "marie",     "marek",
    "margaret",  "maria",     "marina",    "mario",     "marta",       "martin",    "mary",
    "mateo",     "matteo",    "matthew",   "matthias",  "maxim",       "mehmet",    "melissa",
    "michael",   "michelle",  "miguel",    "mikhail",   "milan",       "mohamed",   "mohammed",
    "muhammad",  "nadia",     "nancy",     "natalia",   "nathan",      "nicholas",  "nicole",
    "nikolai",   "nina",      "noah",      "olga",      "oliver",      "olivia",    "omar",
    "oscar",     "pablo",     "pamela",    "paolo",     "patricia",    "patrick",   "paul",
    "paula",     "pedro",     "peter",     "petra",     "philip",      "pierre",    "pietro",
    "priya",     "rachel",    "rafael",    "rahul",     "raj",         "ramon",     "raul",
    "rebecca",   "richard",   "robert",    "roberto",   "ronald",      "rosa",      "ryan",
    "sabine",    "sakura",    "samuel",    "sandra",    "sanjay",      "sara",      "sarah",
    "scott",     "sean",      "sergei",    "sergio",    "sharon",      "simon",     "sofia",
    "sophie",    "stefan",    "stephanie", "stephen",   "steven",      "susan",     "sven",
    "tamara",    "tanja",     "teresa",    "thomas",    "timothy",     "tomas",     "tom",
    "tyler",     "ulrich",    "valentina", "vanessa",   "victor",      "victoria",  "vikram",
    "vincent",   "virginia",  "vladimir",  "wei",       "william",     "wolfgang",  "xavier",
    "yan",       "yuki",      "yusuf",     "zhang",     "zoe"};

// Capitalized words that start sentences or titles and are never a given name here.
constexpr std::string_view kNotNames[] = {
    "a",       "about",    "after",    "all",       "also",      "an",       "and",      "any",
    "april",   "are",      "as",       "at",        "august",    "be",       "because",  "before",
    "but",     "by",       "can",      "colleague", "customer",  "dear",     "december", "do",
    "dr",      "each",     "every",    "everyone",  "february",  "for",      "friday",   "friend",
    "friends", "from",     "have",     "he",        "her",       "here",     "his",      "how",
    "i",       "if",       "in",       "is",        "it",        "its",      "january",  "july",
    "june",    "let",      "madam",    "manager",   "march",     "may",      "me",       "monday",
    "miss",    "mr",       "mrs",      "ms",        "mx",        "my",       "new",      "no",
    "not",     "november", "now",      "october",   "of",        "on",       "or",       "our",
    "please",  "prof",     "saturday", "she",       "september", "sir",      "so",       "some",
    "sunday",  "support",  "team",     "thank",     "thanks",    "that",     "the",      "their",
    "then",    "there",    "these",    "they",      "this",      "thursday", "to",       "today",
    "tuesday", "user",     "we",       "wednesday", "what",      "when",     "where",    "which",
    "who",     "why",      "will",     "with",      "yes",       "you",      "your"};

std::string lowerWord(std::string_view word) {
  std::string out;
  for (char c : word) {
    out.push_back(toLowerAscii(c));
  }
  return out;
}

bool inList(std::string_view word, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

template <size_t N>
bool inArray(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

// The words of a candidate name: runs of characters that are not spaces.
std::vector<std::string_view> wordsOf(std::string_view text) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n')) {
      ++pos;
    }
    size_t start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t' && text[pos] != '\n') {
      ++pos;
    }
    if (pos > start) {
      words.push_back(text.substr(start, pos - start));
    }
  }
  return words;
}

}  // namespace

bool validateStreetAddress(const MatchInput& input, Span& value) {
  std::string_view text = input.text.substr(value.begin, value.end - value.begin);
  if (text.size() < 8 || gluedBefore(input.text, value.begin)) {
    return false;
  }
  for (std::string_view word : wordsOf(text)) {
    std::string lower = lowerWord(word);
    if (inList(lower, {"the",   "a",      "an",    "on",   "in",    "down", "up",      "to",
                       "of",    "my",     "his",   "her",  "their", "and",  "or",      "for",
                       "with",  "at",     "by",    "from", "miles", "km",   "minutes", "hours",
                       "times", "people", "years", "days", "is",    "was",  "are",     "were",
                       "this",  "that",   "per",   "more", "than",  "each"})) {
      return false;
    }
  }
  return true;
}

bool validateContextName(const MatchInput& input, Span& value) {
  auto words = wordsOf(input.text.substr(value.begin, value.end - value.begin));
  if (words.empty()) {
    return false;
  }
  // Trim trailing words that are not names ("Dear John Please" -> "John").
  while (!words.empty() && inArray(kNotNames, lowerWord(words.back()))) {
    words.pop_back();
  }
  if (words.empty() || inArray(kNotNames, lowerWord(words.front()))) {
    return false;
  }
  value.begin = static_cast<size_t>(words.front().data() - input.text.data());
  value.end = static_cast<size_t>(words.back().data() + words.back().size() - input.text.data());
  // "I am Tired" is not a name: after "I am" the first word must be a known given name.
  std::string_view before = input.text.substr(input.match.begin, value.begin - input.match.begin);
  std::string lower_before = lowerWord(before);
  if (lower_before.find("i am") != std::string::npos ||
      lower_before.find("i'm") != std::string::npos) {
    return inArray(kGivenNames, lowerWord(words.front()));
  }
  return true;
}

bool validateGazetteerName(const MatchInput& input, Span& value) {
  auto words = wordsOf(input.text.substr(value.begin, value.end - value.begin));
  if (words.empty() || !inArray(kGivenNames, lowerWord(words.front()))) {
    return false;
  }
  while (words.size() > 1 && inArray(kNotNames, lowerWord(words.back()))) {
    words.pop_back();
  }
  value.end = static_cast<size_t>(words.back().data() + words.back().size() - input.text.data());
  return true;
}

}  // namespace sy::policies
