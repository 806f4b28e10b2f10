/**
 * A hardened YAML loader for untrusted input: manifests, the exceptions register, config files.
 *
 * Every failure, whatever its type, becomes an `InputError` naming the file and, when known, the line.
 * Limits (see docs failure-modes "Untrusted YAML"): input over 3 MiB is refused before parsing; nesting is
 * checked while the (iterative) parser runs, before the (recursive) composer sees it; aliases are capped so
 * a billion-laughs document fails fast; duplicate keys, non-string keys, unknown tags and the keys
 * `__proto__`, `constructor` and `prototype` are refused on the parsed nodes, before any JS object exists.
 */
import {
  Composer,
  type CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  Parser,
  type YAMLError,
} from 'yaml';
import { InputError } from '../errors.js';
import { grouped } from './numbers.js';
import type { KubeObject } from './types.js';
import { parseFast } from './yaml-fast.js';

/** The API server's request size limit; larger input is refused before parsing. */
export const MAX_YAML_BYTES = 3 * 1024 * 1024;
/** Collections nested deeper than this are refused. */
export const MAX_YAML_DEPTH = 64;
/** The `yaml` package's `maxAliasCount` (its default is 100). Aliases are rare in manifests. */
export const MAX_YAML_ALIASES = 10;

/** The lexer's marker before a scalar's source (whatever its first character). */
const SCALAR_MARKER = '\u001f';

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface YamlParseOptions {
  /** @default MAX_YAML_BYTES (3 MiB) */
  maxBytes?: number;
  /** @default MAX_YAML_DEPTH (64) */
  maxDepth?: number;
  /** @default MAX_YAML_ALIASES (10); 0 refuses every alias. */
  maxAliasCount?: number;
  /**
   * @internal `false`: always the full loader (tests compare it with the fast path of yaml-fast.ts, which the
   * default tries first for plain manifests and which leaves anything else to the full loader).
   */
  fastPath?: boolean;
}

/** Offsets into the decoded text (see `decodeYaml`) of one document. */
export interface YamlDocumentRange {
  /** Where this document's share of the file begins: 0 for the first, else its `---` (or leading directives). */
  start: number;
  /** Where the document's content (its root node) begins. */
  contentStart: number;
  /** Where the content ends, including a comment on its last line and the line break. */
  contentEnd: number;
  /** Where the next document's share begins (or the end of the text). Trailing comments lie in between. */
  end: number;
}

export interface YamlDocument {
  /** 0-based position in the stream; empty documents count. */
  index: number;
  /** Plain JS data: null, boolean, number, string, arrays and plain objects. Never shares objects. */
  value: unknown;
  /** 1-based line where the content starts (or the document, when empty). */
  line: number;
  /**
   * The 1-based line of the node at `path` (keys and indexes from the root), or of its deepest existing
   * ancestor when the path does not exist (so "missing kind" points at the mapping that lacks it).
   */
  lineOf(path: readonly (string | number)[]): number | undefined;
  range: YamlDocumentRange;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Size-checks and decodes input. A Buffer must be UTF-8; a byte-order mark is kept (so offsets map back to
 * the original bytes exactly). Control characters that YAML forbids (as kubectl does) are refused: that is
 * what a binary file looks like.
 */
export function decodeYaml(input: string | Uint8Array, file: string, maxBytes = MAX_YAML_BYTES): string {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > maxBytes) throw tooLargeError(file, size, maxBytes);
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = decoder.decode(input);
    } catch (cause) {
      const lenient = new TextDecoder('utf-8', { ignoreBOM: true }).decode(input);
      const bad = lenient.indexOf('\uFFFD');
      throw new InputError('is not UTF-8 text (a binary file?)', {
        file,
        ...(bad >= 0 ? { line: lineAt(lenient, bad) } : {}),
        hint: 'Manifests must be UTF-8 YAML or JSON.',
        cause,
      });
    }
  }
  // YAML's printable set (c-printable); go-yaml refuses the same: "control characters are not allowed".
  const control = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new InputError(
      `contains the control character U+${code}, which YAML does not allow (a binary file?)`,
      {
        file,
        line: lineAt(text, control.index),
        hint: 'Manifests must be UTF-8 YAML or JSON text.',
      },
    );
  }
  return text;
}

