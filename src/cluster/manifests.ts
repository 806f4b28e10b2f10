/**
 * The offline source: a directory (or one file) of manifests, read through the same `ClusterReader` contract
 * as the live API server. Objects are parsed by the hardened loader (`yaml.ts`), normalized the way
 * `kubectl apply` without `-n` would see them, and handed out as fresh copies.
 */
import { createHash } from 'node:crypto';
import { type Dirent, realpathSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { AbortError, InputError, UsageError } from '../errors.js';
import { Kinds } from '../k8s/kinds.js';
import type {
  AccessCheck,
  AccessDecision,
  Identity,
  KindRef,
  KubeObject,
  ObjectRef,
  ServerVersion,
  SourceInfo,
} from '../k8s/types.js';
import { describeRef } from '../k8s/types.js';
import {
  MAX_YAML_BYTES,
  type ManifestDocument,
  parseManifestDocuments,
  tooLargeError,
  type YamlDocumentRange,
} from '../k8s/yaml.js';
import { ClusterError } from './errors.js';
import type {
  ApplyOptions,
  ApplyResult,
  ClusterReader,
  ListOptions,
  Page,
  Result,
  SourceCapabilities,
} from './types.js';

/** Extensions read as manifests. */
export const MANIFEST_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];
/** The annotation on `Namespace` objects that no manifest declares but that objects live in. */
export const SYNTHESIZED_ANNOTATION = 'kube-harden.io/synthesized';
/** Default page size of `list`. */
const DEFAULT_LIMIT = 500;

/** Where an object was read from. */
export interface ManifestOrigin {
  /** The file, as the path given to `load` joined with its place under it. */
  file: string;
  /** 0-based document in the file (empty documents count, so this matches the `---` separators). */
  document: number;
  /** Position in the document's `items`, when the document is a List. */
  item?: number;
  /** 1-based line where the object starts. */
  line?: number;
}

export interface ManifestLoadOptions {
  signal?: AbortSignal;
  /**
   * `-n NS`, as `kubectl apply -f -n NS` reads it: the namespace of every namespaced object that names none; an
   * object naming another namespace is an `InputError` (kubectl's message). Without it, such objects go to
   * `default` (see `placedInDefault`).
   */
  namespace?: string;
}

/** @internal One object as the writer needs it. */
export interface ManifestEntryLayout {
  ref: ObjectRef;
  item: number | undefined;
  /** The manifest had no namespace; `defaultNamespace` (`default`, or `-n`) was filled in. */
  namespaceDefaulted: boolean;
  /** A cluster-scoped object whose manifest named a namespace (dropped, as the API server would). */
  namespaceDropped: string | undefined;
}

/** @internal One document as the writer needs it. */
export interface ManifestDocumentLayout {
  index: number;
  range: YamlDocumentRange;
  list: boolean;
  /** A List document as parsed (deep-frozen), to rewrite its other items; `undefined` for plain documents. */
  value: unknown;
  entries: ManifestEntryLayout[];
}

/** @internal One manifest file. */
export interface ManifestFileLayout {
  /** As shown in messages: the path given to `load` joined with `relative`. */
  path: string;
  /** Relative to the root directory, with `/` separators. */
  relative: string;
  absolute: string;
  /** SHA-256 of the bytes that were loaded; the writer refuses a file that changed since. */
  sha256: string;
  documents: ManifestDocumentLayout[];
}

/** @internal What `writeRemediatedCopy` needs to copy the tree. */
export interface ManifestLayout {
  /** The directory that holds the tree (the file's directory when a single file was loaded). */
  rootDir: string;
  /** Real path of `rootDir`. */
  realRootDir: string;
  /** Whether a single file was loaded. */
  singleFile: boolean;
  /** The namespace given to namespaced objects that name none: `default`, or `-n`. */
  defaultNamespace: string;
  files: readonly ManifestFileLayout[];
  /** Other files of the tree (not manifests, not hidden), relative to `rootDir`, copied as they are. */
  otherFiles: readonly string[];
}

