/**
 * Readable stand-ins for characters a device cannot show, shared by the character display and the
 * receipt printer: typographic quotes and dashes become plain ones, letters lose an accent rather
 * than turn into "?".
 */

/** Typographic characters that have a plain equivalent. */
export const PLAIN_FALLBACK: ReadonlyMap<string, string> = new Map([
  ['ẞ', 'SS'],
  ['Ł', 'L'],
  ['ł', 'l'],
  ['Œ', 'OE'],
  ['œ', 'oe'],
  ['„', '"'],
  ['“', '"'],
  ['”', '"'],
  ['‚', "'"],
  ['‘', "'"],
  ['’', "'"],
  ['–', '-'],
  ['—', '-'],
  ['…', '...'],
  ['•', '*'],
  ['\u00a0', ' '],
  ['\t', ' '],
]);

/**
 * `char` without its accents ("ó" -> "o") when every remaining character passes `shows`; undefined
 * when the character has no accent to drop or the rest cannot be shown either.
 */
export function withoutAccent(char: string, shows: (c: string) => boolean): string | undefined {
  const stripped = char.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return stripped !== char && [...stripped].every(shows) ? stripped : undefined;
}