/** The error for input over the size limit (also raised from a file's size before it is read). */
export function tooLargeError(file: string, size: number, maxBytes = MAX_YAML_BYTES): InputError {
  const bytes = grouped;
  const mib = maxBytes / (1024 * 1024);
  const limit = Number.isInteger(mib) ? `${mib} MiB (${bytes(maxBytes)} bytes)` : `${bytes(maxBytes)} bytes`;
  return new InputError(`is ${bytes(size)} bytes, over the ${limit} limit`, {
    file,
    hint: 'The API server refuses requests over 3 MiB; split the file into smaller ones.',
  });
}

/**
 * Parses a YAML stream (or JSON) into plain values, one per document, with lines for error messages.
 * Throws only `InputError`.
 */
const BOOL_TAG = 'tag:yaml.org,2002:bool';
/** go-yaml v2's boolean spellings (resolve.go): y, yes, true, on and their negatives, in three casings. */
const YAML11_BOOL = {
  identify: (v: unknown) => typeof v === 'boolean',
  default: true,
  tag: BOOL_TAG,
  test: /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  resolve: (str: string) => /^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(str),
};

export function parseYamlDocuments(
  input: string | Uint8Array,
  file: string,
  options: YamlParseOptions = {},
): YamlDocument[] {
  const text = decodeYaml(input, file, options.maxBytes ?? MAX_YAML_BYTES);
  const full = () => parseFull(text, file, options);
  if (options.fastPath === false) return full();
  const fast = parseFast(text, options.maxDepth ?? MAX_YAML_DEPTH);
  if (!fast) return full();
  // What the fast path does not know (document ranges, the line of an empty value) comes from the full parse
  // of the same text, done once if ever asked.
  let parsed: YamlDocument[] | undefined;
  const fullDoc = (index: number): YamlDocument => {
    parsed ??= full();
    const doc = parsed[index];
    if (!doc || parsed.length !== fast.length)
      throw new Error(`${file}: the YAML fast path disagrees on documents`);
    return doc;
  };
  return fast.map((doc, index): YamlDocument => {
    const result: YamlDocument = {
      index,
      value: doc.value,
      line: doc.line,
      lineOf: (path) => {
        const line = doc.lineOf(path);
        return line === 'unknown' ? fullDoc(index).lineOf(path) : line;
      },
      get range() {
        return fullDoc(index).range;
      },
    };
    if (doc.value === null) Object.defineProperty(result, 'line', { get: () => fullDoc(index).line });
    return result;
  });
}

function parseFull(input: string, file: string, options: YamlParseOptions): YamlDocument[] {
  const text = input;
  const lines = new LineCounter();
  const lineOfOffset = (offset: number): number => lines.linePos(offset).line;
  try {
    return parseDecoded(text, file, lines, lineOfOffset, options).values;
  } catch (error) {
    if (error instanceof InputError) throw error;
    // A RangeError (stack), a ReferenceError (aliases) or anything else the library may throw.
    const message = error instanceof Error ? error.message : String(error);
    throw new InputError(`cannot be parsed as YAML: ${message}`, { file, cause: error });
  }
}

