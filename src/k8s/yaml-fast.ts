/**
 * A fast path for the plain YAML that manifests are written in: block mappings and sequences, plain, single- and
 * double-quoted scalars on one line, one-line flow sequences of scalars, `{}` and `[]`, literal blocks (`|`, `|-`),
 * comments and `---`. It runs a few times faster than the `yaml` package on a cold start (a short CLI run parses
 * once, before the JIT has warmed up), and it needs no module of that package.
 *
 * It never decides anything the full loader (yaml.ts) would decide differently: on anything outside that subset
 * (anchors, aliases, tags, directives, `...`, tabs, CR line ends, multi-line plain or quoted scalars, escapes,
 * folded blocks, flow mappings, complex keys, duplicate or forbidden keys, nesting over the limit, any structure
 * it does not recognise) it returns `undefined` and the caller parses with the full loader, which then accepts or
 * refuses the input with its own message. test/unit/manifests/yaml-fast.test.ts compares both on every YAML file
 * of the repository and on edge cases: values, documents, lines and `lineOf` of every path.
 */

/** One document: its value, the line of its content, and the lines of the nodes below (see `lineOf`). */
export interface FastDocument {
  value: unknown;
  /** 1-based line where the content starts. */
  line: number;
  /**
   * The line of the node at `path`, or of its deepest existing ancestor; `undefined` when the fast path does not
   * know it (an empty value: the full loader places those), and the caller asks the full loader.
   */
  lineOf(path: readonly (string | number)[]): number | undefined | 'unknown';
}

/** Thrown inside the parser to leave the fast path. */
class Unsupported extends Error {}
const unsupported = (): never => {
  throw new Unsupported();
};

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** go-yaml v2's booleans (YAML11_BOOL of yaml.ts), then the YAML 1.2 core schema's null. */
const BOOL_TRUE = /^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL_FALSE = /^(?:n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
/** A decimal integer small enough that `Number` and the library's `parseInt` agree. */
const SMALL_INT = /^[-+]?[0-9]{1,15}$/;
/** What else the core schema resolves to a number (hex, octal, floats, exponents, .inf, .nan): left to the library. */
const OTHER_NUMBER =
  /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

/** A plain key: starts with a letter, digit or `_`, no spaces, `:` only as the indicator. */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_./$-]*(?=:(?: |$))/;

/** The spaces at `from` (YAML's white space here: tabs never reach the fast path; other Unicode spaces are content). */
function spacesAt(text: string, from: number): number {
  let i = from;
  while (text.charCodeAt(i) === 0x20) i++;
  return i - from;
}

/** `s` without leading and trailing spaces (not `String#trim`: that also strips U+00A0, U+3000, …). */
function trimSpaces(s: string): string {
  let start = 0;
  let end = s.length;
  while (s.charCodeAt(start) === 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) === 0x20) end--;
  return s.slice(start, end);
}

function plainScalar(s: string): unknown {
  if (NULL.test(s)) return null;
  if (BOOL_TRUE.test(s)) return true;
  if (BOOL_FALSE.test(s)) return false;
  if (SMALL_INT.test(s)) return Number(s);
  if (OTHER_NUMBER.test(s)) return unsupported();
  return s;
}

interface Line {
  /** 0-based line number in the whole text. */
  number: number;
  text: string;
  indent: number;
  /** Blank or a comment only. */
  insignificant: boolean;
}

/**
 * Parses `text` (already decoded and checked by `decodeYaml`), or returns `undefined` when it is not in the
 * subset. `maxDepth`: nesting over it leaves the fast path (the full loader refuses it).
 */
