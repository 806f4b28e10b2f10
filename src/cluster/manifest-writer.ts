/**
 * Writes a remediated copy of a manifest tree: the source is never touched. Documents whose objects did not
 * change keep their text byte-for-byte (comments included); changed YAML documents are edited in place, only the
 * nodes whose values change (see `YamlTextEditor`); when that cannot be done, and in `.json` files, the changed
 * document is re-serialized as sorted, stable YAML (or JSON); deleted ones are dropped; created objects go to new
 * files.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Document, isMap, isSeq, type Node } from 'yaml';
import { AbortError, BugError, InputError } from '../errors.js';
import { describeRef, type KubeObject, type ObjectRef } from '../k8s/types.js';
import { decodeYaml, parseManifestDocuments, parseYamlNodes } from '../k8s/yaml.js';
import { UnsupportedEdit, YamlTextEditor } from '../k8s/yaml-edit.js';
import {
  compareStrings,
  isWithin,
  type ManifestDocumentLayout,
  type ManifestEntryLayout,
  type ManifestFileLayout,
  type ManifestSource,
  realPathNearest,
  SYNTHESIZED_ANNOTATION,
} from './manifests.js';

/** A change to the tree: replace or delete (`object: null`) an existing object, or create a new one. */
export type ManifestChange =
  | { ref: ObjectRef; object: KubeObject | null }
  | {
      create: KubeObject;
      /**
       * Relative to the output directory. An existing manifest file gets the object appended as a new document.
       * @default `kube-harden/<kind>-<namespace>-<name>.yaml` (`<kind>-<name>.yaml` when cluster-scoped)
       */
      file?: string;
    };

export interface WriteCopyOptions {
  signal?: AbortSignal;
  /** @internal Re-serialize changed documents instead of editing them in place (the tests' reference). */
  reserialize?: boolean;
}

/** What was written, as paths relative to the output directory, sorted. */
export interface WriteCopyResult {
  outDir: string;
  /** Copied as they are. */
  copied: string[];
  /** Some documents re-serialized or dropped, or objects appended. */
  rewritten: string[];
  /** New files for created objects. */
  created: string[];
  /** Not written because every document in them was deleted. */
  removed: string[];
}

interface Located {
  file: ManifestFileLayout;
  doc: ManifestDocumentLayout;
  entry: ManifestEntryLayout;
}

/** Per document: item (or -1 for a plain document) → new object, or null to drop. */
type DocEdits = Map<number, KubeObject | null>;

/**
 * Copies the tree of `source` to `outDir`, applying `changes`. `outDir` must be new or empty, and neither
 * inside the source tree nor containing it. Throws `InputError` when a source file changed since it was
 * loaded or a change names an object the manifests do not hold.
 */
