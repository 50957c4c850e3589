// Ways of writing a value that people and tools produce: separators between digit groups,
// Unicode digit forms, look-alike letters from other scripts, base64/hex/percent encodings and
// PEM blocks with odd headers. Pure functions over the value objects of values.mjs.

export const SEPARATORS = {
  newline: '\n', crlf: '\r\n', tab: '\t', slash: '/', comma: ',', dot: '.', dash: '-',
  spaced_dash: ' - ', double_space: '  ', nbsp: '\u00a0', underscore: '_', pipe: '|',
  newline_indent: '\n    ', en_dash: '\u2013', colon: ':', semicolon: ';',
};

// Digit forms by script: index i is the digit i.
export const DIGIT_FORMS = {
  superscript: '⁰¹²³⁴⁵⁶⁷⁸⁹',
  subscript: '₀₁₂₃₄₅₆₇₈₉',
  arabic_indic: '٠١٢٣٤٥٦٧٨٩',
  extended_arabic_indic: '۰۱۲۳۴۵۶۷۸۹',
  devanagari: '०१२३४५६७८९',
  bengali: '০১২৩৪৫৬৭৮৯',
  thai: '๐๑๒๓๔๕๖๗๘๙',
  mathematical_bold: [...'𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗'],
  circled: '⓪①②③④⑤⑥⑦⑧⑨',
  fullwidth: '０１２３４５６７８９',
};

export function mapDigits(text, form, { every = 1 } = {}) {
  const table = [...DIGIT_FORMS[form]];
  let n = 0;
  return [...text].map((ch) => (/[0-9]/.test(ch) && n++ % every === 0 ? table[Number(ch)] : ch)).join('');
}

// Latin letters and the letters of other scripts that look the same (Unicode confusables).
export const CYRILLIC = {
  A: 'А', B: 'В', C: 'С', E: 'Е', H: 'Н', I: 'І', J: 'Ј', K: 'К', M: 'М', O: 'О', P: 'Р',
  S: 'Ѕ', T: 'Т', X: 'Х', Y: 'Ү', a: 'а', c: 'с', e: 'е', h: 'һ', i: 'і', j: 'ј', o: 'о',
  p: 'р', s: 'ѕ', x: 'х', y: 'у',
};
export const GREEK = {
  A: 'Α', B: 'Β', E: 'Ε', H: 'Η', I: 'Ι', K: 'Κ', M: 'Μ', N: 'Ν', O: 'Ο', P: 'Ρ', T: 'Τ',
  X: 'Χ', Y: 'Υ', Z: 'Ζ', o: 'ο', v: 'ν',
};

// Replaces every `step`-th letter that `table` has a look-alike for, in text[from, to).
export function confuse(text, table, { from = 0, to = text.length, step = 1 } = {}) {
  let n = 0;
  return [...text].map((ch, i) => {
    if (i < from || i >= to || !table[ch]) return ch;
    return n++ % step === 0 ? table[ch] : ch;
  }).join('');
}

export const b64 = (buf) => Buffer.from(buf).toString('base64');
export const wrap = (text, width, eol = '\n') => text.match(new RegExp(`.{1,${width}}`, 'g')).join(eol);

// Encodings of a whole text (the value inside a sentence). Each returns the encoded text.
export const ENCODINGS = {
  base64: (t) => b64(t),
  base64_wrapped_76: (t) => wrap(b64(t), 76),
  base64_wrapped_76_crlf: (t) => wrap(b64(t), 76, '\r\n'),
  base64_double: (t) => b64(b64(t)),
  base64_utf16le: (t) => b64(Buffer.from(t, 'utf16le')),
  base64url_unpadded: (t) => Buffer.from(t).toString('base64url'),
  hex: (t) => Buffer.from(t).toString('hex'),
  hex_upper_spaced: (t) => Buffer.from(t).toString('hex').toUpperCase().match(/../g).join(' '),
  hex_escaped: (t) => [...Buffer.from(t)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join(''),
  percent_every_char: (t) => [...Buffer.from(t)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  base64_of_hex: (t) => b64(Buffer.from(t).toString('hex')),
};

// PEM blocks with unusual but tool-accepted (or human-produced) framing. `v` is a pem value.
export const PEM_FORMS = {
  double_space_header: (v) => ['-----BEGIN  PRIVATE  KEY-----', ...v.lines, '-----END  PRIVATE  KEY-----'].join('\n'),
  tab_header: (v) => ['-----BEGIN\tPRIVATE\tKEY-----', ...v.lines, '-----END\tPRIVATE\tKEY-----'].join('\n'),
  spaced_dashes: (v) => ['----- BEGIN PRIVATE KEY -----', ...v.lines, '----- END PRIVATE KEY -----'].join('\n'),
  four_dashes: (v) => ['----BEGIN PRIVATE KEY----', ...v.lines, '----END PRIVATE KEY----'].join('\n'),
  lowercase_header: (v) => ['-----begin private key-----', ...v.lines, '-----end private key-----'].join('\n'),
  rsa_header: (v) => ['-----BEGIN RSA PRIVATE KEY-----', ...v.lines, '-----END RSA PRIVATE KEY-----'].join('\n'),
  encrypted_header: (v) => ['-----BEGIN ENCRYPTED PRIVATE KEY-----', ...v.lines, '-----END ENCRYPTED PRIVATE KEY-----'].join('\n'),
  escaped_newlines: (v) => [v.header, ...v.lines, v.footer].join('\\n'),
  one_line: (v) => `${v.header}${v.body}${v.footer}`,
  indented_body: (v) => [v.header, ...v.lines.map((l) => `    ${l}`), v.footer].join('\n'),
  crlf: (v) => [v.header, ...v.lines, v.footer].join('\r\n'),
  trailing_spaces_header: (v) => [`${v.header}   `, ...v.lines, `${v.footer}   `].join('\n'),
  no_footer: (v) => [v.header, ...v.lines].join('\n'),
  header_with_fullwidth_dashes: (v) => ['－－－－－BEGIN PRIVATE KEY－－－－－', ...v.lines, '－－－－－END PRIVATE KEY－－－－－'].join('\n'),
};
