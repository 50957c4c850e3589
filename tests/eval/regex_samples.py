#!/usr/bin/env python3
"""Synthesizes labelled secret samples from published detection regexes, for dlp_eval --samples.

Most providers in gitleaks' default rule set have no labelled example text, and
secrets-patterns-db has none at all. This draws random strings that each rule's own regex
matches (and, for gitleaks, that pass its entropy and keyword checks), places each in a short
sentence, and writes JSON lines {source, rule, text} OUTSIDE the repository (the samples derive
from the data in ../shared/data and must not be committed):

  tests/eval/regex_samples.py ../shared/data build/eval_samples.jsonl [--per-rule 5]

Sources: "gitleaks" (every rule of gitleaks.toml with a regex), "gitleaks_named" (for the
rules that find a key by the service's name, the same secrets as `SERVICE_API_KEY=<secret>`)
and "secrets_patterns_db" (the rules of rules-stable.yml marked `confidence: high`). Deterministic (fixed seed). Samples are
only as realistic as a regex: the value shape is right, the surrounding junk a regex allows
(`[\\w.-]{0,50}`) is random. Recall on them measures whether a detector accepts a provider's
token shape, not its false-positive rate.
"""
import json
import math
import random
import re
import sys
import tomllib

try:
    import re._parser as sre_parse  # Python >= 3.11
    import re._constants as C
except ImportError:  # pragma: no cover
    import sre_parse
    import sre_constants as C

import yaml

PRINTABLE = [chr(c) for c in range(32, 127)]
WORD = [c for c in PRINTABLE if c.isalnum() or c == "_"]
DIGITS = [c for c in "0123456789"]
SPACE = [" "]


def go_to_python(regex):
    """Go/RE2 regex -> Python re: scoped flags stay, global flags move to the front."""
    regex = regex.replace("\\z", "\\Z")
    regex = regex.replace("[[:alnum:]]", "[A-Za-z0-9]").replace("[:alnum:]", "A-Za-z0-9")
    regex = regex.replace("\\pL", "[A-Za-z]").replace("\\p{L}", "[A-Za-z]")
    flags = ""
    def lift(m):
        nonlocal flags
        flags += m.group(1)
        return ""
    regex = re.sub(r"\(\?([imsU]+)\)", lift, regex)
    flags = "".join(sorted(set(flags) - {"U"}))
    return ("(?%s)" % flags if flags else "") + regex


def category(cat):
    name = str(cat)
    if "NOT_DIGIT" in name:
        return [c for c in PRINTABLE if not c.isdigit()]
    if "DIGIT" in name:
        return DIGITS
    if "NOT_WORD" in name:
        return [c for c in PRINTABLE if c not in WORD]
    if "WORD" in name:
        return WORD
    if "NOT_SPACE" in name:
        return [c for c in PRINTABLE if c != " "]
    if "SPACE" in name:
        return SPACE
    return WORD


def class_chars(items):
    allowed = set()
    negate = False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            allowed.add(chr(av))
        elif op is C.RANGE:
            lo, hi = av
            allowed.update(chr(c) for c in range(lo, min(hi, 126) + 1))
        elif op is C.CATEGORY:
            allowed.update(category(av))
    if negate:
        return [c for c in PRINTABLE if c not in allowed]
    return [c for c in allowed if 32 <= ord(c) < 127] or [c for c in allowed]


def gen(tokens, rng, out):
    for op, av in tokens:
        if op is C.LITERAL:
            out.append(chr(av))
        elif op is C.NOT_LITERAL:
            out.append(rng.choice([c for c in WORD if ord(c) != av]))
        elif op is C.ANY:
            out.append(rng.choice(WORD))
        elif op is C.IN:
            chars = class_chars(av)
            if chars:
                out.append(rng.choice(sorted(chars)))
        elif op is C.BRANCH:
            gen(rng.choice(av[1]), rng, out)
        elif op is C.SUBPATTERN:
            gen(av[-1], rng, out)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, sub = av
            hi = lo + 6 if hi is C.MAXREPEAT else hi
            if lo == 0 and rng.random() < 0.6:
                n = 0
            else:
                n = rng.randint(lo, max(lo, min(hi, lo + 12))) if hi - lo > 12 else rng.randint(lo, hi)
            for _ in range(n):
                gen(sub, rng, out)
        elif op is C.CATEGORY:
            out.append(rng.choice(category(av)))
        # AT (anchors, \b) and everything else: nothing to emit


