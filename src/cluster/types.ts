/**
 * The contract of cluster access. Two sources implement `ClusterReader`: the live API server
 * (`live.ts`) and a directory of manifests (`manifests.ts`). Only the engine's apply path ever holds a
 * `ClusterWriter`; steps and inventory get a `ClusterReader`, so the type system keeps them read-only.
 */

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

export interface ListOptions {
  /** Limit to one namespace; absent = all namespaces (or cluster-scoped kinds). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size (default 500). Never combined with resourceVersion=0. */
  limit?: number;
  signal?: AbortSignal;
  /**
   * Items may come with each `metadata.managedFields[].fieldsV1` read as `{}` (a live cluster leaves them out,
   * other sources may not): for a reader that needs only the field managers' names, not their field sets.
   */
  omitFieldsV1?: boolean;
}

/**
 * The items of one page. Iterate them once: a live cluster parses each item only when it is reached and releases
 * the page after (list-body.ts), so an item not kept dies young; a second pass throws.
 */
export type PageItems = Iterable<KubeObject> & { readonly length: number };

/** One page of a list, processed as it arrives. */
export interface Page {
  items: PageItems;
  /** Parsed `Warning` headers of the response that carried this page. */
  warnings: string[];
  /** 1 for the first page; restarts after 410 Gone begin again at 1 with `restarted: true`. */
  index: number;
  restarted: boolean;
}

export interface Result<T> {
  value: T;
  warnings: string[];
}

/** The outcome of a server-side apply (real or dry-run). */
export interface ApplyResult {
  object: KubeObject;
  warnings: string[];
}

export interface ApplyOptions {
  fieldManager: string;
  /** Take over fields owned by other managers. Only ever set when the operator chose to. */
  force?: boolean;
  signal?: AbortSignal;
}

export interface SourceCapabilities {
  /** The source can run server-side dry-runs (a live API server). */
  dryRun: boolean;
  /** The source can answer access reviews and who-am-I. */
  reviews: boolean;
}

/**
 * Read-only access. `dryRunApply` sends `dryRun=All` unconditionally: nothing is persisted, so a step
 * may use it to ask the API server what would happen (warnings, defaulting) without being able to write.
 */
export interface ClusterReader {
  readonly source: SourceInfo;
  readonly capabilities: SourceCapabilities;
  serverVersion(signal?: AbortSignal): Promise<ServerVersion | undefined>;
  /** The object, or `undefined` when it does not exist. */
  get(ref: ObjectRef, signal?: AbortSignal): Promise<Result<KubeObject | undefined>>;
  /** Pages of a kind, `limit` (default 500) at a time, following `continue` tokens. */
  list(kind: KindRef, options?: ListOptions): AsyncIterable<Page>;
  /** Server-side apply with `dryRun=All` and strict field validation. */
  dryRunApply(object: KubeObject, options: ApplyOptions): Promise<ApplyResult>;
  /** Server-side dry-run of a JSON merge patch (e.g. a namespace label change). */
  dryRunMergePatch(ref: ObjectRef, patch: unknown, signal?: AbortSignal): Promise<ApplyResult>;
  /** Server-side dry-run delete. */
  dryRunDelete(ref: ObjectRef, signal?: AbortSignal): Promise<Result<KubeObject | undefined>>;
  accessReview(checks: AccessCheck[], signal?: AbortSignal): Promise<AccessDecision[]>;
  whoAmI(signal?: AbortSignal): Promise<Identity | undefined>;
  /**
   * The samples of the named metrics in the API server's `/metrics` (Prometheus text format), one line each; only a
   * live API server has them (a file source has no such method). Needs `get` on the non-resource URL `/metrics`.
   */
  apiServerMetrics?(names: readonly string[], signal?: AbortSignal): Promise<string[]>;
}

export interface Preconditions {
  resourceVersion?: string;
  uid?: string;
}

/** Writes. Held only by the engine's apply and undo paths. */
export interface ClusterWriter extends ClusterReader {
  /** Server-side apply (creates or updates), strict field validation, never forced unless asked. */
  apply(object: KubeObject, options: ApplyOptions): Promise<ApplyResult>;
  /** JSON merge patch. Put `metadata.resourceVersion` in the patch to make it a precondition. */
  mergePatch(
    ref: ObjectRef,
    patch: unknown,
    options?: { fieldManager?: string; signal?: AbortSignal },
  ): Promise<ApplyResult>;
  delete(
    ref: ObjectRef,
    options?: { preconditions?: Preconditions; signal?: AbortSignal },
  ): Promise<Result<undefined>>;
}
