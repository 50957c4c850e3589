// Synthetic protected values for the adversarial corpus, from a seeded PRNG: Luhn-valid card
// numbers, mod-97-valid IBANs built from made-up account numbers, SSNs in the valid ranges,
// e-mail addresses at example.com, vendor-shaped keys (AWS, GitHub, OpenAI) of random characters,
// and PEM private keys with a random base64 body. Nothing here is, or is derived from, real data.
// Each value carries `needles`: what the leak check looks for after normalization
// (lib/normalize.mjs): upper-case letters and digits only.

// sfc32, seeded from a string: deterministic across Node versions and platforms.
export function makeRng(seedText) {
  let h = 1779033703 ^ seedText.length;
  for (let i = 0; i < seedText.length; i++) {
    h = Math.imul(h ^ seedText.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  const next = () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    return (h ^= h >>> 16) >>> 0;
  };
  let a = next(), b = next(), c = next(), d = next();
  const u32 = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  const rng = {
    u32,
    int: (n) => u32() % n,                       // 0..n-1
    range: (lo, hi) => lo + (u32() % (hi - lo + 1)),  // lo..hi inclusive
    pick: (list) => list[u32() % list.length],
    chars: (alphabet, n) => Array.from({ length: n }, () => alphabet[u32() % alphabet.length]).join(''),
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => u32() & 0xff)),
  };
  return rng;
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = UPPER + LOWER + DIGITS;

// What the leak check compares: upper-case ASCII letters and digits only.
export function project(text) {
  return text.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

function luhnCheckDigit(partial) {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(digits) {
  return luhnCheckDigit(digits.slice(0, -1)) === digits.at(-1);
}

// Visa 16, Mastercard 16 (51-55) or Amex 15 (34/37), Luhn-valid, random body.
function card(rng) {
  const network = rng.pick(['visa', 'visa', 'mastercard', 'amex']);
  let prefix;
  let length;
  if (network === 'visa') [prefix, length] = ['4', 16];
  else if (network === 'mastercard') [prefix, length] = [String(rng.range(51, 55)), 16];
  else [prefix, length] = [rng.pick(['34', '37']), 15];
  const partial = prefix + rng.chars(DIGITS, length - prefix.length - 1);
  const digits = partial + luhnCheckDigit(partial);
  const groups = length === 15 ? [4, 6, 5] : [4, 4, 4, 4];
  let pos = 0;
  const parts = groups.map((g) => digits.slice(pos, (pos += g)));
  return { kind: 'card', value: parts.join(' '), digits, groups: parts, needles: [digits] };
}

function mod97(text) {
  let rem = 0;
  for (const ch of text) {
    const code = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of code) rem = (rem * 10 + Number(d)) % 97;
  }
  return rem;
}

// A made-up bank code and account number in a country's format, with valid check digits.
function iban(rng) {
  const country = rng.pick(['DE', 'GB', 'NL', 'FR']);
  let bban;
  if (country === 'DE') bban = rng.chars(DIGITS, 18);
  else if (country === 'GB') bban = rng.chars(UPPER, 4) + rng.chars(DIGITS, 14);
  else if (country === 'NL') bban = rng.chars(UPPER, 4) + rng.chars(DIGITS, 10);
  else bban = rng.chars(DIGITS, 23);
  const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, '0');
  const compact = `${country}${check}${bban}`;
  const groups = compact.match(/.{1,4}/g);
  return { kind: 'iban', value: groups.join(' '), compact, groups, needles: [compact] };
}

// Area 001-899 except 666, group 01-99, serial 0001-9999 (the SSA's valid ranges).
function ssn(rng) {
  let area;
  do area = rng.range(1, 899); while (area === 666);
  const parts = [String(area).padStart(3, '0'), String(rng.range(1, 99)).padStart(2, '0'),
    String(rng.range(1, 9999)).padStart(4, '0')];
  return { kind: 'ssn', value: parts.join('-'), digits: parts.join(''), groups: parts, needles: [parts.join('')] };
}

function email(rng) {
  const first = rng.chars(LOWER, rng.range(5, 8));
  const last = rng.chars(LOWER, rng.range(5, 8));
  const local = `${first}.${last}${rng.chars(DIGITS, 2)}`;
  const value = `${local}@example.com`;
  // The local part is random: finding it is a leak however the '@' and the domain are written.
  return { kind: 'email', value, local, domain: 'example.com', needles: [project(local)] };
}

function aws(rng) {
  const value = `AKIA${rng.chars(`${UPPER}234567`, 16)}`;
  return { kind: 'aws', value, prefix: 'AKIA', needles: [project(value)] };
}

function github(rng) {
  const value = `ghp_${rng.chars(ALNUM, 36)}`;
  return { kind: 'github', value, prefix: 'ghp_', needles: [project(value)] };
}

function openai(rng) {
  const value = rng.int(2) === 0
    ? `sk-proj-${rng.chars(`${ALNUM}_-`, 64)}`
    : `sk-${rng.chars(ALNUM, 20)}T3BlbkFJ${rng.chars(ALNUM, 20)}`;
  return { kind: 'openai', value, prefix: value.startsWith('sk-proj-') ? 'sk-proj-' : 'sk-', needles: [project(value)] };
}

// A PEM block whose body is random bytes in base64 (not a key: the detectors look at the shape).
function pem(rng) {
  const body = rng.bytes(rng.range(180, 260)).toString('base64');
  const lines = body.match(/.{1,64}/g);
  const header = '-----BEGIN PRIVATE KEY-----';
  const footer = '-----END PRIVATE KEY-----';
  const value = [header, ...lines, footer].join('\n');
  const p = project(body);
  // Any 32-character stretch of the body at its start, middle or end is key material.
  const needles = [p.slice(0, 32), p.slice(Math.floor(p.length / 2) - 16, Math.floor(p.length / 2) + 16), p.slice(-32)];
  return { kind: 'pem', value, header, footer, body, lines, needles };
}

export const KINDS = { card, iban, ssn, email, aws, github, openai, pem };
export const KIND_NAMES = Object.keys(KINDS);

export function makeValue(rng, kind) {
  return KINDS[kind](rng);
}