def entropy(s):
    if not s:
        return 0.0
    counts = {}
    for c in s:
        counts[c] = counts.get(c, 0) + 1
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


def secret_of(match, group):
    if group:
        return match.group(group) or ""
    for g in match.groups():
        if g:
            return g
    return match.group(0)


def samples(regex, rng, count, check=None, tries=200):
    try:
        py = go_to_python(regex)
        compiled = re.compile(py)
        parsed = sre_parse.parse(py)
    except (re.error, Exception):
        return []
    found = []
    for _ in range(tries):
        out = []
        try:
            gen(parsed, rng, out)
        except Exception:
            return found
        text = "".join(out)
        if "\n" in text or len(text) > 600:
            continue
        m = compiled.search(text)
        if m is None or (check is not None and not check(text, m)):
            continue
        if text not in found:
            found.append(text)
        if len(found) >= count:
            break
    return found


SEMI_GENERIC = r"""(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)"""
KEY_SUFFIXES = ["API_KEY", "TOKEN", "SECRET", "ACCESS_TOKEN", "CLIENT_SECRET", "KEY"]

TEMPLATES = [
    "here is the config I use: {}",
    "{}",
    "why does this fail?\n{}\nthanks",
]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    data, out_path = sys.argv[1], sys.argv[2]
    per_rule = int(sys.argv[sys.argv.index("--per-rule") + 1]) if "--per-rule" in sys.argv else 5
    rng = random.Random(14)
    rows = []
    with open(data + "/gitleaks/gitleaks.toml", "rb") as f:
        config = tomllib.load(f)
    for rule in config.get("rules", []):
        if "regex" not in rule or "path" in rule:
            continue
        keywords = [k.lower() for k in rule.get("keywords", [])]
        threshold = rule.get("entropy", 0)
        group = rule.get("secretGroup", 0)

        def check(text, m, keywords=keywords, threshold=threshold, group=group):
            if keywords and not any(k in text.lower() for k in keywords):
                return False
            return threshold == 0 or entropy(secret_of(m, group)) > threshold

        found = samples(rule["regex"], rng, per_rule, check)
        for text in found:
            rows.append({"source": "gitleaks", "rule": rule["id"],
                         "text": rng.choice(TEMPLATES).format(text)})
        # The same secrets as a configuration line names them (SERVICE_API_KEY=<secret>), for
        # the rules that find a secret by the service's name in the key: the random text the
        # regex allows around the name is what makes the plain samples unrealistic.
        if SEMI_GENERIC in rule["regex"] and keywords:
            compiled = re.compile(go_to_python(rule["regex"]))
            for text in found:
                m = compiled.search(text)
                secret = secret_of(m, group) if m else ""
                if not secret:
                    continue
                line = "%s_%s=%s" % (keywords[0].upper().replace("-", "_"),
                                      rng.choice(KEY_SUFFIXES), secret)
                if compiled.search(line) and check(line, compiled.search(line)):
                    rows.append({"source": "gitleaks_named", "rule": rule["id"],
                                 "text": rng.choice(TEMPLATES).format(line)})
    with open(data + "/secrets_patterns_db/rules-stable.yml") as f:
        db = yaml.safe_load(f)
    for item in db.get("patterns", []):
        p = item.get("pattern", {})
        if p.get("confidence") != "high":
            continue
        for text in samples(p["regex"], rng, per_rule):
            rows.append({"source": "secrets_patterns_db", "rule": p["name"],
                         "text": rng.choice(TEMPLATES).format(text)})
    with open(out_path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    per_source = {}
    for row in rows:
        per_source.setdefault(row["source"], set()).add(row["rule"])
    for source, rules in sorted(per_source.items()):
        print("%s: %d rules with samples" % (source, len(rules)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