interface Entry {
  object: KubeObject;
  file: ManifestFileLayout | undefined;
  document: number | undefined;
  item: number | undefined;
  line: number | undefined;
}

export class ManifestSource implements ClusterReader {
  readonly source: SourceInfo;
  readonly capabilities: SourceCapabilities = Object.freeze({ dryRun: false, reviews: false });

  readonly #entries: readonly Entry[];
  readonly #byKind: ReadonlyMap<string, readonly Entry[]>;
  readonly #byRef: ReadonlyMap<string, Entry>;
  readonly #layout: ManifestLayout;

  readonly #namespaceGiven: boolean;

  private constructor(sourcePath: string, entries: Entry[], layout: ManifestLayout, namespaceGiven: boolean) {
    this.source = Object.freeze({ kind: 'manifests', path: sourcePath });
    this.#namespaceGiven = namespaceGiven;
    this.#entries = entries;
    this.#layout = layout;
    const byKind = new Map<string, Entry[]>();
    const byRef = new Map<string, Entry>();
    for (const entry of entries) {
      const kindKey = `${entry.object.apiVersion}\0${entry.object.kind}`;
      const list = byKind.get(kindKey);
      if (list) list.push(entry);
      else byKind.set(kindKey, [entry]);
      byRef.set(exactKey(entry.object), entry);
    }
    this.#byKind = byKind;
    this.#byRef = byRef;
  }

  /**
   * Reads every `.yaml`, `.yml` and `.json` file under `target` (or the one file it names), in sorted order,
   * skipping hidden entries and `node_modules`. Throws `InputError` for a missing path, invalid YAML, a
   * document that is not a Kubernetes object, or an object defined twice.
   */
  static async load(target: string, options: ManifestLoadOptions = {}): Promise<ManifestSource> {
    const { signal } = options;
    const tree = await collectTree(target, signal);
    const files: Array<{ layout: ManifestFileLayout; documents: ManifestDocument[] }> = [];
    for (const file of tree.files) {
      throwIfAborted(signal);
      const bytes = await readManifestFile(file.absolute, file.display);
      files.push({
        layout: {
          path: file.display,
          relative: file.relative,
          absolute: file.absolute,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          documents: [],
        },
        documents: parseManifestDocuments(bytes, file.display),
      });
    }
    if (files.length === 0) {
      throw new InputError('contains no manifests (.yaml, .yml or .json files)', {
        file: target,
        hint: 'Point --manifests at the directory that holds your Kubernetes YAML.',
      });
    }

    const defaultNamespace = options.namespace ?? 'default';
    const scopes = new Scopes(
      files.flatMap((f) => f.documents.flatMap((d) => d.objects.map((o) => o.object))),
    );
    const entries: Entry[] = [];
    const seen = new Map<string, Entry>();
    for (const { layout, documents } of files) {
      for (const doc of documents) {
        const docLayout: ManifestDocumentLayout = {
          index: doc.index,
          // Read by the writer only: on the YAML fast path, ranges come from a full parse of the file.
          get range() {
            return doc.range;
          },
          list: doc.list,
          value: doc.list ? deepFreeze(doc.value) : undefined,
          entries: [],
        };
        for (const parsed of doc.objects) {
          const object = structuredClone(parsed.object);
          const meta = object.metadata;
          const declared =
            typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : undefined;
          let namespaceDefaulted = false;
          let namespaceDropped: string | undefined;
          if (scopes.namespaced(object)) {
            if (!declared) {
              meta.namespace = defaultNamespace;
              namespaceDefaulted = true;
            } else if (options.namespace !== undefined && declared !== options.namespace) {
              // kubectl's words (cli-runtime RequireNamespace), for `kubectl apply -f FILE -n NS`.
              throw new InputError(
                `the namespace from the provided object "${declared}" does not match the namespace "${options.namespace}". You must pass '--namespace=${declared}' to perform this operation.`,
                {
                  file: layout.path,
                  ...(parsed.line ? { line: parsed.line } : {}),
                  hint: `With --manifests, -n is the namespace of the objects that name none (as with kubectl apply -f); leave -n out to read every namespace, or point --manifests at the files of ${options.namespace}.`,
                },
              );
            }
          } else if ('namespace' in meta) {
            namespaceDropped = declared;
            delete meta.namespace;
          }
          const entry: Entry = {
            object: deepFreeze(object),
            file: layout,
            document: doc.index,
            item: parsed.item,
            line: parsed.line,
          };
          const key = identityKey(object);
          const first = seen.get(key);
          if (first) {
            const where = (e: Entry) => `${e.file?.path}${e.line ? `:${e.line}` : ''}`;
            throw new InputError(
              `${describeRef(refOfObject(object))} is defined twice: in ${where(first)} and here`,
              {
                file: layout.path,
                ...(parsed.line ? { line: parsed.line } : {}),
                hint: 'Remove one of the two definitions (the API server keeps only one object per name).',
              },
            );
          }
          seen.set(key, entry);
          entries.push(entry);
          docLayout.entries.push({
            ref: refOfObject(object),
            item: parsed.item,
            namespaceDefaulted,
            namespaceDropped,
          });
        }
        layout.documents.push(docLayout);
      }
    }

    // Every namespace an object lives in exists, so the inventory sees it.
    const declaredNamespaces = new Set(
      entries.filter((e) => isCoreNamespace(e.object)).map((e) => e.object.metadata.name),
    );
    const used = new Set<string>();
    for (const e of entries) if (e.object.metadata.namespace) used.add(e.object.metadata.namespace);
    for (const name of [...used].filter((n) => !declaredNamespaces.has(n)).sort(compareStrings)) {
      entries.push({
        object: deepFreeze(synthesizedNamespace(name)),
        file: undefined,
        document: undefined,
        item: undefined,
        line: undefined,
      });
    }

    return new ManifestSource(
      target,
      entries,
      {
        rootDir: tree.rootDir,
        realRootDir: tree.realRootDir,
        singleFile: tree.singleFile,
        defaultNamespace,
        files: files.map((f) => f.layout),
        otherFiles: tree.otherFiles,
      },
      options.namespace !== undefined,
    );
  }