function parseDecoded(
  text: string,
  file: string,
  lines: LineCounter,
  lineOfOffset: (offset: number) => number,
  options: YamlParseOptions,
  nodesOnly = false,
): { docs: Document.Parsed[]; values: YamlDocument[] } {
  const maxDepth = options.maxDepth ?? MAX_YAML_DEPTH;
  const maxAliasCount = options.maxAliasCount ?? MAX_YAML_ALIASES;
  const tooManyAliases = (offset: number) =>
    new InputError(
      `uses aliases (*name) more than ${maxAliasCount} times: refused as a billion-laughs attack`,
      {
        file,
        line: lineOfOffset(offset),
        hint: 'Write the values out instead of using YAML anchors and aliases.',
      },
    );
  const tooDeep = (offset: number) =>
    new InputError(`nests collections deeper than ${maxDepth} levels`, {
      file,
      line: lineOfOffset(offset),
      hint: 'Deeply nested YAML is refused as a resource-exhaustion attack.',
    });

  // 1. Tokens. Lexer and parser are iterative; their stack grows with nesting, so watch it as it grows
  //    (a 3 MiB `[[[[…` would otherwise build millions of tokens before we could look).
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  const tokens: CST.Token[] = [];
  // Aliases are counted here too (checkNodes has the final word), so a billion-laughs file fails while lexing.
  let aliases = 0;
  let previous = '';
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (previous !== SCALAR_MARKER) {
      if (lexeme === '---' || lexeme === '...') aliases = 0;
      else if (lexeme[0] === '*' && ++aliases > maxAliasCount)
        throw tooManyAliases(parser.offset - lexeme.length);
    }
    previous = lexeme;
    if (parser.stack.length > maxDepth) {
      const deepest = nthCollection(parser.stack, maxDepth + 1);
      if (deepest) throw tooDeep(deepest.offset);
      if (parser.stack.length > 4 * maxDepth + 16) throw tooDeep(parser.offset);
    }
  }
  for (const token of parser.end()) tokens.push(token);

  // 2. Exact depth on the CST, still without recursion.
  checkDepth(tokens, maxDepth, tooDeep);

  // 3. Documents. The composer recurses, but only over input of bounded depth.
  const composer = new Composer({
    version: '1.2',
    schema: 'core',
    // kubectl reads manifests with go-yaml v2 (YAML 1.1 booleans): `hostNetwork: yes` is true there, so here too.
    customTags: (tags) => [YAML11_BOOL, ...tags.filter((t) => (t as { tag?: string }).tag !== BOOL_TAG)],
    merge: false,
    // Duplicate keys are refused by checkNodes with a Set: the library's check compares every key with every
    // earlier one, and a flat 400 KB mapping then takes 20 s.
    uniqueKeys: false,
    strict: true,
    stringKeys: true,
    resolveKnownTags: false,
    prettyErrors: true,
  });
  const docs = [...composer.compose(tokens)];
  const starts = documentStarts(tokens);
  const aliased = docs.map((doc) => {
    const problem: YAMLError | undefined = doc.errors[0] ?? doc.warnings[0];
    if (problem) {
      throw new InputError(`invalid YAML: ${firstLine(problem.message)}`, {
        file,
        line: lineOfOffset(problem.pos[0]),
        ...(problem.code === 'TAG_RESOLVE_FAILED'
          ? { hint: 'Only the YAML 1.2 core schema tags (!!str, !!int, !!map, …) are accepted.' }
          : {}),
      });
    }
    return checkNodes(doc, file, lineOfOffset, maxAliasCount, tooManyAliases);
  });
  if (nodesOnly) return { docs, values: [] };

  const values = docs.map((doc, index) => {
    const hasAliases = aliased[index] ?? false;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount });
    } catch (cause) {
      const alias = firstAlias(doc);
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new InputError(
        /resource exhaustion/i.test(message)
          ? 'uses aliases (*name) that expand too much: refused as a billion-laughs attack'
          : `invalid YAML: ${firstLine(message)}`,
        { file, ...(alias ? { line: lineOfOffset(alias) } : {}), cause },
      );
    }
    if (hasAliases) {
      // Aliases share one object between places and can nest past the depth checked on the text.
      checkValueDepth(value, maxDepth, () => tooDeep(firstAlias(doc) ?? 0));
      value = copyTree(value);
    }
    const contents = doc.contents as Node | null;
    const contentStart = contents?.range?.[0] ?? doc.range[0];
    const start = index === 0 ? 0 : (starts[index] ?? doc.range[0]);
    const end = index + 1 < docs.length ? (starts[index + 1] ?? text.length) : text.length;
    return {
      index,
      value,
      line: lineOfOffset(contentStart),
      lineOf: (path: readonly (string | number)[]) => {
        const offset = offsetOf(doc, path);
        return offset === undefined ? undefined : lineOfOffset(offset);
      },
      range: { start, contentStart, contentEnd: doc.range[1], end },
    };
  });
  return { docs, values };
}

