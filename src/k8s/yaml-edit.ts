/**
 * Minimal, in-place edits of YAML text: a node of a composed document (see `parseYamlNodes`) is brought to a new
 * value by changing only the nodes whose values differ. Everything else (key order, quoting, flow style, comments,
 * blank lines, document separators, line ends) stays byte for byte: the edits are splices of the source text at the
 * nodes' offsets. Added keys go after a mapping's last key, added items after a sequence's last item, in the style
 * (block or flow, indentation) of the collection they join. A scalar that changes keeps its quoting and its comment.
 *
 * What this cannot do as a splice (a block scalar that changes, a block collection that becomes another type, a key
 * removed from the line of a `- `) throws `UnsupportedEdit`: the caller falls back to re-serializing the document.
 * Pure.
 */
import {
  Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  Scalar,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';

/** An edit the splicer does not make; the caller re-serializes instead. */
export class UnsupportedEdit extends Error {}

interface Splice {
  start: number;
  end: number;
  text: string;
  /** Order of creation: of two insertions at one offset, the earlier one comes first in the text. */
  seq: number;
}

type Json = unknown;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The layout conventions of a file, so that added lines look like their neighbours. */
interface Style {
  indent: number;
  indentSeq: boolean;
}

export class YamlTextEditor {
  private readonly splices: Splice[] = [];
  private readonly eol: string;
  private style: Style | undefined;

  constructor(
    readonly text: string,
    /** Every document of the text (the style of added lines is learnt from all of them). */
    private readonly documents: readonly Document.Parsed[],
    private readonly serialize: (value: unknown, options: { indent: number; indentSeq: boolean }) => string,
  ) {
    this.eol = text.includes('\r\n') ? '\r\n' : '\n';
  }

  /** Brings `node` (of `doc`) to `value`. */
  edit(doc: Document.Parsed, node: Node | null, value: Json): void {
    if (!node) throw new UnsupportedEdit('an empty node');
    this.style ??= detectStyle(this.text, this.documents);
    this.editNode(doc, node, value, { kind: 'root' });
  }

  /** Removes item `index` of a sequence (a List's items). */
  deleteItem(seq: YAMLSeq, index: number): void {
    this.removeItem(seq, index);
  }

  /** Removes a text range as it is (a whole document). */
  remove(start: number, end: number): void {
    this.splice(start, end, '');
  }

  /** The text with every edit applied. Throws `UnsupportedEdit` when two edits overlap. */
  result(): string {
    const ordered = [...this.splices].sort((a, b) => b.start - a.start || b.seq - a.seq);
    let text = this.text;
    let floor = Number.POSITIVE_INFINITY;
    for (const s of ordered) {
      if (s.end > floor) throw new UnsupportedEdit('overlapping edits');
      text = `${text.slice(0, s.start)}${s.text}${text.slice(s.end)}`;
      floor = s.start;
    }
    return text;
  }

  private splice(start: number, end: number, text: string): void {
    this.splices.push({ start, end, text, seq: this.splices.length });
  }

  private editNode(doc: Document.Parsed, node: Node, value: Json, place: Place): void {
    if (sameValue(toJs(doc, node), value)) return;
    if (isMap(node) && isRecord(value) && Object.keys(value).length > 0) this.editMap(doc, node, value);
    else if (isSeq(node) && Array.isArray(value) && value.length > 0) this.editSeq(doc, node, value);
    else this.replace(node, value, place);
  }

  private editMap(doc: Document.Parsed, map: YAMLMap, value: Record<string, unknown>): void {
    const present = new Set<string>();
    const kept = map.items.filter((pair) => keyOf(pair) in value);
    if (map.items.length > 0 && kept.length === 0)
      throw new UnsupportedEdit('every key of a mapping changes');
    for (const pair of map.items) {
      const key = keyOf(pair);
      present.add(key);
      if (!(key in value)) {
        this.removePair(map, pair);
        continue;
      }
      const child = pair.value;
      if (!isNode(child)) throw new UnsupportedEdit('a key without a value node');
      this.editNode(doc, child, value[key], map.flow ? { kind: 'flow' } : { kind: 'pair', pair });
    }
    const added = Object.keys(value).filter((k) => !present.has(k) && value[k] !== undefined);
    if (added.length === 0) return;
    const fragment = Object.fromEntries(added.map((k) => [k, value[k]]));
    if (map.flow) {
      this.appendFlow(
        map,
        Object.entries(fragment).map(([k, v]) =>
          flowText({ [k]: v })
            .slice(1, -1)
            .trim(),
        ),
      );
      return;
    }
    const last = kept.at(-1);
    if (!last) throw new UnsupportedEdit('an empty block mapping');
    const end = nodeEnd(last?.value ?? last?.key);
    const column = this.column(rangeOf(map.items[0]?.key)[0]);
    this.insertLines(this.lineEndAfter(end), this.block(fragment, column));
  }

  private editSeq(doc: Document.Parsed, seq: YAMLSeq, value: unknown[]): void {
    const items = seq.items as unknown[];
    const place: Place = seq.flow ? { kind: 'flow' } : { kind: 'item' };
    const pairs = matchByName(doc, items, value);
    if (pairs) {
      for (const [i, j] of pairs.kept) this.editNode(doc, items[i] as Node, value[j], place);
      for (const i of pairs.removed) this.removeItem(seq, i);
      if (pairs.added.length)
        this.appendItems(
          seq,
          pairs.added.map((j) => value[j]),
        );
      return;
    }
    const common = Math.min(items.length, value.length);
    for (let i = 0; i < common; i++) {
      const item = items[i];
      if (!isNode(item)) throw new UnsupportedEdit('a sequence item without a node');
      this.editNode(doc, item, value[i], place);
    }
    for (let i = common; i < items.length; i++) this.removeItem(seq, i);
    if (value.length > common) this.appendItems(seq, value.slice(common));
  }

  private appendItems(seq: YAMLSeq, values: unknown[]): void {
    if (seq.flow) {
      this.appendFlow(
        seq,
        values.map((v) => flowText(v)),
      );
      return;
    }
    const items = seq.items as Node[];
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) throw new UnsupportedEdit('an empty block sequence');
    const dash = this.dashBefore(rangeOf(first)[0]);
    this.insertLines(this.lineEndAfter(nodeEnd(last)), this.block(values, this.column(dash)));
  }

  /** Replaces a node that cannot be edited part by part: a scalar, an alias, or a collection of another type. */
  private replace(node: Node, value: Json, place: Place): void {
    const [start, end] = rangeOf(node);
    const collection =
      (isRecord(value) && Object.keys(value).length > 0) || (Array.isArray(value) && value.length > 0);
    if (isScalar(node) && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED')) {
      throw new UnsupportedEdit('a block scalar changes');
    }
    if (!collection || place.kind === 'flow') {
      if (isMap(node) || isSeq(node)) {
        if (!node.flow) throw new UnsupportedEdit('a block collection becomes a scalar');
      }
      let text =
        collection || isRecord(value) || Array.isArray(value) ? flowText(value) : scalarText(value, node);
      // `key:` with an empty value: keep a space after the colon.
      if (start === end && this.text[start - 1] === ':') text = ` ${text}`;
      this.splice(start, end, text);
      return;
    }
    if (isMap(node) || isSeq(node)) {
      if (node.flow) {
        this.splice(start, end, flowText(value));
        return;
      }
      throw new UnsupportedEdit('a block collection changes type');
    }
    // A scalar (or alias) in block context becomes a collection: the block goes on the lines below it.
    if (place.kind !== 'pair') throw new UnsupportedEdit('a scalar item becomes a collection');
    let from = start;
    while (from > 0 && (this.text[from - 1] === ' ' || this.text[from - 1] === '\t')) from--;
    if (this.text[from - 1] !== ':') throw new UnsupportedEdit('a value not right after its key');
    // Keep a space before a comment on that line (`key: # why`).
    this.splice(from, end, this.text[end] === '#' ? ' ' : '');
    const keyColumn = this.column(rangeOf(place.pair.key as Node)[0]);
    const style = this.styleOf();
    const column = Array.isArray(value) && !style.indentSeq ? keyColumn : keyColumn + style.indent;
    this.insertLines(this.lineEndAfter(end), this.block(value, column));
  }

  private removePair(map: YAMLMap, pair: Pair): void {
    const index = map.items.indexOf(pair);
    if (map.flow) {
      this.removeFlow(
        map.items.map((p) => [rangeOf(p.key as Node)[0], nodeEnd((p.value ?? p.key) as Node)]),
        index,
      );
      return;
    }
    const keyStart = rangeOf(pair.key as Node)[0];
    const lineStart = this.lineStart(keyStart);
    if (this.text.slice(lineStart, keyStart).trim() !== '') {
      throw new UnsupportedEdit('a key on the line of a sequence dash is removed');
    }
    this.splice(lineStart, this.lineEndAfter(nodeEnd((pair.value ?? pair.key) as Node)), '');
  }

  private removeItem(seq: YAMLSeq, index: number): void {
    const items = seq.items as Node[];
    if (seq.flow) {
      this.removeFlow(
        items.map((n) => [rangeOf(n)[0], nodeEnd(n)]),
        index,
      );
      return;
    }
    const item = items[index];
    if (!item) throw new UnsupportedEdit('no such item');
    const dash = this.dashBefore(rangeOf(item)[0]);
    const lineStart = this.lineStart(dash);
    if (this.text.slice(lineStart, dash).trim() !== '')
      throw new UnsupportedEdit('an item not on its own line');
    this.splice(lineStart, this.lineEndAfter(nodeEnd(item)), '');
  }

  /** Removes entry `index` of a flow collection (entries as [start, end]) with one of its commas. */
  private removeFlow(entries: Array<[number, number]>, index: number): void {
    const [start, end] = entries[index] ?? [0, 0];
    const next = entries[index + 1];
    const previous = entries[index - 1];
    if (next) this.splice(start, next[0], '');
    else if (previous) this.splice(previous[1], end, '');
    else this.splice(start, end, '');
  }

  /** Adds entries before the closing bracket of a flow collection. */
  private appendFlow(collection: YAMLMap | YAMLSeq, entries: string[]): void {
    const [start, end] = rangeOf(collection);
    let close = end - 1;
    while (close > start && this.text[close] !== '}' && this.text[close] !== ']') close--;
    let at = close;
    while (at > start + 1 && /\s/.test(this.text[at - 1] ?? '')) at--;
    const empty = collection.items.length === 0;
    const trailingComma = this.text[at - 1] === ',';
    const lead = empty ? '' : trailingComma ? ' ' : ', ';
    this.splice(at, at, `${lead}${entries.join(', ')}`);
  }

  /** Lines of `value` as block YAML, every line indented to `column`, each ending with the file's line end. */
  private block(value: unknown, column: number): string {
    const style = this.styleOf();
    const text = this.serialize(value, style);
    const pad = ' '.repeat(column);
    return text
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => `${pad}${line}${this.eol}`)
      .join('');
  }

  private insertLines(at: number, lines: string): void {
    const needsBreak = at > 0 && this.text[at - 1] !== '\n';
    this.splice(at, at, `${needsBreak ? this.eol : ''}${lines}`);
  }

  private styleOf(): Style {
    return this.style ?? { indent: 2, indentSeq: true };
  }

  private lineStart(offset: number): number {
    return this.text.lastIndexOf('\n', offset - 1) + 1;
  }

  private column(offset: number): number {
    const start = this.lineStart(offset);
    return offset - start - (start === 0 && this.text.startsWith('\uFEFF') ? 1 : 0);
  }

  /** Where the line holding `offset` ends (after its line break); `offset` itself when a line just ended there. */
  private lineEndAfter(offset: number): number {
    if (offset > 0 && this.text[offset - 1] === '\n') return offset;
    const next = this.text.indexOf('\n', offset);
    return next < 0 ? this.text.length : next + 1;
  }

  /** The offset of the `-` that introduces a block sequence item starting at `offset`. */
  private dashBefore(offset: number): number {
    const at = this.text.lastIndexOf('-', offset - 1);
    if (at < 0) throw new UnsupportedEdit('no sequence dash');
    return at;
  }
}

