/**
 * The live source: a `ClusterWriter` over the API server. Lists are paginated (`limit`, `continue`), never with
 * `resourceVersion=0`, and restarted once on 410 Gone. All writes are server-side apply or JSON merge patch with
 * strict field validation; nothing here forces a field-manager conflict unless the caller asks.
 */

import { type KindInfo, kindInfo } from '../k8s/kinds.js';
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
import { ClusterError, isClusterError } from './errors.js';
import { type KubeconfigOptions, resolveKubeconfig } from './kubeconfig.js';
import type { ListItems } from './list-body.js';
import { type RequestSpec, Transport, type TransportOptions } from './transport.js';
import type {
  ApplyOptions,
  ApplyResult,
  ClusterReader,
  ClusterWriter,
  ListOptions,
  Page,
  Preconditions,
  Result,
  SourceCapabilities,
} from './types.js';

export interface ConnectOptions extends KubeconfigOptions, TransportOptions {}

const DEFAULT_PAGE = 500;
const noop = () => {};

export class LiveCluster implements ClusterWriter {
  readonly source: SourceInfo;
  readonly capabilities: SourceCapabilities = { dryRun: true, reviews: true };
  /** Namespace of the kubeconfig context (kubectl's default for `-n`). */
  readonly defaultNamespace: string | undefined;
  private version: Promise<ServerVersion | undefined> | undefined;
  private readonly discovered = new Map<string, Promise<KindInfo>>();

  constructor(
    private readonly transport: Transport,
    contextName: string,
    server: string,
    defaultNamespace: string | undefined,
  ) {
    this.source = { kind: 'cluster', context: contextName, server };
    this.defaultNamespace = defaultNamespace;
  }

  /** Requests sent so far (benchmarks and tests). */
  get requestCount(): number {
    return this.transport.requestCount;
  }

  /** Throttled responses (429) that were retried after Retry-After. */
  get throttledCount(): number {
    return this.transport.throttledCount;
  }

  /** Reads retried after a refused or dropped connection (an API server restarting). */
  get reconnectCount(): number {
    return this.transport.reconnectCount;
  }

  close(): void {
    this.transport.close();
  }

  serverVersion(signal?: AbortSignal): Promise<ServerVersion | undefined> {
    this.version ??= this.transport
      .send({
        method: 'GET',
        path: '/version',
        verb: 'get',
        resource: 'version',
        ...(signal ? { signal } : {}),
      })
      .then(({ body }) => {
        const b = (body ?? {}) as { major?: unknown; minor?: unknown; gitVersion?: unknown };
        if (typeof b.major !== 'string' && typeof b.gitVersion !== 'string') {
          // Every API server answers /version with at least major, minor and gitVersion.
          throw new ClusterError(
            `${this.transport.server.origin} is not a Kubernetes API server: its /version answer names no Kubernetes version`,
            {
              reason: 'NotKubernetes',
              verb: 'get',
              resource: 'version',
              hint: 'check the server URL in the kubeconfig: it may point at another service on the same host',
            },
          );
        }
        const major = Number.parseInt(typeof b.major === 'string' ? b.major : '', 10);
        const minor = Number.parseInt(typeof b.minor === 'string' ? b.minor.replace(/\D+$/, '') : '', 10);
        if (!Number.isFinite(major) || !Number.isFinite(minor)) return undefined;
        return {
          major,
          minor,
          gitVersion: typeof b.gitVersion === 'string' ? b.gitVersion : `v${major}.${minor}`,
        };
      });
    this.version.catch(() => {
      this.version = undefined;
    });
    return this.version;
  }

  async get(ref: ObjectRef, signal?: AbortSignal): Promise<Result<KubeObject | undefined>> {
    const info = await this.resolve(ref, signal);
    try {
      const res = await this.transport.send({
        ...this.spec('GET', 'get', info, ref),
        ...(signal ? { signal } : {}),
      });
      return { value: withKind(res.body as KubeObject, info), warnings: res.warnings };
    } catch (error) {
      if (isClusterError(error, 'NotFound')) return { value: undefined, warnings: error.warnings };
      throw error;
    }
  }

