/**
 * Opening a source (live cluster or manifests) and the inputs of an assessment (exceptions register, config).
 * Shared by the wizard and the headless commands.
 */
import { connect, type LiveCluster, readOnly } from '../cluster/live.js';
import { ManifestSource } from '../cluster/manifests.js';
import type { ClusterReader, ClusterWriter } from '../cluster/types.js';
import { UsageError } from '../errors.js';
import { buildSnapshot, type InventoryProgress } from '../inventory/build.js';
import type { Scope } from '../inventory/scope.js';
import type { Snapshot } from '../inventory/types.js';
import { type Assessment, assess } from '../policy/assess.js';
import { type KubeHardenConfig, loadConfig } from '../policy/config.js';
import { DEFAULT_EXCEPTIONS_FILE, type ExceptionRegister, loadExceptions } from '../policy/exceptions.js';
import type { PolicyVersionString } from '../policy/pss/index.js';

export interface SessionOptions {
  kubeconfig?: string;
  context?: string;
  requestTimeoutMs?: number;
  qps?: number;
  burst?: number;
  /** A credential plugin may prompt on this terminal. */
  interactive?: boolean;
  /** Offline: a directory (or file) of manifests instead of a cluster. */
  manifests?: string;
  scope: Scope;
  /** `--exceptions FILE`; when absent, `./kube-harden-exceptions.yaml` is used if it exists. */
  exceptionsFile?: string;
  configFile?: string;
  psaVersion?: PolicyVersionString;
  /** Step settings by key (e.g. `psa-migrate.target`, `psa-enforce.staleAfterDays`). */
  settings?: Record<string, unknown>;
  /** The "expiring" window of the exceptions review, in days (default 30). */
  within?: number;
  /** `--read-only`: no write path exists at all. */
  readOnly: boolean;
  now: () => Date;
  /** Journal location override (tests). */
  env?: NodeJS.ProcessEnv;
  /** Where a headless command says what it did on the user's behalf (stderr), e.g. namespaces it filled in. */
  notice?: (message: string) => void;
}

export interface OpenedSource {
  reader: ClusterReader;
  /** Absent offline and with --read-only. */
  writer?: ClusterWriter;
  manifests?: ManifestSource;
  live?: LiveCluster;
  close(): void;
}

/** A live cluster from the session's connection options (reads the kubeconfig; does not contact the server). */
export function connectLive(options: SessionOptions): LiveCluster {
  const execTimeout = process.env.KUBE_HARDEN_EXEC_TIMEOUT;
  const execTimeoutSeconds = execTimeout === undefined ? undefined : Number(execTimeout);
  if (execTimeoutSeconds !== undefined && !(execTimeoutSeconds > 0)) {
    throw new UsageError(
      `invalid KUBE_HARDEN_EXEC_TIMEOUT "${execTimeout}"`,
      'use a positive number of seconds',
    );
  }
  return connect({
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.qps ? { qps: options.qps } : {}),
    ...(options.burst ? { burst: options.burst } : {}),
    interactive: options.interactive ?? false,
    ...(execTimeoutSeconds !== undefined ? { execTimeoutMs: execTimeoutSeconds * 1000 } : {}),
  });
}

export async function openSource(options: SessionOptions, signal?: AbortSignal): Promise<OpenedSource> {
  if (options.manifests) {
    const namespace = manifestNamespace(options.scope);
    const manifests = await ManifestSource.load(options.manifests, {
      ...(signal ? { signal } : {}),
      ...(namespace ? { namespace } : {}),
    });
    const placed = manifests.placedInDefault;
    if (placed > 0) {
      options.notice?.(
        `${placed} object${placed === 1 ? '' : 's'} in the manifests name${placed === 1 ? 's' : ''} no namespace and ${placed === 1 ? 'was' : 'were'} placed in "default", as kubectl apply -f does without -n (give -n NS to place them in NS)`,
      );
    }
    return { reader: manifests, manifests, close() {} };
  }
  const live = connectLive(options);
  return {
    // Steps and inventory only ever see the read-only view.
    reader: readOnly(live),
    ...(options.readOnly ? {} : { writer: live }),
    live,
    close: () => live.close(),
  };
}

/**
 * `-n NS` with `--manifests` reads as `kubectl apply -f DIR -n NS`: NS is the namespace of the objects that name
 * none, so it is one namespace.
 */
export function manifestNamespace(scope: Scope): string | undefined {
  if (scope.namespaces.length > 1) {
    throw new UsageError(
      `with --manifests, -n is the namespace of the objects that name none, as with kubectl apply -f: give it once (got ${scope.namespaces.join(', ')})`,
      'leave -n out to read every namespace of the manifests, or use --exclude-namespace to leave some out',
    );
  }
  return scope.namespaces[0];
}

export interface Inputs {
  exceptions?: ExceptionRegister;
  config?: KubeHardenConfig;
}

export async function loadInputs(options: SessionOptions): Promise<Inputs> {
  const inputs: Inputs = {};
  const exceptionsPath = options.exceptionsFile ?? DEFAULT_EXCEPTIONS_FILE;
  const exceptions = await loadExceptions(exceptionsPath, { optional: options.exceptionsFile === undefined });
  if (exceptions) inputs.exceptions = exceptions;
  if (options.configFile) inputs.config = await loadConfig(options.configFile);
  return inputs;
}

export interface InventoryResult {
  snapshot: Snapshot;
  assessment: Assessment;
}

export async function runInventory(
  reader: ClusterReader,
  options: SessionOptions,
  inputs: Inputs,
  hooks: { signal?: AbortSignal; onProgress?: (p: InventoryProgress) => void } = {},
): Promise<InventoryResult> {
  const snapshot = await buildSnapshot(reader, {
    namespaces: options.scope.namespaces,
    exclude: options.scope.exclude,
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
  });
  const present = new Set(snapshot.namespaces.map((n) => n.name));
  const missing = options.scope.namespaces.filter((n) => !present.has(n));
  if (missing.length > 0) {
    const where = options.manifests ? 'in the manifests' : 'in the cluster';
    options.notice?.(
      missing.length === options.scope.namespaces.length
        ? `the scope matches nothing: no namespace ${missing.join(', ')} ${where}`
        : `no namespace ${missing.join(', ')} ${where}; the rest of the scope is read`,
    );
  }
  const assessment = assess(snapshot, {
    now: options.now(),
    ...(inputs.exceptions ? { exceptions: inputs.exceptions } : {}),
    ...(inputs.config ? { config: inputs.config } : {}),
    ...(options.psaVersion ? { psaVersion: options.psaVersion } : {}),
    ...(options.within !== undefined ? { within: options.within } : {}),
  });
  return { snapshot, assessment };
}