/**
 * The composed documents (nodes with their source offsets) of a YAML stream, for editing it in place: the same
 * limits and checks as `parseYamlDocuments` (size, depth, aliases, duplicate and forbidden keys, tags), the same
 * schema (YAML 1.1 booleans). Index `i` is document `i` of `parseYamlDocuments`. Throws only `InputError`.
 */
export function parseYamlNodes(
  input: string | Uint8Array,
  file: string,
  options: YamlParseOptions = {},
): { text: string; documents: Document.Parsed[] } {
  const text = decodeYaml(input, file, options.maxBytes ?? MAX_YAML_BYTES);
  const lines = new LineCounter();
  const lineOfOffset = (offset: number): number => lines.linePos(offset).line;
  try {
    return { text, documents: parseDecoded(text, file, lines, lineOfOffset, options, true).docs };
  } catch (error) {
    if (error instanceof InputError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new InputError(`cannot be parsed as YAML: ${message}`, { file, cause: error });
  }
}

function isCollectionToken(token: CST.Token): token is CST.BlockMap | CST.BlockSequence | CST.FlowCollection {
  return token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection';
}

/** The `n`th collection (1-based) on the parser's stack: the path from the root to where it is now. */
function nthCollection(stack: readonly CST.Token[], n: number): CST.Token | undefined {
  let count = 0;
  for (const token of stack) if (isCollectionToken(token) && ++count === n) return token;
  return undefined;
}

/** Refuses collections nested deeper than `maxDepth`, walking the CST with an explicit stack. */
function checkDepth(tokens: CST.Token[], maxDepth: number, tooDeep: (offset: number) => Error): void {
  const stack: Array<[CST.Token, number]> = [];
  for (const token of tokens) if (token.type === 'document' && token.value) stack.push([token.value, 0]);
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [token, depth] = next;
    if (!isCollectionToken(token)) continue;
    if (depth + 1 > maxDepth) throw tooDeep(token.offset);
    for (const item of token.items) {
      if (item.key) stack.push([item.key, depth + 1]);
      if (item.value) stack.push([item.value, depth + 1]);
    }
  }
}

/**
 * Where each document's share of the text begins: its own offset, or the first directive or comment
 * after a preceding `...` (those introduce the next document).
 */
function documentStarts(tokens: CST.Token[]): number[] {
  const starts: number[] = [];
  let pending: number | undefined;
  let afterDocEnd = false;
  for (const token of tokens) {
    if (token.type === 'document') {
      starts.push(pending ?? token.offset);
      pending = undefined;
      afterDocEnd = false;
    } else if (token.type === 'doc-end') {
      afterDocEnd = true;
      pending = undefined;
    } else if (
      afterDocEnd &&
      pending === undefined &&
      (token.type === 'directive' || token.type === 'comment')
    ) {
      pending = token.offset;
    } else if (!afterDocEnd && token.type === 'directive' && starts.length > 0 && pending === undefined) {
      pending = token.offset;
    }
  }
  return starts;
}

/**
 * Walks the parsed nodes (depth is already bounded) before any JS object is built: refuses duplicate keys,
 * the keys `__proto__`, `constructor` and `prototype`, and more alias nodes than `maxAliasCount` (each alias
 * costs the library a scan of the document, so many cheap aliases are an attack too). Linear in the nodes.
 * Returns whether the document uses aliases.
 */
