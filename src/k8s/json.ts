/** Reading untyped Kubernetes JSON (live objects, pod templates) without trusting its shape. */

export type Json = Record<string, unknown>;

export const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
/** The value when it is a mapping, else an empty one. */
export const map = (v: unknown): Json => (isMap(v) ? v : {});
/** The mappings of a list (anything else dropped), else an empty list. */
export const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isMap) : []);
/** The strings of a list, else an empty list. */
export const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
/** The string values of a mapping (anything else dropped), else an empty mapping: labels, annotations, selectors. */
export const strMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(map(v))) if (typeof x === 'string') out[k] = x;
  return out;
};
/**
 * The object items of a list, arrays included, else an empty list: how the inventory has always read lists (an
 * array item is read as an object without fields, never dropped, so it still counts as something to assess).
 */
export const objectItems = (v: unknown): Json[] =>
  Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : [];
