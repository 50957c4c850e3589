// The leak check: is a protected value anywhere in what the external mock received, however it
// was written? Every received body is reduced to comparable texts:
//   1. every string in it (object keys, string values, numbers as written), recursively through
//      JSON found inside strings (tool-call arguments), and the concatenation of the
//      conversation's strings in document order (so a value split over messages or parts is
//      whole again);
//   2. decoded blobs: base64 (standard, URL-safe, wrapped, inside data: URLs), hex (plain,
//      spaced, \x-escaped), %XX escapes, UTF-16LE, nested up to MAX_DEPTH; in decoded binary
//      bytes, the runs of printable characters (a PNG's metadata), gunzipped data and a PDF's
//      deflated streams;
//   3. folded: NFKC, every Unicode decimal digit to its ASCII digit, look-alike letters of other
//      scripts to Latin, then only A-Z and 0-9 kept (upper-cased): separators and invisible
//      characters vanish.
// A value leaked when one of its needles (values.mjs) occurs in one of those texts.
import zlib from 'node:zlib';

import { project } from './values.mjs';

const MAX_DEPTH = 3;
const MAX_DECODED = 4 << 20;
const MAX_BLOB = 1 << 16;  // longer encoded runs are not decoded (the corpus has none)

// Every code point with Unicode property Nd, mapped to its digit value. Nd code points come in
// runs of ten starting at zero, so the value is the position in the run.
const DIGIT_VALUE = new Map();
{
  const nd = /\p{Nd}/u;
  let run = 0;
  for (let cp = 0x80; cp <= 0x1fbff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) { run = 0; continue; }
    if (nd.test(String.fromCodePoint(cp))) {
      DIGIT_VALUE.set(cp, String(run % 10));
      run++;
    } else {
      run = 0;
    }
  }
}

// Look-alike letters (a subset of Unicode's confusables.txt: Cyrillic, Greek, Armenian, Cherokee
// and Latin variants that NFKC leaves alone) folded to the Latin letter they imitate.
const CONFUSABLES = new Map(Object.entries({
  // Cyrillic
  А: 'A', В: 'B', С: 'C', Е: 'E', Н: 'H', І: 'I', Ј: 'J', К: 'K', М: 'M', О: 'O', Р: 'P', Ѕ: 'S',
  Т: 'T', Х: 'X', Ү: 'Y', Ԛ: 'Q', Ԝ: 'W', Ԁ: 'D', Ӏ: 'I', Ѵ: 'V', З: '3', Ь: 'b', б: '6',
  а: 'a', с: 'c', е: 'e', һ: 'h', і: 'i', ј: 'j', о: 'o', р: 'p', ѕ: 's', х: 'x', у: 'y',
  ԁ: 'd', ԛ: 'q', ԝ: 'w', ѵ: 'v', ӏ: 'l', к: 'k', м: 'm', н: 'h', т: 't', в: 'b', г: 'r', п: 'n',
  // Greek
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T',
  Υ: 'Y', Χ: 'X', ο: 'o', ν: 'v', α: 'a', ι: 'i', κ: 'k', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ϲ: 'c',
  ϳ: 'j', Ϲ: 'C', Ϳ: 'J',
  // Armenian, Cherokee, Latin extras
  օ: 'o', ս: 'u', հ: 'h', ո: 'n', Ꭺ: 'A', Ᏼ: 'B', Ꮯ: 'C', Ꭼ: 'E', Ꮋ: 'H', Ꮃ: 'W', Ꮪ: 'S',
  ı: 'i', ȷ: 'j', ɑ: 'a', ɡ: 'g', ʜ: 'H', ɪ: 'I', ᴋ: 'K', ᴍ: 'M', ɴ: 'N', ᴏ: 'O', ᴘ: 'P', ᴛ: 'T',
  // dashes and at signs NFKC keeps
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2212': '-',
}));

export function fold(text) {
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  let out = '';
  for (const ch of text.normalize('NFKC')) {
    const cp = ch.codePointAt(0);
    if (cp < 0x80) out += ch;
    else if (DIGIT_VALUE.has(cp)) out += DIGIT_VALUE.get(cp);
    else if (CONFUSABLES.has(ch)) out += CONFUSABLES.get(ch);
    else out += ch;
  }
  return out;
}

// Strings of a JSON value in document order: keys, string values, numbers as text.
function collectStrings(value, out) {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' || typeof value === 'bigint') out.push(String(value));
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (value && typeof value === 'object') {
    for (const [k, item] of Object.entries(value)) {
      out.push(k);
      collectStrings(item, out);
    }
  }
  return out;
}

function printableRatio(text) {
  if (text.length === 0) return 0;
  let ok = 0;
  for (const ch of text) if (/[\p{L}\p{N}\p{P}\p{S}\s]/u.test(ch)) ok++;
  return ok / text.length;
}