function checkNodes(
  doc: Document.Parsed,
  file: string,
  lineOfOffset: (offset: number) => number,
  maxAliasCount: number,
  tooManyAliases: (offset: number) => Error,
): boolean {
  let aliases = 0;
  const lineOf = (node: { range?: [number, number, number] | null }) => lineOfOffset(node.range?.[0] ?? 0);
  const visit = (node: unknown): void => {
    if (isAlias(node)) {
      if (++aliases > maxAliasCount) throw tooManyAliases(node.range?.[0] ?? 0);
    } else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key;
        // With stringKeys, the composer has already refused keys that are not string scalars.
        const name = isScalar(key) ? String(key.value) : undefined;
        if (name !== undefined && isScalar(key)) {
          if (FORBIDDEN_KEYS.has(name)) {
            throw new InputError(`uses the key "${name}", which is refused (prototype pollution)`, {
              file,
              line: lineOf(key),
              hint: 'Remove the key; Kubernetes objects never contain it.',
            });
          }
          if (seen.has(name)) {
            throw new InputError(`invalid YAML: Map keys must be unique ("${name}" appears twice)`, {
              file,
              line: lineOf(key),
              hint: 'Each key may appear once in a mapping.',
            });
          }
          seen.add(name);
        }
        visit(key);
        visit(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    }
  };
  visit(doc.contents);
  return aliases > 0;
}

function firstAlias(doc: Document.Parsed): number | undefined {
  let found: number | undefined;
  const visit = (node: unknown): void => {
    if (found !== undefined) return;
    if (isAlias(node)) found = node.range?.[0];
    else if (isMap(node)) for (const pair of node.items) visit(pair.value);
    else if (isSeq(node)) for (const item of node.items) visit(item);
  };
  visit(doc.contents);
  return found;
}

function checkValueDepth(value: unknown, maxDepth: number, tooDeep: () => Error): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [current, depth] = next;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > maxDepth) throw tooDeep();
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
}

