/**
 * Helpers shared by the checks. Mirrors `policy/helpers.go` (joinQuote, pluralize,
 * relaxPolicyForUserNamespacePod) and `policy/visitor.go` (container visiting order), plus the Go semantics the
 * checks rely on: byte-order string sorting (`sort.Strings`, `sets.List`) and `%q` quoting (`strconv.Quote`).
 */
import type { JsonObject } from './types.js';

const EMPTY_OBJECT: JsonObject = Object.freeze({}) as JsonObject;
const EMPTY_ARRAY: readonly unknown[] = Object.freeze([]);

/** The value if it is a JSON object (not null, not an array), else undefined. Go: a nil pointer. */
export function rec(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** The value if it is an array, else an empty array. Go: a nil slice. */
export function arr(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : EMPTY_ARRAY;
}

/** The value if it is a string, else `''`. Go: a string field's zero value. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * A list element as an object. A `null` element of a JSON list of structs decodes to the zero struct in Go, so
 * it is visited as an empty object.
 */
export function item(value: unknown): JsonObject {
  return rec(value) ?? EMPTY_OBJECT;
}

/**
 * The pod's containers in `visitContainers` order (`policy/visitor.go`): initContainers, containers, then
 * ephemeralContainers (as Container). Returns `spec.containers` itself when there are no others (no allocation).
 */
export function collectContainers(spec: JsonObject): readonly unknown[] {
  const init = arr(spec.initContainers);
  const main = arr(spec.containers);
  const ephemeral = arr(spec.ephemeralContainers);
  if (init.length === 0 && ephemeral.length === 0) return main;
  if (main.length === 0 && ephemeral.length === 0) return init;
  return [...init, ...main, ...ephemeral];
}

/** A container's `name` (Go: `container.Name`). */
export function containerName(container: JsonObject): string {
  return str(container.name);
}

/** Port of `joinQuote`: `"a", "b"` — plain concatenation, no escaping. */
export function joinQuote(items: readonly string[]): string {
  if (items.length === 0) return '';
  return `"${items.join('", "')}"`;
}

/** Port of `pluralize`. */
export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** `container "a"` / `containers "a", "b"`: the phrase every container check builds with pluralize + joinQuote. */
export function containersPhrase(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/**
 * Port of `relaxPolicyForUserNamespacePod`: true when `spec.hostUsers` is explicitly false.
 */
export function relaxPolicyForUserNamespacePod(spec: JsonObject): boolean {
  return spec.hostUsers === false;
}

/** True when `spec.os.name` is `windows` (corev1.Windows). */
export function isWindowsPod(spec: JsonObject): boolean {
  const os = rec(spec.os);
  return os !== undefined && os.name === 'windows';
}

// UTF-16 code unit → key that orders like the code point (and so like UTF-8 bytes, Go's string order):
// surrogates (which encode code points above U+FFFF) move above U+E000..U+FFFF.
function orderKey(unit: number): number {
  if (unit < 0xd800) return unit;
  if (unit >= 0xe000) return unit - 0x800;
  return unit + 0x2000;
}

/** Compares like Go's `<` on strings (UTF-8 byte order), which `sort.Strings` and `sets.List` use. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return orderKey(x) - orderKey(y);
  }
  return a.length - b.length;
}

/** Port of `sets.NewString(values...).List()`: unique values in Go string order. Returns a new array. */
export function sortedSet(values: readonly string[]): string[] {
  const sorted = [...values].sort(compareGoStrings);
  let w = 0;
  for (let r = 0; r < sorted.length; r++) {
    if (r === 0 || sorted[r] !== sorted[w - 1]) sorted[w++] = sorted[r] as string;
  }
  sorted.length = w;
  return sorted;
}

/** Appends to a list created on first use, so that the allowed path allocates nothing. */
export function append(list: string[] | undefined, value: string): string[] {
  if (!list) return [value];
  list.push(value);
  return list;
}

/** `append` for a small set kept as a list (the caller sorts it with `sortedSet` at the end). */
export function appendUnique(list: string[] | undefined, value: string): string[] {
  if (!list) return [value];
  if (!list.includes(value)) list.push(value);
  return list;
}

/** Adds a value to a small set kept as an array (the caller sorts with `sortedSet` at the end). */
export function addUnique(values: string[], value: string): void {
  if (!values.includes(value)) values.push(value);
}

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const HEX = '0123456789abcdef';

function hex(value: number, digits: number): string {
  let out = '';
  for (let shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += HEX[(value >> shift) & 0xf];
  return out;
}

/**
 * Port of Go's `%q` for strings (`strconv.Quote`): backslash-escapes `"` and `\`, keeps printable runes, and
 * writes the rest as `\a \b \f \n \r \t \v`, `\xNN`, `\uNNNN` or `\UNNNNNNNN`. A lone surrogate becomes U+FFFD,
 * as Go's JSON decoder would have made it.
 */
export function goQuote(value: string): string {
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return `"${value}"`;
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') {
      out += `\\${ch}`;
    } else if (cp >= 0x20 && cp < 0x7f) {
      out += ch;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      out += '\ufffd';
    } else if (cp > 0x7f && PRINTABLE.test(ch)) {
      out += ch;
    } else if (cp === 0x07) {
      out += '\\a';
    } else if (cp === 0x08) {
      out += '\\b';
    } else if (cp === 0x0c) {
      out += '\\f';
    } else if (cp === 0x0a) {
      out += '\\n';
    } else if (cp === 0x0d) {
      out += '\\r';
    } else if (cp === 0x09) {
      out += '\\t';
    } else if (cp === 0x0b) {
      out += '\\v';
    } else if (cp < 0x20 || cp === 0x7f) {
      out += `\\x${hex(cp, 2)}`;
    } else if (cp < 0x10000) {
      out += `\\u${hex(cp, 4)}`;
    } else {
      out += `\\U${hex(cp, 8)}`;
    }
  }
  return `${out}"`;
}