// Text interpretations of decoded bytes: UTF-8, and UTF-16LE when every other byte is zero-ish;
// of binary bytes, their printable runs, gunzipped content and a PDF's deflated streams.
function bytesToTexts(buf, depth = 0) {
  const out = [];
  if (buf.length < 4) return out;
  const utf8 = buf.toString('utf8');
  if (printableRatio(utf8) > 0.85) {
    out.push(utf8);
  } else {
    const runs = buf.toString('latin1').match(/[\x20-\x7e\t]{8,}/g);
    if (runs) out.push(runs.join('\n'));
  }
  if (depth < MAX_DEPTH) {
    const inflated = [];
    if (buf[0] === 0x1f && buf[1] === 0x8b) inflated.push(() => zlib.gunzipSync(buf, { maxOutputLength: MAX_DECODED }));
    if (buf.subarray(0, 5).toString('latin1') === '%PDF-') {
      const text = buf.toString('latin1');
      for (const m of text.matchAll(/stream\r?\n/g)) {
        const start = m.index + m[0].length;
        const end = text.indexOf('endstream', start);
        if (end > start) inflated.push(() => zlib.inflateSync(buf.subarray(start, end), { maxOutputLength: MAX_DECODED }));
      }
    }
    for (const inflate of inflated) {
      try {
        out.push(...bytesToTexts(inflate(), depth + 1));
      } catch {
        // not deflate data after all
      }
    }
  }
  let zeros = 0;
  for (let i = 1; i < buf.length; i += 2) if (buf[i] === 0) zeros++;
  if (zeros > buf.length / 4) {
    const utf16 = buf.toString('utf16le');
    if (printableRatio(utf16) > 0.85) out.push(utf16);
  }
  return out;
}

// Decoded texts of the blobs in `text` (one level).
function decodeBlobs(text) {
  const out = [];
  // base64 / base64url, possibly wrapped (whitespace or literal \n inside), at each alignment.
  for (const m of text.matchAll(/[A-Za-z0-9+/_\-]{8,}(?:(?:\s|\\[nr])+[A-Za-z0-9+/_\-]{4,})*={0,2}/g)) {
    const blob = m[0].replace(/\s|\\[nr]/g, '');
    if (blob.length < 16 || blob.length > MAX_BLOB) continue;
    for (let skip = 0; skip < 4; skip++) {
      const b = blob.slice(skip).replace(/=+$/, '');
      out.push(...bytesToTexts(Buffer.from(b.replace(/-/g, '+').replace(/_/g, '/'), 'base64')));
    }
  }
  // hex: plain, spaced pairs, \x escapes
  for (const m of text.matchAll(/(?:\\x)?[0-9A-Fa-f]{2}(?:[ :]?(?:\\x)?[0-9A-Fa-f]{2}){7,}/g)) {
    const hex = m[0].replace(/\\x|[ :]/g, '');
    if (hex.length > MAX_BLOB) continue;
    for (const skip of [0, 1]) {
      const h = hex.slice(skip, skip + Math.floor((hex.length - skip) / 2) * 2);
      out.push(...bytesToTexts(Buffer.from(h, 'hex')));
    }
  }
  // %XX escapes
  if (/%[0-9A-Fa-f]{2}/.test(text)) {
    try {
      out.push(decodeURIComponent(text.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')));
    } catch {
      out.push(text.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))));
    }
  }
  return out;
}

// JSON embedded in a string ("{\"note\":...}"): its strings, else nothing.
function embeddedJsonStrings(text) {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return [];
  try {
    return collectStrings(JSON.parse(t), []);
  } catch {
    return [];
  }
}

// The projected texts to search for one received body (a parsed JSON value or a string).
export function haystacks(body) {
  const strings = typeof body === 'string' ? [body] : collectStrings(body, []);
  const texts = [];
  let budget = MAX_DECODED;
  const visit = (text, depth) => {
    texts.push(text);
    budget -= text.length;
    if (depth >= MAX_DEPTH || budget <= 0) return;
    for (const inner of embeddedJsonStrings(text)) visit(inner, depth + 1);
    for (const decoded of decodeBlobs(text)) visit(decoded, depth + 1);
  };
  for (const s of strings) visit(s, 0);
  // The conversation as one text, so pieces in different strings join up.
  texts.push(strings.join(''));
  if (typeof body !== 'string') texts.push(JSON.stringify(body));
  return texts.map((t) => project(fold(t)));
}

// The values of `values` found in `projected` (from haystacks): [{kind, needle}]. A value leaked
// when one of its needles is found, or, for a value sent in pieces, when every piece is found
// (the upstream model can put them together).
export function findLeaks(values, projected) {
  const found = [];
  const has = (needle) => projected.some((h) => h.includes(needle));
  for (const value of values) {
    const needle = value.needles.find(has);
    if (needle) found.push({ kind: value.kind, needle });
    else if (value.pieces && value.pieces.every(has)) found.push({ kind: value.kind, needle: value.pieces.join('+') });
  }
  return found;
}