/** A deep copy that, unlike `structuredClone`, gives every place its own object (depth is bounded). */
function copyTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyTree);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    Object.defineProperty(copy, key, {
      value: copyTree(child),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** The offset of the node at `path`, or of its deepest existing ancestor. */
function offsetOf(doc: Document.Parsed, path: readonly (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? doc.range[0];
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    let child: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      child = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof segment === 'number') {
      child = node.items[segment];
    }
    const range = (child as Node | null | undefined)?.range;
    if (!range) break;
    node = child;
    offset = range[0];
  }
  return offset;
}

/**
 * Parses Kubernetes manifests: every non-empty document must be an object with `apiVersion`, `kind` and
 * `metadata.name`; `List` kinds expand into their items. Throws only `InputError`.
 */
export function parseManifests(text: string | Buffer, file: string): KubeObject[] {
  return parseManifestDocuments(text, file).flatMap((doc) => doc.objects.map((o) => o.object));
}

export interface ManifestObject {
  object: KubeObject;
  /** Position in the document's `items` when the document is a List. */
  item?: number;
  line: number | undefined;
}

export interface ManifestDocument {
  index: number;
  range: YamlDocumentRange;
  /** The document as parsed (a List keeps its items). */
  value: unknown;
  /** Whether the document is a List whose items are the objects. */
  list: boolean;
  objects: ManifestObject[];
}

/** `parseManifests`, keeping each document's position for `origin` and the remediated copy. */
export function parseManifestDocuments(text: string | Uint8Array, file: string): ManifestDocument[] {
  const result: ManifestDocument[] = [];
  for (const doc of parseYamlDocuments(text, file)) {
    if (doc.value === null || doc.value === undefined) continue;
    const top = asKubeObject(doc.value, [], doc, file, { allowNoName: true });
    if (isListKind(top.kind, doc.value)) {
      const items = (doc.value as { items?: unknown }).items ?? [];
      if (!Array.isArray(items)) {
        throw new InputError(`${top.kind}: items must be a list`, { file, line: doc.lineOf(['items']) });
      }
      const itemKind = top.kind === 'List' ? undefined : top.kind.slice(0, -'List'.length);
      const objects = items.map((item, i): ManifestObject => {
        // Typed lists from the API (PodList) omit apiVersion and kind on their items.
        const filled =
          itemKind && isPlainObject(item)
            ? { apiVersion: top.apiVersion, kind: itemKind, ...item }
            : (item as unknown);
        return {
          object: asKubeObject(filled, ['items', i], doc, file),
          item: i,
          line: doc.lineOf(['items', i]),
        };
      });
      result.push({
        index: doc.index,
        // Read when asked (the writer): on the fast path, ranges come from a full parse.
        get range() {
          return doc.range;
        },
        value: doc.value,
        list: true,
        objects,
      });
    } else {
      const object = asKubeObject(doc.value, [], doc, file);
      result.push({
        index: doc.index,
        get range() {
          return doc.range;
        },
        value: doc.value,
        list: false,
        objects: [{ object, line: doc.line }],
      });
    }
  }
  return result;
}

/** `kind: List`, or a typed list (`PodList`) with `items` and no name. */
export function isListKind(kind: string, value: unknown): boolean {
  if (kind === 'List') return true;
  if (!kind.endsWith('List') || kind.length === 4 || !isPlainObject(value)) return false;
  const meta = value.metadata;
  return Array.isArray(value.items) && !(isPlainObject(meta) && typeof meta.name === 'string');
}

function asKubeObject(
  value: unknown,
  path: (string | number)[],
  doc: YamlDocument,
  file: string,
  opts: { allowNoName?: boolean } = {},
): KubeObject {
  const fail = (message: string, at: (string | number)[] = [], hint?: string): never => {
    throw new InputError(message, {
      file,
      line: doc.lineOf([...path, ...at]) ?? doc.line,
      hint: hint ?? 'Each document must be a Kubernetes object with apiVersion, kind and metadata.name.',
    });
  };
  const what = path.length > 0 ? `${path.join('.')}: ` : '';
  if (!isPlainObject(value)) {
    const type = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    return fail(`${what}not a Kubernetes object: the document is ${type}, not a mapping`);
  }
  for (const field of ['apiVersion', 'kind'] as const) {
    const v = value[field];
    if (v === undefined || v === null) return fail(`${what}not a Kubernetes object: missing ${field}`);
    if (typeof v !== 'string' || v === '') return fail(`${what}${field} must be a non-empty string`, [field]);
  }
  const kind = value.kind as string;
  const meta = value.metadata;
  const listLike = opts.allowNoName && isListKind(kind, value);
  if (meta === undefined || meta === null) {
    if (listLike) return value as unknown as KubeObject;
    return fail(`${what}${kind}: missing metadata`);
  }
  if (!isPlainObject(meta)) return fail(`${what}${kind}: metadata must be a mapping`, ['metadata']);
  if (listLike) return value as unknown as KubeObject;
  if (meta.name === undefined || meta.name === null) {
    if (meta.generateName !== undefined) {
      return fail(
        `${what}${kind}: metadata.generateName is not supported offline`,
        ['metadata', 'generateName'],
        'Give the object a fixed metadata.name; generated names exist only once created in a cluster.',
      );
    }
    return fail(`${what}${kind}: missing metadata.name`, ['metadata']);
  }
  if (typeof meta.name !== 'string' || meta.name === '') {
    return fail(`${what}${kind}: metadata.name must be a non-empty string`, ['metadata', 'name']);
  }
  if (meta.namespace !== undefined && meta.namespace !== null && typeof meta.namespace !== 'string') {
    return fail(`${what}${kind} ${meta.name}: metadata.namespace must be a string`, [
      'metadata',
      'namespace',
    ]);
  }
  for (const field of ['labels', 'annotations'] as const) {
    const map = meta[field];
    if (map === undefined || map === null) continue;
    if (!isPlainObject(map)) return fail(`${what}${kind} ${meta.name}: metadata.${field} must be a mapping`);
    for (const [key, v] of Object.entries(map)) {
      if (typeof v !== 'string') {
        return fail(
          `${what}${kind} ${meta.name}: metadata.${field}.${key} must be a string`,
          ['metadata', field, key],
          `Quote the value: ${key}: "${String(v)}".`,
        );
      }
    }
  }
  return value as unknown as KubeObject;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