type Place = { kind: 'root' } | { kind: 'flow' } | { kind: 'item' } | { kind: 'pair'; pair: Pair };

function keyOf(pair: Pair): string {
  const key = pair.key;
  if (!isScalar(key)) throw new UnsupportedEdit('a key that is not a scalar');
  return String(key.value);
}

function rangeOf(node: unknown): [number, number, number] {
  const range = (node as Node | null | undefined)?.range;
  if (!range) throw new UnsupportedEdit('a node without a source range');
  return range;
}

/** Where a node's value ends (before a comment on its line). */
function nodeEnd(node: unknown): number {
  return rangeOf(node)[1];
}

function toJs(doc: Document.Parsed, node: Node): unknown {
  return node.toJS(doc, { maxAliasCount: -1 });
}

function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    isRecord(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/**
 * Items of two sequences matched by `name` (containers, volumes, ports): kept (old index → new index), removed and
 * added. Undefined unless every item on both sides is a mapping with a distinct string name and the kept ones keep
 * their order.
 */
function matchByName(
  doc: Document.Parsed,
  items: unknown[],
  value: unknown[],
): { kept: Array<[number, number]>; removed: number[]; added: number[] } | undefined {
  const names = (list: unknown[]) => {
    const out: string[] = [];
    for (const v of list) {
      if (!isRecord(v) || typeof v.name !== 'string') return undefined;
      out.push(v.name);
    }
    return new Set(out).size === out.length ? out : undefined;
  };
  const before = names(items.map((n) => (isNode(n) ? toJs(doc, n) : undefined)));
  const after = names(value);
  if (!before || !after) return undefined;
  const kept: Array<[number, number]> = [];
  const removed: number[] = [];
  let last = -1;
  before.forEach((name, i) => {
    const j = after.indexOf(name);
    if (j < 0) removed.push(i);
    else kept.push([i, j]);
    if (j >= 0 && j < last) last = Number.POSITIVE_INFINITY;
    else if (j >= 0) last = j;
  });
  if (last === Number.POSITIVE_INFINITY) return undefined;
  const added = after.map((_, j) => j).filter((j) => !kept.some(([, k]) => k === j));
  // New items go after the last kept one only; one in between keeps index order instead.
  const lastKept = kept.at(-1)?.[1] ?? -1;
  if (added.some((j) => j < lastKept)) return undefined;
  return { kept, removed, added };
}

/** The source's indentation step and whether sequences in mappings are indented, from its first examples. */
function detectStyle(text: string, documents: readonly Document.Parsed[]): Style {
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  const column = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  const visit = (node: unknown, depth: number): void => {
    if ((indent !== undefined && indentSeq !== undefined) || depth > 64) return;
    if (isMap(node) && !node.flow) {
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        const value = pair.value as Node | null;
        if (key?.range && value?.range && (isMap(value) || isSeq(value)) && !value.flow) {
          const keyCol = column(key.range[0]);
          const first = value.items[0] as Node | Pair | undefined;
          const firstStart =
            first && 'key' in first ? (first.key as Node)?.range?.[0] : (first as Node)?.range?.[0];
          if (firstStart !== undefined && text.lastIndexOf('\n', firstStart) > key.range[0]) {
            if (isMap(value) && indent === undefined) {
              const step = column(firstStart) - keyCol;
              if (step > 0) indent = step;
            }
            if (isSeq(value) && indentSeq === undefined) {
              const dash = text.lastIndexOf('-', firstStart);
              indentSeq = column(dash) > keyCol;
            }
          }
        }
        visit(value, depth + 1);
      }
    } else if (isSeq(node) && !node.flow) {
      for (const item of node.items) visit(item, depth + 1);
    }
  };
  for (const doc of documents) visit(doc.contents, 0);
  return { indent: indent ?? 2, indentSeq: indentSeq ?? true };
}

/** A scalar in the style of the one it replaces (quoted stays quoted with the same quotes). */
function scalarText(value: unknown, old: Node): string {
  const scalar = new Scalar(value);
  if (
    isScalar(old) &&
    typeof value === 'string' &&
    (old.type === 'QUOTE_DOUBLE' || old.type === 'QUOTE_SINGLE')
  ) {
    scalar.type = old.type;
  }
  const doc = new Document(null, { version: '1.2', schema: 'core', compat: 'yaml-1.1' });
  doc.contents = scalar;
  const text = doc.toString({ lineWidth: 0 }).replace(/\n$/, '');
  if (text.includes('\n')) throw new UnsupportedEdit('a multi-line scalar');
  return text;
}

/** A value as one-line flow YAML. */
function flowText(value: unknown): string {
  const doc = new Document(value, { version: '1.2', schema: 'core', compat: 'yaml-1.1' });
  const text = doc.toString({ lineWidth: 0, collectionStyle: 'flow' }).replace(/\n$/, '');
  if (text.includes('\n')) throw new UnsupportedEdit('a multi-line flow value');
  return text;
}
