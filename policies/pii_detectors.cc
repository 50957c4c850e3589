// The PII detectors of the default pack: patterns find candidates, validators decide.
#include "policies/detector_spec.h"
#include "policies/pii_validators.h"

namespace sy::policies {
namespace {

// Separators tolerated between digits: spaces, dots and dashes ("4111 1111-1111.1111"), and the
// ways people and tools format or disguise groups: line breaks, tabs, '/', ',', '_', '|', ':', ';'
// ("4111/1111/1111/1111", one group per line). The validators decide which shapes count.
#define SY_DIGIT_SEP "[\\s./,_|:;\\-]{0,6}"

constexpr std::string_view kMonths =
    "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

// Off by default: context words and gazetteers find many names and addresses, and also many
// things that are neither.
void addBestEffortDetectors(std::vector<BuiltinDetector>& detectors) {
  detectors.push_back(
      {"street_address",
       DetectorClass::Pii,
       "confidential",
       false,
       30,
       "street address (best effort: number + street type, European forms, PO boxes)",
       {pattern(
            "(?i)\\b\\d{1,6}[a-z]?\\s+(?:[\\p{L}][\\p{L}'.\\-]*\\s+){0,3}"
            "(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|"
            "pl|terrace|parkway|pkwy|circle|cir|highway|hwy|square|sq|trail|crescent|close|alley|"
            "plaza|row|loop|pike|ridge|gardens|grove|mews|hill|park|walk)\\b\\.?"
            "(?:,?\\s+(?:apt|apartment|suite|ste|unit|flat|floor|room|#)\\.?\\s*#?\\d+[a-z]?)?",
            validateStreetAddress, 96),
        pattern(
            "\\b\\p{Lu}\\p{Ll}+(?:stra(?:ß|ss)e|str\\.|weg|gasse|platz|allee|katu|gatan|gata|vej|"
            "vei|laan|straat|kuja|tie|ring|damm|ufer)\\s+\\d{1,5}[a-z]?\\b",
            nullptr, 64),
        pattern(
            "\\b(?:Rua|Rue|Via|Viale|Calle|Avenida|Avenue|Piazza|Plaza|Carrer|Strada|Ulica|ul\\.)"
            "\\s+(?:\\p{Lu}[\\p{L}'\\-]*\\s+){1,3}\\d{1,5}\\b",
            nullptr, 96),
        pattern("(?i)\\bp\\.?\\s?o\\.?\\s+box\\s+\\d{1,6}\\b", nullptr, 24)}});
  detectors.push_back(
      {"person_name",
       DetectorClass::Pii,
       "confidential",
       false,
       20,
       "person name (best effort: context words and a given-name gazetteer)",
       {pattern(
            "(?:\\b(?:[Mm]y name is|[Nn]ame\\s*[:=]|I am|I'm|[Dd]ear|[Ss]incerely,?|[Rr]egards,?|"
            "[Aa]ttn:?|[Ss]igned,?|[Cc]ontact)|\\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\\.?)[ \\t]+"
            "(\\p{Lu}[\\p{Ll}'\\-]+(?:[ \\t]+\\p{Lu}\\.)?(?:[ \\t]+\\p{Lu}[\\p{Ll}'\\-]+){0,2})",
            validateContextName, 64),
        pattern("\\b(\\p{Lu}\\p{Ll}{1,14}(?:[ \\t]+\\p{Lu}\\.)?(?:[ "
                "\\t]+\\p{Lu}[\\p{Ll}'\\-]{1,20})?)\\b",
                validateGazetteerName, 48)}});
}

}  // namespace

std::vector<BuiltinDetector> piiDetectors() {
  static const std::string kBirthDate =
      std::string(
          "(?i)\\b(?:d\\.?o\\.?b\\.?|date\\s+of\\s+birth|birth\\s*date|birthday|born(?:\\s+on)?|"
          "geboren(?:\\s+am)?|fecha\\s+de\\s+nacimiento|n[ée]e?\\s+le)\\b[\\s:=,\\-]{0,6}"
          "(?:(?:is|was|on|of|am)\\s+){0,2}(") +
      "\\d{1,2}[/.\\-]\\d{1,2}[/.\\-](?:\\d{4}|\\d{2})|\\d{4}[/.\\-]\\d{1,2}[/.\\-]\\d{1,2}|" +
      "\\d{1,2}(?:st|nd|rd|th)?\\s+(?:of\\s+)?" + std::string(kMonths) + "\\.?,?\\s+\\d{4}|" +
      std::string(kMonths) + "\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+\\d{4})\\b";

  std::vector<BuiltinDetector> detectors;
  detectors.push_back(
      {"email",
       DetectorClass::Pii,
       "confidential",
       true,
       75,
       "email address",
       {pattern("[A-Za-z0-9._%+\\-']+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,24}\\b",
                validateEmail, 254),
        pattern("(?i)\\b[a-z0-9._%+\\-]+\\s*[\\[({<]\\s*at\\s*[\\])}>]\\s*[a-z0-9\\-]+"
                "(?:\\s*[\\[({<]\\s*dot\\s*[\\])}>]\\s*[a-z0-9\\-]+)+",
                validateObfuscatedEmail, 128)}});
  detectors.push_back(
      {"phone",
       DetectorClass::Pii,
       "confidential",
       true,
       50,
       "phone number (E.164, international or national format)",
       {numberPattern("\\+?\\(?\\d[\\d ().\\-]{5,24}\\d(?:\\s?(?:x|ext\\.?)\\s?\\d{1,6})?",
                      validatePhone, 48, 6)}});
  detectors.push_back(
      {"credit_card",
       DetectorClass::Pii,
       "restricted",
       true,
       90,
       "payment card number (Luhn-valid, known network prefix and length)",
       {numberPattern("\\b(?:\\d" SY_DIGIT_SEP "){11,18}\\d\\b", validateCard, 128, 12)}});
  detectors.push_back(
      {"iban",
       DetectorClass::Pii,
       "restricted",
       true,
       85,
       "IBAN (registered country length, mod-97 check)",
       {pattern("(?i)\\b[a-z]{2}\\d{2}(?:[ \\-]?[a-z0-9]|[\\s/\\-]{1,6}[a-z0-9]){11,30}",
                validateIban, 200)}});
  detectors.push_back(
      {"us_ssn",
       DetectorClass::Pii,
       "restricted",
       true,
       80,
       "US social security number (valid area, group and serial)",
       {pattern("\\b\\d{3}[\\s./,\\-]{0,4}\\d{2}[\\s./,\\-]{0,4}\\d{4}\\b", validateSsn, 32)}});
  detectors.push_back({"ipv4",
                       DetectorClass::Pii,
                       "internal",
                       true,
                       65,
                       "IPv4 address",
                       {pattern("\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b", validateIpv4, 16)}});
  detectors.push_back({"ipv6",
                       DetectorClass::Pii,
                       "internal",
                       true,
                       70,
                       "IPv6 address",
                       {pattern("(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}", validateIpv6, 40)}});
  detectors.push_back({"date_of_birth",
                       DetectorClass::Pii,
                       "confidential",
                       true,
                       40,
                       "date of birth (a date next to birth/DOB context)",
                       {pattern(kBirthDate, validateBirthDate, 64)}});
  addBestEffortDetectors(detectors);
  return detectors;
}

}  // namespace sy::policies
