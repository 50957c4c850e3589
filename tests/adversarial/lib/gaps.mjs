// Variants the gateway does not catch on purpose, each with the reason; README.md ("Documented
// gaps") and the main README's security section say the same. A leak of one of these is reported
// apart and does not fail the run; every other leak does. A documented gap that stops leaking is
// reported too, so this list can shrink. Matched against the variant id's field (its third part).
export const DOCUMENTED_GAPS = [
  { fields: ['card_odd_grouping', 'card_newline_every_digit'],
    surfaces: null,
    why: 'a card in groups no card is printed in (2-3-5-6), or one digit per line: the shapes of ordinary lists of numbers' },
  { fields: ['ssn_sep_tab', 'ssn_sep_comma', 'ssn_sep_double_space', 'ssn_sep_underscore', 'ssn_space_every_digit', 'ssn_two_user_messages'],
    surfaces: null,
    why: 'an SSN whose groups are separated by tabs, commas, underscores, single spaces or mixed separators, with no context word: the shape of a table row of three numbers' },
  { fields: ['email_spaced_at', 'email_newline_at'],
    surfaces: null,
    why: 'spaces or a line break around the @ (`x @ y.z` is ordinary code)' },
  { fields: ['aws_split_by_newline', 'github_split_by_newline', 'openai_split_by_newline'],
    surfaces: null,
    why: 'a vendor key broken by a line break in its middle' },
  { fields: ['card_system_and_user'],
    surfaces: null,
    why: 'words between the pieces of a value split over two messages' },
];

// Whether `variant` is a documented gap, and why.
export function documentedGap(variant) {
  const field = variant.id.split('.')[2];
  const gap = DOCUMENTED_GAPS.find((g) => g.fields.includes(field) &&
    (g.surfaces === null || g.surfaces.includes(variant.surface)));
  return gap ? gap.why : null;
}