export async function writeRemediatedCopy(
  source: ManifestSource,
  outDir: string,
  changes: readonly ManifestChange[],
  options: WriteCopyOptions = {},
): Promise<WriteCopyResult> {
  const layout = source.layout();
  const out = path.resolve(outDir);
  await checkOutDir(out, layout.rootDir, layout.realRootDir, layout.singleFile);

  const located = new Map<string, Located>();
  for (const file of layout.files) {
    for (const doc of file.documents) {
      for (const entry of doc.entries) located.set(refKey(entry.ref), { file, doc, entry });
    }
  }

  // Sort the changes by file and document, ignoring those that change nothing.
  const edits = new Map<ManifestFileLayout, Map<ManifestDocumentLayout, DocEdits>>();
  const creates: Array<{ object: KubeObject; file: string }> = [];
  const touched = new Set<string>();
  for (const change of changes) {
    if ('create' in change) {
      const ref = refOf(change.create);
      if (located.has(refKey(ref)) || ((await source.get(ref)).value && !source.isSynthesized(ref))) {
        throw new BugError(`cannot create ${describeRef(ref)}: the manifests already define it`);
      }
      creates.push({ object: change.create, file: change.file ?? defaultFileFor(change.create) });
      continue;
    }
    const key = refKey(change.ref);
    if (touched.has(key)) throw new BugError(`two changes for ${describeRef(change.ref)}`);
    touched.add(key);
    const where = located.get(key);
    if (!where) {
      if (source.isSynthesized(change.ref)) {
        // A namespace no manifest declares: a change declares it, in a new file.
        if (change.object) {
          const object = withoutSynthesizedAnnotation(change.object);
          creates.push({ object, file: defaultFileFor(object) });
        }
        continue;
      }
      throw new InputError(`${describeRef(change.ref)} is not defined in the manifests`, {
        hint: 'The plan was made for other manifests; make it again.',
      });
    }
    const current = (await source.get(change.ref)).value;
    if (change.object && current && canonicalJson(change.object) === canonicalJson(current)) continue;
    const byDoc = edits.get(where.file) ?? new Map<ManifestDocumentLayout, DocEdits>();
    edits.set(where.file, byDoc);
    const docEdits: DocEdits = byDoc.get(where.doc) ?? new Map();
    byDoc.set(where.doc, docEdits);
    docEdits.set(where.entry.item ?? -1, change.object);
  }

  // Created objects, grouped by target file.
  const createdByFile = new Map<string, KubeObject[]>();
  for (const { object, file } of creates) {
    const rel = safeRelative(file);
    const list = createdByFile.get(rel);
    if (list) list.push(object);
    else createdByFile.set(rel, [object]);
  }

  const result: WriteCopyResult = { outDir: out, copied: [], rewritten: [], created: [], removed: [] };
  await fs.mkdir(out, { recursive: true });
  const write = async (rel: string, data: string | Buffer) => {
    const target = path.join(out, ...rel.split('/'));
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, data, { flag: 'wx' });
  };

  for (const rel of layout.otherFiles) {
    throwIfAborted(options.signal);
    if (createdByFile.has(rel))
      throw new BugError(`cannot create objects in ${rel}: it is not a manifest file`);
    const target = path.join(out, ...rel.split('/'));
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(path.join(layout.rootDir, ...rel.split('/')), target, fs.constants.COPYFILE_EXCL);
    result.copied.push(rel);
  }

  for (const file of layout.files) {
    throwIfAborted(options.signal);
    const byDoc = edits.get(file);
    const appended = createdByFile.get(file.relative);
    createdByFile.delete(file.relative);
    const bytes = await readUnchanged(file);
    if (!byDoc && !appended) {
      await write(file.relative, bytes);
      result.copied.push(file.relative);
      continue;
    }
    const json = isJsonFile(file.relative);
    const original = decodeYaml(bytes, file.path);
    let text = original;
    // Splice from the end so earlier offsets stay valid.
    const docs = [...(byDoc ?? new Map<ManifestDocumentLayout, DocEdits>())].sort(
      (a, b) => b[0].range.start - a[0].range.start,
    );
    const filled = layout.defaultNamespace;
    for (const [doc, docEdits] of docs) text = spliceDocument(text, doc, docEdits, json, filled);
    // YAML is edited in place where it can be; the re-serialized text stays the reference: the minimal edit is
    // used only when it holds exactly the same objects.
    if (!json && docs.length > 0 && !options.reserialize) {
      const minimal = minimalEdit(original, file.path, docs, filled);
      if (minimal !== undefined && sameObjects(minimal, text, file.relative)) text = minimal;
    }
    if (appended) {
      if (json) throw new BugError(`cannot append objects to the JSON file ${file.relative}`);
      const sep = text === '' || text.endsWith('\n') ? '' : '\n';
      text += `${sep}${appended.map((o) => `---\n${toYaml(o)}`).join('')}`;
    }
    const objects = verify(text, file.relative);
    if (objects === 0) {
      result.removed.push(file.relative);
      continue;
    }
    await write(file.relative, text);
    result.rewritten.push(file.relative);
  }

  for (const [rel, objects] of [...createdByFile].sort((a, b) => compareStrings(a[0], b[0]))) {
    throwIfAborted(options.signal);
    let text: string;
    if (isJsonFile(rel)) {
      if (objects.length !== 1)
        throw new BugError(`cannot write ${objects.length} objects to the JSON file ${rel}`);
      text = toJson(objects[0]!);
    } else {
      text = objects.map((o, i) => `${i === 0 ? '' : '---\n'}${toYaml(o)}`).join('');
    }
    verify(text, rel);
    await write(rel, text);
    result.created.push(rel);
  }

  for (const list of [result.copied, result.rewritten, result.created, result.removed])
    list.sort(compareStrings);
  return result;
}