export function parseFast(text: string, maxDepth: number): FastDocument[] | undefined {
  // Tabs, CR and the line breaks of YAML 1.1 (NEL, LS, PS): the library's rules, not ours.
  if (/[\t\r\u0085\u2028\u2029]/.test(text) || text.charCodeAt(0) === 0xfeff) return undefined;
  try {
    return parseStream(text, maxDepth);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function parseStream(text: string, maxDepth: number): FastDocument[] {
  const raw = text.split('\n');
  const segments: Line[][] = [[]];
  for (let n = 0; n < raw.length; n++) {
    const t = raw[n] as string;
    if (t.startsWith('---')) {
      if (trimSpaces(t) !== '---') unsupported();
      segments.push([]);
      continue;
    }
    if (t.startsWith('...') || t.startsWith('%')) unsupported();
    const indent = spacesAt(t, 0);
    const insignificant = indent === t.length || t[indent] === '#';
    (segments[segments.length - 1] as Line[]).push({ number: n, text: t, indent, insignificant });
  }
  const docs: FastDocument[] = [];
  segments.forEach((lines, s) => {
    const empty = lines.every((l) => l.insignificant);
    // Comments before the first `---` belong to the document it starts; with content they are a document.
    if (s === 0 && empty) return;
    if (empty) {
      docs.push({ value: null, line: 0, lineOf: () => 'unknown' });
      return;
    }
    docs.push(parseDocument(lines, maxDepth));
  });
  return docs;
}

function parseDocument(lines: Line[], maxDepth: number): FastDocument {
  const childLines = new WeakMap<object, Map<string | number, number | undefined>>();
  let i = 0;
  const skip = () => {
    while (i < lines.length && (lines[i] as Line).insignificant) i++;
  };
  const current = (): Line | undefined => {
    skip();
    return lines[i];
  };
  const isSeqItem = (l: Line) =>
    l.text[l.indent] === '-' && (l.text.length === l.indent + 1 || l.text[l.indent + 1] === ' ');
  const keyAt = (l: Line): string | undefined => KEY.exec(l.text.slice(l.indent))?.[0];

  /** A block node whose first line is the current one, more indented than `parent`. */
  const block = (parent: number, depth: number): { value: unknown; line: number } => {
    const l = current();
    if (!l || l.indent <= parent) return unsupported();
    if (depth > maxDepth) unsupported();
    if (isSeqItem(l)) return { value: sequence(l.indent, depth), line: l.number + 1 };
    if (keyAt(l) !== undefined) return { value: mapping(l.indent, depth), line: l.number + 1 };
    return unsupported();
  };

  /** The value after `key:` or `- ` on line `l`, from column `col`; consumes the line (and a literal block). */
  const inline = (l: Line, col: number, parent: number, depth: number): unknown => {
    const rest = l.text.slice(col);
    const c = rest[0];
    let value: unknown;
    let after: string;
    if (c === '"') {
      const end = rest.indexOf('"', 1);
      if (end < 0) return unsupported();
      const body = rest.slice(1, end);
      if (body.includes('\\')) unsupported();
      value = body;
      after = rest.slice(end + 1);
    } else if (c === "'") {
      let end = 1;
      for (;;) {
        end = rest.indexOf("'", end);
        if (end < 0) return unsupported();
        if (rest[end + 1] !== "'") break;
        end += 2;
      }
      value = rest.slice(1, end).replaceAll("''", "'");
      after = rest.slice(end + 1);
    } else if (c === '[') {
      if (depth > maxDepth) unsupported();
      const end = rest.indexOf(']');
      if (end < 0) return unsupported();
      value = flowSequence(rest.slice(1, end));
      after = rest.slice(end + 1);
    } else if (c === '{') {
      if (depth > maxDepth) unsupported();
      if (rest[1] !== '}') unsupported();
      value = {};
      after = rest.slice(2);
    } else if (c === '|') {
      const header = /^\|(-?)(?: +#.*| *)$/.exec(rest);
      if (!header) return unsupported();
      i++;
      return literal(parent, header[1] === '-');
    } else {
      if (c === undefined || '>&*!%@`,]}#'.includes(c)) unsupported();
      if ((c === '?' || c === ':' || c === '-') && (rest.length === 1 || rest[1] === ' ')) unsupported();
      const hash = rest.indexOf(' #');
      const s = trimSpaces(hash < 0 ? rest : rest.slice(0, hash));
      if (s.includes(': ') || s.endsWith(':')) unsupported();
      value = plainScalar(s);
      after = '';
    }
    if (!/^(?: +#.*| *)$/.test(after)) unsupported();
    i++;
    // A more indented line after a scalar: a multi-line scalar (or an error) the library decides.
    const next = current();
    if (next && next.indent > parent) unsupported();
    return value;
  };

  const flowSequence = (body: string): unknown[] => {
    if (trimSpaces(body) === '') return [];
    if (/[[\]{}#]/.test(body)) unsupported();
    return body.split(',').map((part) => {
      const s = trimSpaces(part);
      if (s === '') return unsupported();
      if (s[0] === '"') {
        if (s.length < 2 || !s.endsWith('"') || s.slice(1, -1).includes('"') || s.includes('\\'))
          unsupported();
        return s.slice(1, -1);
      }
      if (s[0] === "'") {
        const inner = s.slice(1, -1);
        if (s.length < 2 || !s.endsWith("'") || inner.replaceAll("''", '').includes("'")) unsupported();
        return inner.replaceAll("''", "'");
      }
      if ('&*!|>%@`?:-\'"'.includes(s[0] as string) || s.includes(':')) unsupported();
      return plainScalar(s);
    });
  };

  /** A literal block scalar (`|` or `|-`) whose header was on the line before `i`, below a node at `parent`. */
  const literal = (parent: number, strip: boolean): string => {
    const body: string[] = [];
    let indent = -1;
    for (; i < lines.length; i++) {
      const l = lines[i] as Line;
      const blank = l.indent === l.text.length;
      if (indent < 0) {
        if (blank) {
          body.push(l.text);
          continue;
        }
        if (l.indent <= parent) break;
        indent = l.indent;
      } else if (!blank && l.indent < indent) break;
      body.push(l.text);
    }
    if (indent < 0) return unsupported();
    // Whitespace-only lines longer than the indentation are content (or, leading, an error): leave to the library.
    const out = body.map((t) => {
      if (trimSpaces(t) === '') {
        if (t.length > indent) unsupported();
        return '';
      }
      return t.slice(indent);
    });
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    const next = current();
    if (next && next.indent > parent) unsupported();
    const joined = out.join('\n');
    return strip || joined === '' ? joined : `${joined}\n`;
  };

  const mapping = (indent: number, depth: number): Record<string, unknown> => {
    const map: Record<string, unknown> = {};
    const lineOfKey = new Map<string | number, number | undefined>();
    childLines.set(map, lineOfKey);
    for (let l = current(); l && l.indent === indent && !isSeqItem(l); l = current()) {
      const key = keyAt(l);
      if (key === undefined || FORBIDDEN_KEYS.has(key) || Object.hasOwn(map, key)) return unsupported();
      if (key.length > 1000) unsupported();
      const col = indent + key.length + 1;
      const valueCol = col + spacesAt(l.text, col);
      if (valueCol === l.text.length || l.text[valueCol] === '#') {
        i++;
        const next = current();
        if (next && (next.indent > indent || (next.indent === indent && isSeqItem(next)))) {
          const b =
            next.indent === indent
              ? { value: sequence(indent, depth + 1), line: next.number + 1 }
              : block(indent, depth + 1);
          map[key] = b.value;
          lineOfKey.set(key, b.line);
        } else {
          map[key] = null;
          lineOfKey.set(key, undefined);
        }
      } else {
        map[key] = inline(l, valueCol, indent, depth + 1);
        lineOfKey.set(key, l.number + 1);
      }
    }
    const next = current();
    if (next && next.indent > indent) unsupported();
    return map;
  };

  const sequence = (indent: number, depth: number): unknown[] => {
    if (depth > maxDepth) unsupported();
    const seq: unknown[] = [];
    const lineOfItem = new Map<string | number, number | undefined>();
    childLines.set(seq, lineOfItem);
    for (let l = current(); l && l.indent === indent && isSeqItem(l); l = current()) {
      const valueCol = l.indent + 1 + spacesAt(l.text, l.indent + 1);
      const index = seq.length;
      if (valueCol === l.text.length || l.text[valueCol] === '#') {
        i++;
        const next = current();
        if (next && next.indent > indent) {
          const b = block(indent, depth + 1);
          seq.push(b.value);
          lineOfItem.set(index, b.line);
        } else {
          seq.push(null);
          lineOfItem.set(index, undefined);
        }
        continue;
      }
      const rest = l.text.slice(valueCol);
      if (rest[0] === '-' && (rest.length === 1 || rest[1] === ' ')) unsupported();
      if (KEY.test(rest)) {
        // `- key: value`: a mapping whose keys line up at the column of the first.
        if (depth + 1 > maxDepth) unsupported();
        lines[i] = { ...l, indent: valueCol };
        seq.push(mapping(valueCol, depth + 1));
      } else {
        seq.push(inline(l, valueCol, indent, depth + 1));
      }
      lineOfItem.set(index, l.number + 1);
    }
    const next = current();
    if (next && next.indent > indent) unsupported();
    return seq;
  };

  const root = block(-1, 1);
  if (current()) unsupported();
  const line = root.line;
  return {
    value: root.value,
    line,
    lineOf(path) {
      let node: unknown = root.value;
      let at = line;
      for (const segment of path) {
        let child: unknown;
        let childLine: number | undefined;
        if (Array.isArray(node)) {
          if (typeof segment !== 'number' || segment < 0 || segment >= node.length) break;
          child = node[segment];
          childLine = childLines.get(node)?.get(segment);
        } else if (node !== null && typeof node === 'object') {
          const key = String(segment);
          if (!Object.hasOwn(node, key)) break;
          child = (node as Record<string, unknown>)[key];
          childLine = childLines.get(node)?.get(key);
        } else {
          break;
        }
        if (childLine === undefined) return 'unknown';
        node = child;
        at = childLine;
      }
      return at;
    },
  };
}