  /**
   * One kind's pages, in order. The next page is requested as soon as this one has arrived, before the consumer
   * handles it: the API server reads and encodes page N+1 while the client parses and projects page N (one
   * request in flight at a time, as a pager; the rate limiter counts it as any request). A consumer that stops
   * early aborts the request in flight.
   */
  async *list(kind: KindRef, options: ListOptions = {}): AsyncIterable<Page> {
    const info = await this.resolve(kind, options.signal);
    const path = collectionPath(info, options.namespace);
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    /** One page's request: its answer, and `onWire`, which settles once it is on its way (or has failed). */
    const request = (token: string | undefined) => {
      let onSent = () => {};
      const handedOver = new Promise<void>((resolve) => {
        onSent = resolve;
      });
      const sent = this.transport.send({
        method: 'GET',
        path,
        verb: 'list',
        resource: resourceLabel(info),
        isList: true,
        query: {
          limit: String(options.limit ?? DEFAULT_PAGE),
          continue: token,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
        },
        ...(options.namespace ? { namespace: options.namespace } : {}),
        signal,
        onSent,
      });
      // Awaited below; until then a failure must not count as unhandled (the consumer may stop first).
      sent.catch(() => {});
      return { answer: sent, onWire: Promise.race([handedOver, sent.then(noop, noop)]) };
    };
    let restarted = false;
    let token: string | undefined;
    let index = 0;
    let inFlight = request(undefined).answer;
    try {
      for (;;) {
        let body: { items?: KubeObject[]; metadata?: { continue?: string } };
        let lazyItems: ListItems | undefined;
        let warnings: string[];
        try {
          const res = await inFlight;
          body = res.body as typeof body;
          lazyItems = res.items;
          warnings = res.warnings;
        } catch (error) {
          // An expired continue token: restart this kind's list once from the beginning (client-go's pager does
          // the same with a full list). Consumers see `restarted` and must drop what they kept from earlier pages.
          if (isClusterError(error, 'Gone') && token && !restarted) {
            restarted = true;
            token = undefined;
            index = 0;
            inFlight = request(undefined).answer;
            continue;
          }
          // Our own early stop is not an error of the list; the caller's abort keeps its reason.
          if (stop.signal.aborted && !options.signal?.aborted) return;
          throw error;
        }
        index++;
        token = body.metadata?.continue || undefined;
        if (token) {
          const next = request(token);
          inFlight = next.answer;
          // The next page must be on the wire before this one is handed over: the consumer reads it synchronously
          // (tens of ms for 500 pods), and a request still waiting for a rate-limit token or its socket write
          // (a timer, a tick) would wait for the consumer, so the server would idle meanwhile.
          await next.onWire;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        // Items read one by one (the next page is on its way meanwhile); a body that did not split, parsed whole.
        if (lazyItems && options.omitFieldsV1) lazyItems = lazyItems.withoutFieldsV1();
        const items = lazyItems
          ? lazyItems.map((item) => withKind(item as KubeObject, info))
          : (body.items ?? []).map((item) => withKind(item, info));
        yield { items, warnings, index, restarted };
        if (!token) return;
      }
    } finally {
      // The consumer stopped early (break, throw): drop the page requested ahead.
      stop.abort();
    }
  }

  async dryRunApply(object: KubeObject, options: ApplyOptions): Promise<ApplyResult> {
    return this.applyInternal(object, options, true);
  }

  apply(object: KubeObject, options: ApplyOptions): Promise<ApplyResult> {
    return this.applyInternal(object, options, false);
  }

  private async applyInternal(
    object: KubeObject,
    options: ApplyOptions,
    dryRun: boolean,
  ): Promise<ApplyResult> {
    const ref = refOfObject(object);
    const info = await this.resolve(ref, options.signal);
    const { managedFields: _m, ...metadata } = object.metadata;
    const body = { ...object, metadata };
    const res = await this.transport.send({
      ...this.spec('PATCH', dryRun ? 'patch (dry-run)' : 'patch', info, ref),
      body,
      contentType: 'application/apply-patch+yaml',
      query: {
        fieldManager: options.fieldManager,
        fieldValidation: 'Strict',
        ...(options.force ? { force: 'true' } : {}),
        ...(dryRun ? { dryRun: 'All' } : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { object: withKind(res.body as KubeObject, info), warnings: res.warnings };
  }

  async dryRunMergePatch(ref: ObjectRef, patch: unknown, signal?: AbortSignal): Promise<ApplyResult> {
    return this.mergePatchInternal(ref, patch, { dryRun: true, ...(signal ? { signal } : {}) });
  }

  mergePatch(
    ref: ObjectRef,
    patch: unknown,
    options: { fieldManager?: string; signal?: AbortSignal } = {},
  ): Promise<ApplyResult> {
    return this.mergePatchInternal(ref, patch, { ...options, dryRun: false });
  }

  private async mergePatchInternal(
    ref: ObjectRef,
    patch: unknown,
    options: { fieldManager?: string; signal?: AbortSignal; dryRun: boolean },
  ): Promise<ApplyResult> {
    const info = await this.resolve(ref, options.signal);
    const res = await this.transport.send({
      ...this.spec('PATCH', options.dryRun ? 'patch (dry-run)' : 'patch', info, ref),
      body: patch,
      contentType: 'application/merge-patch+json',
      query: {
        fieldValidation: 'Strict',
        fieldManager: options.fieldManager ?? 'kube-harden',
        ...(options.dryRun ? { dryRun: 'All' } : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { object: withKind(res.body as KubeObject, info), warnings: res.warnings };
  }

  async dryRunDelete(ref: ObjectRef, signal?: AbortSignal): Promise<Result<KubeObject | undefined>> {
    const info = await this.resolve(ref, signal);
    const res = await this.transport.send({
      ...this.spec('DELETE', 'delete (dry-run)', info, ref),
      query: { dryRun: 'All' },
      ...(signal ? { signal } : {}),
    });
    const body = res.body as KubeObject | undefined;
    return {
      value: body && body.kind !== 'Status' ? withKind(body, info) : undefined,
      warnings: res.warnings,
    };
  }

  async delete(
    ref: ObjectRef,
    options: { preconditions?: Preconditions; signal?: AbortSignal } = {},
  ): Promise<Result<undefined>> {
    const info = await this.resolve(ref, options.signal);
    const res = await this.transport.send({
      ...this.spec('DELETE', 'delete', info, ref),
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        ...(options.preconditions ? { preconditions: options.preconditions } : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { value: undefined, warnings: res.warnings };
  }

  /**
   * One decision per check, in order. Identical checks are asked once; the same check in several namespaces is
   * first asked cluster-wide (no namespace: "in every namespace"), and only when that is denied namespace by
   * namespace, so a user allowed everywhere costs one review per kind of access, not one per namespace (a
   * wizard over 1,000 namespaces would otherwise wait on thousands of reviews at the client's rate limit).
   */
  async accessReview(checks: AccessCheck[], signal?: AbortSignal): Promise<AccessDecision[]> {
    const ask = async (check: AccessCheck): Promise<AccessDecision> => {
      const res = await this.transport.send({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        verb: 'create',
        resource: 'selfsubjectaccessreviews.authorization.k8s.io',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { ...check } },
        },
        ...(signal ? { signal } : {}),
      });
      const status = (res.body as { status?: { allowed?: boolean; reason?: string } }).status ?? {};
      const decision: AccessDecision = { ...check, allowed: status.allowed === true };
      if (status.reason) decision.reason = status.reason;
      return decision;
    };
    const keyOf = (c: AccessCheck) =>
      JSON.stringify([c.verb, c.group, c.resource, c.subresource ?? '', c.name ?? '', c.namespace ?? '']);
    const asked = new Map<string, Promise<AccessDecision>>();
    const once = (c: AccessCheck) => {
      const k = keyOf(c);
      let answer = asked.get(k);
      if (!answer) {
        answer = ask(c);
        asked.set(k, answer);
      }
      return answer;
    };
    // How many namespaces each access (the check without its namespace) is asked in.
    const spread = new Map<string, Set<string>>();
    for (const c of checks) {
      if (c.namespace === undefined) continue;
      const { namespace, ...wide } = c;
      const k = keyOf(wide);
      spread.set(k, (spread.get(k) ?? new Set()).add(namespace));
    }
    const decide = async (c: AccessCheck): Promise<AccessDecision> => {
      if (c.namespace !== undefined) {
        const { namespace: _n, ...wide } = c;
        if ((spread.get(keyOf(wide))?.size ?? 0) >= 2) {
          const everywhere = await once(wide);
          if (everywhere.allowed) return { ...everywhere, ...c };
        }
      }
      return { ...(await once(c)), ...c };
    };
    return Promise.all(checks.map(decide));
  }

  async whoAmI(signal?: AbortSignal): Promise<Identity | undefined> {
    try {
      const res = await this.transport.send({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        verb: 'create',
        resource: 'selfsubjectreviews.authentication.k8s.io',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        ...(signal ? { signal } : {}),
      });
      const info = (res.body as { status?: { userInfo?: { username?: string; groups?: string[] } } }).status
        ?.userInfo;
      return info?.username ? { username: info.username, groups: info.groups ?? [] } : undefined;
    } catch (error) {
      if (isClusterError(error, 'NotFound') || isClusterError(error, 'Forbidden')) return undefined;
      throw error;
    }
  }

  async apiServerMetrics(names: readonly string[], signal?: AbortSignal): Promise<string[]> {
    const res = await this.transport.send({
      method: 'GET',
      path: '/metrics',
      verb: 'get',
      resource: 'nonResourceURL /metrics',
      text: true,
      // What the metrics add is a note or a finding: a proxy answering 503 for a path it does not serve must not
      // hold the run in retries.
      once: true,
      ...(signal ? { signal } : {}),
    });
    return metricSamples(typeof res.body === 'string' ? res.body : '', names);
  }

  private spec(method: RequestSpec['method'], verb: string, info: KindInfo, ref: ObjectRef): RequestSpec {
    const namespace = info.namespaced ? ref.namespace : undefined;
    if (info.namespaced && !namespace) {
      throw new ClusterError(`${ref.kind} ${ref.name} is namespaced but has no namespace`, {
        reason: 'BadRequest',
      });
    }
    return {
      method,
      path: `${collectionPath(info, namespace)}/${encodeURIComponent(ref.name)}`,
      verb,
      resource: resourceLabel(info),
      name: ref.name,
      ...(namespace ? { namespace } : {}),
    };
  }

  /** Kind → REST resource, from the catalog or API discovery. */
  private resolve(kind: KindRef, signal?: AbortSignal): Promise<KindInfo> {
    const known = kindInfo(kind);
    if (known) return Promise.resolve(known);
    const key = `${kind.apiVersion}/${kind.kind}`;
    let found = this.discovered.get(key);
    if (!found) {
      found = this.discover(kind, signal);
      found.catch(() => this.discovered.delete(key));
      this.discovered.set(key, found);
    }
    return found;
  }

  private async discover(kind: KindRef, signal?: AbortSignal): Promise<KindInfo> {
    const slash = kind.apiVersion.indexOf('/');
    const group = slash < 0 ? '' : kind.apiVersion.slice(0, slash);
    const version = slash < 0 ? kind.apiVersion : kind.apiVersion.slice(slash + 1);
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    let body: { resources?: Array<{ name: string; kind: string; namespaced: boolean }> };
    try {
      body = (
        await this.transport.send({
          method: 'GET',
          path,
          verb: 'get',
          resource: path,
          ...(signal ? { signal } : {}),
        })
      ).body as typeof body;
    } catch (error) {
      if (isClusterError(error, 'NotFound')) {
        throw new ClusterError(`the API server does not serve ${kind.apiVersion}`, {
          reason: 'NotFound',
          hint: 'the kind may need a newer Kubernetes version or a CRD',
        });
      }
      throw error;
    }
    const r = body.resources?.find((x) => x.kind === kind.kind && !x.name.includes('/'));
    if (!r) {
      throw new ClusterError(`the API server does not serve ${kind.kind} in ${kind.apiVersion}`, {
        reason: 'NotFound',
        hint: 'check the apiVersion and kind',
      });
    }
    return {
      apiVersion: kind.apiVersion,
      kind: kind.kind,
      group,
      version,
      resource: r.name,
      namespaced: r.namespaced,
    };
  }
}

function refOfObject(object: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name };
  if (object.metadata?.namespace) ref.namespace = object.metadata.namespace;
  return ref;
}

function resourceLabel(info: KindInfo): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

function collectionPath(info: KindInfo, namespace: string | undefined): string {
  const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  return info.namespaced && namespace
    ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${info.resource}`
    : `${prefix}/${info.resource}`;
}

/** List items come back without apiVersion/kind; put them back (in place: the object is this read's own). */
function withKind(object: KubeObject, info: KindInfo): KubeObject {
  if (object && (!object.apiVersion || !object.kind)) {
    object.apiVersion = info.apiVersion;
    object.kind = info.kind;
  }
  return object;
}

/** Connect to the cluster of a kubeconfig context. Reads the kubeconfig; does not contact the server. */
export function connect(options: ConnectOptions = {}): LiveCluster {
  const resolved = resolveKubeconfig(options);
  const transport = new Transport(resolved, options);
  return new LiveCluster(transport, resolved.contextName, resolved.cluster.server, resolved.namespace);
}

/** A read-only view: only the `ClusterReader` methods exist at runtime, not just in the type. */
export function readOnly(source: ClusterReader): ClusterReader {
  return {
    source: source.source,
    capabilities: source.capabilities,
    serverVersion: (s) => source.serverVersion(s),
    get: (r, s) => source.get(r, s),
    list: (k, o) => source.list(k, o),
    dryRunApply: (o, opts) => source.dryRunApply(o, opts),
    dryRunMergePatch: (r, p, s) => source.dryRunMergePatch(r, p, s),
    dryRunDelete: (r, s) => source.dryRunDelete(r, s),
    accessReview: (c, s) => source.accessReview(c, s),
    whoAmI: (s) => source.whoAmI(s),
    ...(source.apiServerMetrics ? { apiServerMetrics: source.apiServerMetrics.bind(source) } : {}),
  };
}

/**
 * The sample lines of the named metrics in a Prometheus text exposition (comments and other metrics dropped). An
 * API server's exposition runs to megabytes: each name is searched for, the text is not split into lines.
 */
export function metricSamples(text: string, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    for (let at = text.startsWith(name) ? 0 : text.indexOf(`\n${name}`); at !== -1; ) {
      const start = text[at] === '\n' ? at + 1 : at;
      const end = text.indexOf('\n', start);
      const line = text.slice(start, end === -1 ? text.length : end);
      const next = line[name.length];
      if (next === '{' || next === ' ') out.push(line);
      at = end === -1 ? -1 : text.indexOf(`\n${name}`, end);
    }
  }
  return out;
}