/** Replaces or drops one document's content, keeping its leading `---`, comments and trailing comments. */
function spliceDocument(
  text: string,
  doc: ManifestDocumentLayout,
  docEdits: DocEdits,
  json: boolean,
  filled: string,
): string {
  const { start, contentStart, contentEnd } = doc.range;
  let replacement: unknown;
  if (doc.list) {
    const list = structuredClone(doc.value) as { items: unknown[] };
    const removed = new Set<number>();
    for (const entry of doc.entries) {
      if (entry.item === undefined || !docEdits.has(entry.item)) continue;
      const object = docEdits.get(entry.item);
      if (object) list.items[entry.item] = restore(object, entry, filled);
      else removed.add(entry.item);
    }
    list.items = list.items.filter((_, i) => !removed.has(i));
    replacement = list.items.length > 0 || removed.size === 0 ? list : null;
  } else {
    const entry = doc.entries[0];
    const object = docEdits.get(-1);
    replacement = object && entry ? restore(object, entry, filled) : null;
  }

  if (replacement === null) {
    // Drop the separator and the content; comments after it may introduce the next document, so keep them.
    const bom = start === 0 && text.startsWith('\uFEFF') ? '\uFEFF' : '';
    return `${text.slice(0, start)}${bom}${text.slice(contentEnd)}`;
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n'; // keep Windows line ends
  const serialized = (json ? toJson(replacement) : toYaml(replacement)).replaceAll('\n', eol);
  // Start at the beginning of the content's line when only indentation (or the byte-order mark) precedes it;
  // after `--- ` or a tag on the same line, begin the block on the next line.
  const lineStart = text.lastIndexOf('\n', contentStart - 1) + 1;
  const indentation = /^(\uFEFF?)[ \t]*$/.exec(text.slice(lineStart, contentStart));
  const from = indentation ? lineStart + (indentation[1] ?? '').length : contentStart;
  const lead = indentation ? '' : eol;
  const after = text.slice(contentEnd);
  return `${text.slice(0, from)}${lead}${serialized}${after}`;
}

/**
 * The file with each changed document edited in place (see `YamlTextEditor`): only the nodes whose values change
 * are touched, so comments, key order, quoting, flow style and line ends of everything else stay as they are.
 * Undefined when an edit cannot be made that way.
 */
function minimalEdit(
  original: string,
  file: string,
  docs: ReadonlyArray<[ManifestDocumentLayout, DocEdits]>,
  filled: string,
): string | undefined {
  try {
    const { text, documents } = parseYamlNodes(original, file);
    const editor = new YamlTextEditor(text, documents, (value, style) => toYaml(value, style));
    for (const [layout, docEdits] of docs) {
      const parsed = documents[layout.index];
      if (!parsed) return undefined;
      const root = parsed.contents as Node | null;
      if (layout.list) {
        const items = isMap(root) ? root.get('items', true) : undefined;
        if (!isSeq(items)) return undefined;
        const deleted = layout.entries.filter((e) => e.item !== undefined && docEdits.get(e.item) === null);
        if (deleted.length > 0 && deleted.length === items.items.length) {
          dropDocument(editor, text, layout);
          continue;
        }
        for (const entry of layout.entries) {
          if (entry.item === undefined || !docEdits.has(entry.item)) continue;
          const object = docEdits.get(entry.item);
          const node = items.items[entry.item] as Node | undefined;
          if (!node) return undefined;
          if (object) editor.edit(parsed, node, listItem(restore(object, entry, filled), node.toJS(parsed)));
          else editor.deleteItem(items, entry.item);
        }
      } else {
        const entry = layout.entries[0];
        const object = docEdits.get(-1);
        if (object && entry) editor.edit(parsed, root, restore(object, entry, filled));
        else dropDocument(editor, text, layout);
      }
    }
    return editor.result();
  } catch (error) {
    if (error instanceof UnsupportedEdit) return undefined;
    throw error;
  }
}

/** Drops a document's separator and content; the comments after it may introduce the next document, so stay. */
function dropDocument(editor: YamlTextEditor, text: string, layout: ManifestDocumentLayout): void {
  const { start, contentEnd } = layout.range;
  const bom = start === 0 && text.startsWith('\uFEFF') ? 1 : 0;
  editor.remove(start + bom, contentEnd);
}

/** A typed List's item keeps omitting the `apiVersion` and `kind` the loader filled in from the list. */
function listItem(object: KubeObject, original: unknown): KubeObject {
  const copy = { ...object } as Record<string, unknown>;
  const had = (typeof original === 'object' && original !== null ? original : {}) as Record<string, unknown>;
  for (const field of ['apiVersion', 'kind']) if (!(field in had)) delete copy[field];
  return copy as unknown as KubeObject;
}

/** Whether two texts of one file hold the same objects, in the same order. */
function sameObjects(a: string, b: string, rel: string): boolean {
  const objects = (text: string) =>
    canonicalJson(parseManifestDocuments(text, rel).flatMap((d) => d.objects.map((o) => o.object)));
  try {
    return objects(a) === objects(b);
  } catch {
    return false;
  }
}

/** Undo the source's normalization so a rewritten document reads like the original. */
function restore(object: KubeObject, entry: ManifestEntryLayout, filled: string): KubeObject {
  const copy = structuredClone(object);
  if (entry.namespaceDefaulted && copy.metadata.namespace === filled) delete copy.metadata.namespace;
  if (entry.namespaceDropped !== undefined && copy.metadata.namespace === undefined) {
    copy.metadata.namespace = entry.namespaceDropped;
  }
  return copy;
}

/** Parses what is about to be written, so a bug can never produce an unreadable copy. Returns the object count. */
function verify(text: string, rel: string): number {
  try {
    return parseManifestDocuments(text, rel).reduce((n, d) => n + d.objects.length, 0);
  } catch (cause) {
    throw new BugError(
      `the remediated copy of ${rel} would not be valid: ${(cause as Error).message}`,
      undefined,
      {
        cause,
      },
    );
  }
}

/** Sorted, stable YAML: `apiVersion`, `kind`, `metadata` (name, namespace first), then keys in code-unit order. */
export function toYaml(value: unknown, layout: { indent?: number; indentSeq?: boolean } = {}): string {
  const doc = new Document(sortKeys(value), {
    version: '1.2',
    schema: 'core',
    // Quote strings that YAML 1.1 readers (go-yaml v2, older kubectl) would read as booleans or numbers.
    compat: 'yaml-1.1',
    aliasDuplicateObjects: false,
  });
  return doc.toString({ lineWidth: 0, indent: layout.indent ?? 2, indentSeq: layout.indentSeq ?? true });
}

function toJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

const TOP_ORDER = ['apiVersion', 'kind', 'metadata'];
const META_ORDER = ['name', 'generateName', 'namespace'];

/**
 * Keys in code-unit order, except that objects (anything with `apiVersion` and `kind`, such as List items)
 * start with `apiVersion`, `kind`, `metadata`, and their metadata with `name`, `namespace`.
 */
function sortKeys(value: unknown, first: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const envelope = typeof record.apiVersion === 'string' && typeof record.kind === 'string';
  const order = envelope ? TOP_ORDER : first;
  const rank = (key: string) => {
    const i = order.indexOf(key);
    return i < 0 ? order.length : i;
  };
  const keys = Object.keys(record).sort((a, b) => rank(a) - rank(b) || compareStrings(a, b));
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const child = record[key];
    if (child === undefined) continue;
    Object.defineProperty(out, key, {
      value: sortKeys(child, envelope && key === 'metadata' ? META_ORDER : []),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function defaultFileFor(object: KubeObject): string {
  const part = (s: string) => s.toLowerCase().replace(/[^a-z0-9._-]+/g, '_');
  const ns = object.metadata.namespace ? `${part(object.metadata.namespace)}-` : '';
  return `kube-harden/${part(object.kind)}-${ns}${part(object.metadata.name)}.yaml`;
}

function withoutSynthesizedAnnotation(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  const annotations = copy.metadata.annotations;
  if (annotations && SYNTHESIZED_ANNOTATION in annotations) {
    delete annotations[SYNTHESIZED_ANNOTATION];
    if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
  }
  return copy;
}

/** A relative path that stays inside the output directory, with `/` separators. */
function safeRelative(file: string): string {
  const normalized = path.posix.normalize(file.replaceAll('\\', '/'));
  if (
    path.posix.isAbsolute(normalized) ||
    normalized === '..' ||
    normalized.startsWith('../') ||
    normalized === '.'
  ) {
    throw new BugError(`"${file}" is not a path inside the output directory`);
  }
  return normalized;
}

async function readUnchanged(file: ManifestFileLayout): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file.absolute);
  } catch (cause) {
    throw new InputError(`cannot be read (${(cause as NodeJS.ErrnoException).code})`, {
      file: file.path,
      cause,
    });
  }
  if (createHash('sha256').update(bytes).digest('hex') !== file.sha256) {
    throw new InputError('changed since the manifests were loaded', {
      file: file.path,
      hint: 'Run the command again so the copy is made from what is on disk now.',
    });
  }
  return bytes;
}

/** Refuses an output directory that is (inside) the source tree, contains it, or is not empty. */
async function checkOutDir(
  out: string,
  rootDir: string,
  realRootDir: string,
  singleFile: boolean,
): Promise<void> {
  const realOut = realPathNearest(out);
  const overlaps = singleFile
    ? realOut === realRootDir || out === rootDir
    : isWithin(realOut, realRootDir) ||
      isWithin(realRootDir, realOut) ||
      isWithin(out, rootDir) ||
      isWithin(rootDir, out);
  if (overlaps) {
    throw new InputError(
      singleFile
        ? 'the output directory is the directory of the source file'
        : 'the output directory overlaps the source directory',
      { file: out, hint: 'Write the remediated copy to a directory outside the manifests, e.g. ./hardened.' },
    );
  }
  const stat = await fs.stat(out).catch(() => undefined);
  if (stat && !stat.isDirectory()) {
    throw new InputError('exists and is not a directory', { file: out, hint: 'Choose a new directory.' });
  }
  if (stat && (await fs.readdir(out)).length > 0) {
    throw new InputError('the output directory is not empty', {
      file: out,
      hint: 'Choose a new or empty directory, so nothing is overwritten.',
    });
  }
}

function refOf(object: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name };
  if (object.metadata.namespace) ref.namespace = object.metadata.namespace;
  return ref;
}

function refKey(ref: ObjectRef): string {
  return `${ref.apiVersion}\0${ref.kind}\0${ref.namespace ?? ''}\0${ref.name}`;
}

function isJsonFile(rel: string): boolean {
  return rel.toLowerCase().endsWith('.json');
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AbortError('interrupted while writing the remediated copy', undefined, {
      cause: signal.reason,
    });
}
