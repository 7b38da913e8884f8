// Variable ids: `var_<name>_<serial>`, the origin's form. A serial is a
// positive integer that a store never hands out twice; ids of numeric
// variables are not even stored, only parsed.

/**
 * Largest serial an id may carry, generated or imported: below 2^53, so serials stay exact and
 * never repeat. A store whose imports reach it can generate no more ids (invalid_argument).
 */
export const MAX_SERIAL = 2 ** 52;

export function idOf(name: string, serial: number): string {
  return `var_${name}_${serial}`;
}

/** Name and serial of a string of the id form, or undefined. Names may contain '_': the serial follows the last one. */
export function parseId(id: string): { readonly name: string; readonly serial: number } | undefined {
  if (!id.startsWith('var_')) return undefined;
  const split = id.lastIndexOf('_');
  if (split <= 4) return undefined;
  const serial = parseSerial(id.slice(split + 1));
  return serial === undefined ? undefined : { name: id.slice(4, split), serial };
}

/** The serial of `id` when it is exactly the id form for `name`. */
export function serialOf(id: string, name: string): number | undefined {
  const prefix = `var_${name}_`;
  return id.startsWith(prefix) ? parseSerial(id.slice(prefix.length)) : undefined;
}

function parseSerial(digits: string): number | undefined {
  // No sign, no leading zero, no exponent: one spelling per serial.
  if (!/^[1-9][0-9]{0,15}$/.test(digits)) return undefined;
  const serial = Number(digits);
  return serial <= MAX_SERIAL ? serial : undefined;
}