  async serverVersion(_signal?: AbortSignal): Promise<ServerVersion | undefined> {
    return undefined;
  }

  async get(ref: ObjectRef, signal?: AbortSignal): Promise<Result<KubeObject | undefined>> {
    throwIfAborted(signal);
    const entry = this.#byRef.get(exactKey(ref));
    return { value: entry ? structuredClone(entry.object) : undefined, warnings: [] };
  }

  async *list(kind: KindRef, options: ListOptions = {}): AsyncIterable<Page> {
    const { signal } = options;
    throwIfAborted(signal);
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : [];
    const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : [];
    const limit =
      options.limit !== undefined && Number.isFinite(options.limit) && options.limit > 0
        ? Math.floor(options.limit)
        : DEFAULT_LIMIT;
    const matching = (this.#byKind.get(`${kind.apiVersion}\0${kind.kind}`) ?? []).filter(
      (e) =>
        (options.namespace === undefined || e.object.metadata.namespace === options.namespace) &&
        matchesLabelSelector(labels, e.object.metadata.labels) &&
        fields.every((f) => f.matches(e.object)),
    );
    let index = 1;
    for (let start = 0; start === 0 || start < matching.length; start += limit) {
      throwIfAborted(signal);
      const items = matching.slice(start, start + limit).map((e) => structuredClone(e.object));
      yield { items, warnings: [], index: index++, restarted: false };
    }
  }

