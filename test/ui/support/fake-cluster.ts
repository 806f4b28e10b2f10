/**
 * An in-memory API server for screen tests: it holds objects, answers reads, dry-runs and access reviews, and
 * applies writes (server-side apply approximated by layering the apply configuration on the live object). A
 * `gate` holds each write until the test releases it, so "in flight" is a state a test can look at.
 * The real API server is exercised by test/integration/wizard-e2e.test.ts; this one only feeds the screens.
 */
import { ClusterError } from '../../../src/cluster/errors.js';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import type {
  ApplyOptions,
  ApplyResult,
  ClusterWriter,
  ListOptions,
  Page,
  Result,
} from '../../../src/cluster/types.js';
import { mergeApply } from '../../../src/engine/fields.js';
import { mergePatch } from '../../../src/engine/undo.js';
import { Kinds } from '../../../src/k8s/kinds.js';
import type {
  AccessCheck,
  AccessDecision,
  Identity,
  KindRef,
  KubeObject,
  ObjectRef,
  ServerVersion,
  SourceInfo,
} from '../../../src/k8s/types.js';

const key = (r: { apiVersion: string; kind: string; namespace?: string; name: string }) =>
  `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;

const clone = <T>(v: T): T => structuredClone(v);

export interface FakeClusterOptions {
  context?: string;
  /** Warnings the API server attaches to a dry-run of this object (e.g. Pod Security "would violate"). */
  warnings?: (object: KubeObject) => string[];
  /** `verb resource` pairs the user may not do, e.g. `patch namespaces`. */
  denied?: string[];
  /** Objects (by name) whose fields another field manager owns: apply without force is a conflict. */
  conflicts?: Record<string, Array<{ manager: string; field: string }>>;
}

export class FakeCluster implements ClusterWriter {
  readonly source: SourceInfo;
  readonly capabilities = { dryRun: true, reviews: true };
  readonly objects = new Map<string, KubeObject>();
  /** Every write, in order: `apply namespace/x`, `patch …`, `delete …`. */
  readonly writes: string[] = [];
  private rv = 100;
  private gated = false;
  private waiting: Array<() => void> = [];

  constructor(private readonly opts: FakeClusterOptions = {}) {
    this.source = { kind: 'cluster', context: opts.context ?? 'kind-test', server: 'https://10.0.0.1:6443' };
  }

  /** Seed from a manifests directory (every kind kube-harden lists). */
  static async fromManifests(dir: string, opts: FakeClusterOptions = {}): Promise<FakeCluster> {
    const src = await ManifestSource.load(dir);
    const fake = new FakeCluster(opts);
    for (const info of Object.values(Kinds)) {
      for await (const page of src.list(info)) for (const o of page.items) fake.put(structuredClone(o));
    }
    return fake;
  }

  /** Store a copy with a new resourceVersion (also set on `object`, as the API server returns it). */
  put(object: KubeObject): void {
    object.metadata.resourceVersion = String(++this.rv);
    const o = clone(object);
    this.objects.set(
      key({
        ...o,
        name: o.metadata.name,
        ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      }),
      o,
    );
  }

  object(ref: ObjectRef): KubeObject | undefined {
    return this.objects.get(key(ref));
  }

  /** Hold every write until `release()` (one) or `open()` (all, and stop holding). */
  hold(): void {
    this.gated = true;
  }
  release(): boolean {
    const next = this.waiting.shift();
    next?.();
    return next !== undefined;
  }
  open(): void {
    this.gated = false;
    for (const w of this.waiting.splice(0)) w();
  }
  get pendingWrites(): number {
    return this.waiting.length;
  }

  private async gate(): Promise<void> {
    if (!this.gated) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  async serverVersion(): Promise<ServerVersion> {
    return { major: 1, minor: 33, gitVersion: 'v1.33.2' };
  }

  async get(ref: ObjectRef): Promise<Result<KubeObject | undefined>> {
    const o = this.object(ref);
    return { value: o ? clone(o) : undefined, warnings: [] };
  }

  async *list(kind: KindRef, options: ListOptions = {}): AsyncIterable<Page> {
    const items = [...this.objects.values()].filter(
      (o) =>
        o.apiVersion === kind.apiVersion &&
        o.kind === kind.kind &&
        (options.namespace === undefined || o.metadata.namespace === options.namespace),
    );
    yield { items: items.map(clone), warnings: [], index: 1, restarted: false };
  }

  private merged(object: KubeObject): KubeObject {
    const ref = {
      ...object,
      name: object.metadata.name,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    };
    const live = this.object(ref);
    const { resourceVersion: _rv, ...meta } = object.metadata;
    return (live ? mergeApply(live, { ...object, metadata: meta }) : clone(object)) as KubeObject;
  }

  private conflict(object: KubeObject, force: boolean | undefined): void {
    const owned = this.opts.conflicts?.[object.metadata.name];
    if (!owned || force) return;
    throw new ClusterError(`Apply failed with ${owned.length} conflict(s)`, {
      reason: 'Conflict',
      status: 409,
      conflicts: owned.map((o) => ({ ...o, message: `conflict with "${o.manager}"` })),
    });
  }

  async dryRunApply(object: KubeObject, options?: ApplyOptions): Promise<ApplyResult> {
    this.conflict(object, options?.force);
    const result = this.merged(object);
    return { object: result, warnings: this.opts.warnings?.(result) ?? [] };
  }

  async dryRunMergePatch(ref: ObjectRef, patch: unknown): Promise<ApplyResult> {
    const result = mergePatch(this.object(ref), patch) as KubeObject;
    return { object: result, warnings: this.opts.warnings?.(result) ?? [] };
  }

  async dryRunDelete(): Promise<Result<KubeObject | undefined>> {
    return { value: undefined, warnings: [] };
  }

  async accessReview(checks: AccessCheck[]): Promise<AccessDecision[]> {
    return checks.map((c) => ({
      ...c,
      allowed: !(this.opts.denied ?? []).includes(`${c.verb} ${c.resource}`),
    }));
  }

  async whoAmI(): Promise<Identity> {
    return { username: 'tester', groups: ['system:authenticated'] };
  }

  async apply(object: KubeObject, options?: ApplyOptions): Promise<ApplyResult> {
    await this.gate();
    this.conflict(object, options?.force);
    const result = this.merged(object);
    this.put(result);
    this.writes.push(`apply ${object.kind.toLowerCase()}/${object.metadata.name}`);
    return { object: clone(result), warnings: [] };
  }

  async mergePatch(ref: ObjectRef, patch: unknown): Promise<ApplyResult> {
    await this.gate();
    const { metadata, ...rest } = (patch ?? {}) as { metadata?: Record<string, unknown> };
    const { resourceVersion: _rv, ...meta } = metadata ?? {};
    const result = mergePatch(this.object(ref), { ...rest, metadata: meta }) as KubeObject;
    this.put(result);
    this.writes.push(`patch ${ref.kind.toLowerCase()}/${ref.name}`);
    return { object: clone(result), warnings: [] };
  }

  async delete(ref: ObjectRef): Promise<Result<undefined>> {
    await this.gate();
    this.objects.delete(key(ref));
    this.writes.push(`delete ${ref.kind.toLowerCase()}/${ref.name}`);
    return { value: undefined, warnings: [] };
  }
}