  /** Where the object was read from; `undefined` for synthesized namespaces and unknown objects. */
  origin(ref: ObjectRef): ManifestOrigin | undefined {
    const entry = this.#byRef.get(exactKey(ref));
    if (!entry?.file || entry.document === undefined) return undefined;
    const origin: ManifestOrigin = { file: entry.file.path, document: entry.document };
    if (entry.item !== undefined) origin.item = entry.item;
    if (entry.line !== undefined) origin.line = entry.line;
    return origin;
  }

  /** Whether `ref` is a `Namespace` that no manifest declares (see `SYNTHESIZED_ANNOTATION`). */
  isSynthesized(ref: ObjectRef): boolean {
    const entry = this.#byRef.get(exactKey(ref));
    return entry !== undefined && entry.file === undefined;
  }

  /**
   * How many namespaced objects named no namespace and were placed in `default` because no `-n` was given (as
   * `kubectl apply -f` does with the context's default namespace); 0 with `-n`.
   */
  get placedInDefault(): number {
    if (this.#layout.defaultNamespace !== 'default' || this.#namespaceGiven) return 0;
    let n = 0;
    for (const file of this.#layout.files)
      for (const doc of file.documents) for (const e of doc.entries) if (e.namespaceDefaulted) n++;
    return n;
  }

  /** Number of objects, synthesized namespaces included. */
  get size(): number {
    return this.#entries.length;
  }

  /** @internal The files and documents, for `writeRemediatedCopy`. */
  layout(): ManifestLayout {
    return this.#layout;
  }

  async dryRunApply(object: KubeObject, _options: ApplyOptions): Promise<ApplyResult> {
    throw unsupported('server-side dry-run', 'apply', refOfObject(object));
  }

  async dryRunMergePatch(ref: ObjectRef, _patch: unknown, _signal?: AbortSignal): Promise<ApplyResult> {
    throw unsupported('server-side dry-run', 'patch', ref);
  }

  async dryRunDelete(ref: ObjectRef, _signal?: AbortSignal): Promise<Result<KubeObject | undefined>> {
    throw unsupported('server-side dry-run', 'delete', ref);
  }

  async accessReview(_checks: AccessCheck[], _signal?: AbortSignal): Promise<AccessDecision[]> {
    throw unsupported('an access review', 'create');
  }

  async whoAmI(_signal?: AbortSignal): Promise<Identity | undefined> {
    throw unsupported('who-am-I (SelfSubjectReview)', 'create');
  }
}

function unsupported(what: string, verb: string, ref?: ObjectRef): ClusterError {
  return new ClusterError(
    `${what} is not available on a manifest source${ref ? ` (${describeRef(ref)})` : ''}`,
    {
      reason: 'Unsupported',
      verb,
      ...(ref ? { name: ref.name } : {}),
      ...(ref?.namespace ? { namespace: ref.namespace } : {}),
      hint: 'Run against a cluster (--context) for server-side checks; offline results are computed locally.',
    },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Label and field selectors

export type LabelOperator = 'exists' | 'notExists' | 'equals' | 'notEquals' | 'in' | 'notIn' | 'gt' | 'lt';

/** One requirement of a label selector; all of a selector's requirements must hold (AND). */
export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

const LABEL_KEY = `(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const LABEL_VALUE = `(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const RE_EXISTS = new RegExp(`^(${LABEL_KEY})$`);
const RE_NOT_EXISTS = new RegExp(`^!\\s*(${LABEL_KEY})$`);
const RE_EQUALS = new RegExp(`^(${LABEL_KEY})\\s*(==|=|!=)\\s*(${LABEL_VALUE})$`);
const RE_SET = new RegExp(`^(${LABEL_KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const RE_COMPARE = new RegExp(`^(${LABEL_KEY})\\s*(>|<)\\s*(-?\\d+)$`);
const RE_VALUE = new RegExp(`^${LABEL_VALUE}$`);

/**
 * Parses a label selector the way the API server does (`app=web,tier!=db,env in (a,b),!legacy`):
 * `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a)`, `k>1`, `k<1`; commas AND them.
 * An empty selector matches everything. Throws `UsageError` for invalid syntax.
 */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  if (selector.trim() === '') return requirements;
  const invalid = (detail: string) =>
    new UsageError(
      `invalid label selector "${selector}": ${detail}`,
      'Example: -l "app=web,tier in (frontend,api),!legacy"',
    );
  for (const raw of splitOutsideParens(selector)) {
    const part = raw.trim();
    if (part === '') throw invalid('empty requirement');
    requirements.push(parseRequirement(part, invalid));
  }
  return requirements;
}

function parseRequirement(part: string, invalid: (detail: string) => Error): LabelRequirement {
  const notExists = RE_NOT_EXISTS.exec(part);
  if (notExists) return { key: notExists[1]!, operator: 'notExists', values: [] };
  const exists = RE_EXISTS.exec(part);
  if (exists) return { key: exists[1]!, operator: 'exists', values: [] };
  const equals = RE_EQUALS.exec(part);
  if (equals)
    return { key: equals[1]!, operator: equals[2] === '!=' ? 'notEquals' : 'equals', values: [equals[3]!] };
  const set = RE_SET.exec(part);
  if (set) {
    const values = set[3]!.split(',').map((v) => v.trim());
    const bad = values.find((v) => !RE_VALUE.test(v));
    if (bad !== undefined) throw invalid(`"${bad}" is not a valid label value`);
    if (values.length === 1 && values[0] === '') throw invalid(`"${part}" needs at least one value`);
    return { key: set[1]!, operator: set[2] === 'in' ? 'in' : 'notIn', values };
  }
  const compare = RE_COMPARE.exec(part);
  if (compare) return { key: compare[1]!, operator: compare[2] === '>' ? 'gt' : 'lt', values: [compare[3]!] };
  throw invalid(`cannot parse "${part}"`);
}

/** Whether `labels` satisfy every requirement (API server semantics: `!=` and `notin` match a missing label). */
export function matchesLabelSelector(
  requirements: readonly LabelRequirement[],
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return requirements.every((r) => matchesRequirement(r, labels));
}

function matchesRequirement(
  r: LabelRequirement,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, r.key);
  const value = has ? (labels[r.key] ?? '') : '';
  switch (r.operator) {
    case 'exists':
      return has;
    case 'notExists':
      return !has;
    case 'equals':
    case 'in':
      return has && r.values.includes(value);
    case 'notEquals':
    case 'notIn':
      return !has || !r.values.includes(value);
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value)) return false;
      const bound = Number(r.values[0]);
      return r.operator === 'gt' ? Number(value) > bound : Number(value) < bound;
    }
  }
}

interface FieldRequirement {
  matches(object: KubeObject): boolean;
}

/** `metadata.name=x,status.phase!=Running`: dotted paths compared as strings (a missing field is ""). */
function parseFieldSelector(selector: string): FieldRequirement[] {
  if (selector.trim() === '') return [];
  return selector.split(',').map((raw) => {
    const m = /^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (!m) {
      throw new UsageError(
        `invalid field selector "${selector}"`,
        'Example: --field-selector metadata.name=web',
      );
    }
    const segments = m[1]!.split('.');
    const negate = m[2] === '!=';
    const expected = m[3]!;
    return {
      matches(object: KubeObject): boolean {
        let current: unknown = object;
        for (const segment of segments) {
          current =
            current !== null && typeof current === 'object' && Object.hasOwn(current, segment)
              ? (current as Record<string, unknown>)[segment]
              : undefined;
        }
        const actual = current === undefined || current === null ? '' : String(current);
        return (actual === expected) !== negate;
      },
    };
  });
}

function splitOutsideParens(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

// ---------------------------------------------------------------------------------------------------------
// Scope: which kinds are namespaced

/** Cluster-scoped kinds beyond the catalog, by `group/kind` (any version). */
const CLUSTER_SCOPED = new Set([
  ...Object.values(Kinds)
    .filter((k) => !k.namespaced)
    .map((k) => `${k.group}/${k.kind}`),
  '/PersistentVolume',
  '/ComponentStatus',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'apiregistration.k8s.io/APIService',
  'storage.k8s.io/StorageClass',
  'storage.k8s.io/CSIDriver',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
  'scheduling.k8s.io/PriorityClass',
  'node.k8s.io/RuntimeClass',
  'networking.k8s.io/IngressClass',
  'policy/PodSecurityPolicy',
  'certificates.k8s.io/CertificateSigningRequest',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'templates.gatekeeper.sh/ConstraintTemplate',
]);
const NAMESPACED = new Set(
  Object.values(Kinds)
    .filter((k) => k.namespaced)
    .map((k) => `${k.group}/${k.kind}`),
);

/**
 * Decides whether an object is namespaced: the catalog and well-known kinds first, then
 * CustomResourceDefinitions among the manifests (`spec.scope`), then `Cluster*` kinds and Gatekeeper
 * constraints are cluster-scoped; any other kind is namespaced, as most custom resources are.
 */
class Scopes {
  readonly #crds = new Map<string, boolean>();

  constructor(objects: KubeObject[]) {
    for (const o of objects) {
      if (o.kind !== 'CustomResourceDefinition' || groupOf(o.apiVersion) !== 'apiextensions.k8s.io') continue;
      const spec = o.spec as { group?: unknown; scope?: unknown; names?: { kind?: unknown } } | undefined;
      if (typeof spec?.group === 'string' && typeof spec.names?.kind === 'string') {
        this.#crds.set(`${spec.group}/${spec.names.kind}`, spec.scope !== 'Cluster');
      }
    }
  }

  namespaced(object: KindRef): boolean {
    const key = `${groupOf(object.apiVersion)}/${object.kind}`;
    if (NAMESPACED.has(key)) return true;
    if (CLUSTER_SCOPED.has(key)) return false;
    const crd = this.#crds.get(key);
    if (crd !== undefined) return crd;
    if (groupOf(object.apiVersion) === 'constraints.gatekeeper.sh') return false;
    return !/^Cluster[A-Z]/.test(object.kind);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Walking the tree

interface TreeFile {
  display: string;
  relative: string;
  absolute: string;
}

interface Tree {
  rootDir: string;
  realRootDir: string;
  singleFile: boolean;
  files: TreeFile[];
  otherFiles: string[];
}

async function collectTree(target: string, signal: AbortSignal | undefined): Promise<Tree> {
  const stat = await fs.stat(target).catch((cause: NodeJS.ErrnoException) => {
    throw new InputError(
      cause.code === 'ENOENT' ? 'no such file or directory' : `cannot be read (${cause.code})`,
      {
        file: target,
        hint: 'Pass --manifests a directory or a .yaml, .yml or .json file.',
        cause,
      },
    );
  });
  const absolute = path.resolve(target);
  if (!stat.isDirectory()) {
    const rootDir = path.dirname(absolute);
    return {
      rootDir,
      realRootDir: await fs.realpath(rootDir),
      singleFile: true,
      files: [{ display: target, relative: path.basename(absolute), absolute }],
      otherFiles: [],
    };
  }
  const tree: Tree = {
    rootDir: absolute,
    realRootDir: await fs.realpath(absolute),
    singleFile: false,
    files: [],
    otherFiles: [],
  };
  const visitedDirs = new Set<string>([tree.realRootDir]);
  const visitedFiles = new Set<string>();
  const walk = async (dir: string, relative: string): Promise<void> => {
    throwIfAborted(signal);
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (cause) {
      throw new InputError(`cannot read the directory (${(cause as NodeJS.ErrnoException).code})`, {
        file: path.join(target, relative),
        cause,
      });
    }
    entries.sort((a, b) => compareStrings(a.name, b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const resolved = await fs.stat(full).catch(() => undefined);
        if (!resolved) continue; // a dangling link
        await refuseLinkOutOfTree(full, path.join(target, ...rel.split('/')), tree.realRootDir);
        isDir = resolved.isDirectory();
        isFile = resolved.isFile();
      }
      if (isDir) {
        const real = await fs.realpath(full);
        if (visitedDirs.has(real)) continue; // a symlink loop, or a second way into the same folder
        visitedDirs.add(real);
        await walk(full, rel);
      } else if (isFile) {
        const real = await fs.realpath(full);
        if (visitedFiles.has(real)) continue;
        visitedFiles.add(real);
        if (isManifestName(entry.name)) {
          tree.files.push({ display: path.join(target, ...rel.split('/')), relative: rel, absolute: full });
        } else {
          tree.otherFiles.push(rel);
        }
      }
    }
  };
  await walk(absolute, '');
  return tree;
}

/**
 * A symbolic link in the tree may lead anywhere inside it, never out: what is read is what is in the tree (a link
 * to ~/.kube or /etc would be read as manifests and copied into the remediated copy). Compares real paths.
 */
async function refuseLinkOutOfTree(link: string, display: string, realRootDir: string): Promise<void> {
  const real = await fs.realpath(link);
  if (isWithin(real, realRootDir)) return;
  const written = await fs.readlink(link).catch(() => real);
  throw new InputError(
    `is a symbolic link to ${written}${written === real ? '' : ` (${real})`}, which is outside the manifests directory`,
    {
      file: display,
      hint: 'kube-harden reads only what is inside the --manifests tree: copy the target into the tree, remove the link, or point --manifests at a folder that holds both.',
    },
  );
}

/** `.yaml`, `.yml` or `.json`, except kustomize's own files (read by `kubectl apply -k`, not `-f`). */
function isManifestName(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower === 'kustomization.yaml' || lower === 'kustomization.yml') return false;
  return MANIFEST_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

async function readManifestFile(absolute: string, display: string): Promise<Buffer> {
  try {
    const stat = await fs.stat(absolute);
    if (stat.size > MAX_YAML_BYTES) throw tooLargeError(display, stat.size);
    return await fs.readFile(absolute);
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(`cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, {
      file: display,
      cause,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/**
 * The real path of `p` (symbolic links resolved, absolute). A path that does not exist yet is resolved through its
 * nearest existing ancestor, with the missing rest appended as given.
 */
export function realPathNearest(p: string): string {
  const rest: string[] = [];
  let current = path.resolve(p);
  for (;;) {
    try {
      return path.join(realpathSync.native(current), ...rest.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return path.resolve(p);
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

/** Whether the absolute path `child` is `parent` or lies below it (path components compared, not string prefixes). */
export function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Same object for the API server: group, kind, namespace, name (any version). */
function identityKey(o: KubeObject): string {
  return `${groupOf(o.apiVersion)}\0${o.kind}\0${o.metadata.namespace ?? ''}\0${o.metadata.name}`;
}

function exactKey(ref: ObjectRef | KubeObject): string {
  const { apiVersion, kind } = ref;
  const namespace = 'metadata' in ref ? ref.metadata.namespace : ref.namespace;
  const name = 'metadata' in ref ? ref.metadata.name : ref.name;
  return `${apiVersion}\0${kind}\0${namespace ?? ''}\0${name}`;
}

function refOfObject(o: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name };
  if (o.metadata.namespace) ref.namespace = o.metadata.namespace;
  return ref;
}

function isCoreNamespace(o: KubeObject): boolean {
  return o.apiVersion === 'v1' && o.kind === 'Namespace';
}

function synthesizedNamespace(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, annotations: { [SYNTHESIZED_ANNOTATION]: 'true' } },
  };
}

/** Code-unit order: the same on every machine and locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === null || typeof current !== 'object' || Object.isFrozen(current)) continue;
    Object.freeze(current);
    for (const child of Object.values(current)) stack.push(child);
  }
  return value;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AbortError('interrupted while reading manifests', undefined, { cause: signal.reason });
}
