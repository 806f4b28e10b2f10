/**
 * Helpers for integration test files (test/integration/**). They drive the cluster with the real `kubectl`
 * binary — an oracle independent of kube-harden's own client code.
 *
 *   describeCluster('inventory', () => {
 *     let ns: string;
 *     beforeAll(async () => { ns = await freshNamespace('inv'); });
 *     it('…', async () => { await applyYaml(manifest, ns); … });
 *   });
 *
 * Call the helpers from hooks and tests only, never at collection time: a skipped `describeCluster` still runs
 * its body to register the (skipped) tests.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, inject } from 'vitest';
import { stringify } from 'yaml';
import type { AvailableCluster, ClusterContext } from './types.js';

export type { AvailableCluster, ClusterContext } from './types.js';

/** What the global setup provided (`{ available: false, reason }` when the integration setup did not run). */
export function clusterContext(): ClusterContext {
  const c = inject('cluster') as ClusterContext | undefined;
  return (
    c ?? { available: false, reason: 'the integration globalSetup did not run (use --project integration)' }
  );
}

/** The cluster of this run; throws when there is none (only call it inside describeCluster hooks/tests). */
export function clusterInfo(): AvailableCluster {
  const c = clusterContext();
  if (!c.available) throw new Error(`no test cluster: ${c.reason}`);
  return c;
}

/**
 * `describe` that is skipped — with the reason in its name — when there is no cluster. Namespaces made with
 * freshNamespace() inside it are deleted (without waiting) after the suite.
 */
export function describeCluster(name: string, fn: () => void): void {
  const c = clusterContext();
  if (!c.available) {
    describe.skip(`${name} [skipped: ${c.reason}]`, fn);
    return;
  }
  describe(name, () => {
    afterAll(deleteFreshNamespaces);
    fn();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// kubectl

export interface KubectlOptions {
  /** Written to stdin (use with `-f -`). */
  input?: string;
  /** Default: the admin kubeconfig. */
  kubeconfig?: string;
  /** Kill kubectl (and its whole process group, e.g. exec plugins) after this long. Default 60 s. */
  timeoutMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
}

export class KubectlError extends Error {
  constructor(
    readonly args: string[],
    readonly result: KubectlResult,
  ) {
    super(
      `kubectl ${args.join(' ')} ${result.timedOut ? 'timed out' : `failed (exit ${result.exitCode})`}: ` +
        (result.stderr.trim() || result.stdout.trim() || '(no output)'),
    );
    this.name = 'KubectlError';
  }
  get stderr(): string {
    return this.result.stderr;
  }
}

/** kubectl's discovery cache: inside the control plane's temp dir (removed with it), else a shared temp dir. */
function kubectlCacheDir(c: AvailableCluster): string {
  return c.kind === 'local'
    ? join(dirname(c.adminKubeconfig), 'kubectl-cache')
    : join(tmpdir(), 'kube-harden-kubectl-cache');
}

/** Run kubectl and return stdout, stderr and the exit code; never throws for a non-zero exit. */
export function kubectlRaw(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const c = clusterInfo();
  const full = [
    `--kubeconfig=${opts.kubeconfig ?? c.adminKubeconfig}`,
    `--cache-dir=${kubectlCacheDir(c)}`,
    ...args,
  ];
  return new Promise((resolveP, reject) => {
    // Own process group, so a timeout also kills exec plugins and their children.
    const child = spawn(c.kubectl, full, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveP({ stdout, stderr, exitCode: code, timedOut });
    });
    child.stdin.on('error', () => {
      // kubectl may exit before reading stdin; its exit code tells the story.
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Run kubectl; returns stdout, throws KubectlError (message includes stderr) on failure. */
export async function kubectl(args: string[], opts: KubectlOptions = {}): Promise<string> {
  const r = await kubectlRaw(args, opts);
  if (r.exitCode !== 0 || r.timedOut) throw new KubectlError(args, r);
  return r.stdout;
}

/** `kubectl … -o json`, parsed. */
export async function kubectlJson<T = Record<string, unknown>>(
  args: string[],
  opts: KubectlOptions = {},
): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'], opts)) as T;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof KubectlError && /\(NotFound\)|not found/i.test(e.result.stderr);
}

/**
 * `kubectl apply --server-side` of a (multi-document) YAML string, optionally into `ns`. Field manager
 * `kube-harden-test-fixture`, so fixtures are distinguishable from the product's own field manager.
 */
export function applyYaml(yaml: string, ns?: string, opts: KubectlOptions = {}): Promise<string> {
  return kubectl(
    [
      'apply',
      '--server-side',
      '--field-manager=kube-harden-test-fixture',
      ...(ns ? ['--namespace', ns] : []),
      '-f',
      '-',
    ],
    { ...opts, input: yaml },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Namespaces

const created = new Set<string>();

/**
 * Create `kh-<prefix>-<random>` (labelled `kube-harden.test/fresh=true` plus `labels`), wait until its
 * `default` ServiceAccount exists (so Pods can be created directly), and schedule its deletion after the
 * enclosing describeCluster. KUBE_HARDEN_KEEP_NAMESPACES=1 keeps them for debugging.
 */
export async function freshNamespace(
  prefix: string,
  opts: { labels?: Record<string, string> } = {},
): Promise<string> {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'ns';
  const name = `kh-${clean}-${randomBytes(4).toString('hex')}`;
  await kubectl(['create', '-f', '-'], {
    input: stringify({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kube-harden.test/fresh': 'true', ...opts.labels } },
    }),
  });
  created.add(name);
  await waitFor(
    async () => {
      const r = await kubectlRaw(['get', 'serviceaccount', 'default', '--namespace', name, '-o', 'name']);
      return r.exitCode === 0;
    },
    { timeoutMs: 30_000, what: `ServiceAccount ${name}/default` },
  );
  return name;
}

/** Delete (without waiting) every namespace made by freshNamespace() so far. */
export async function deleteFreshNamespaces(): Promise<void> {
  const names = [...created];
  created.clear();
  if (names.length === 0 || process.env.KUBE_HARDEN_KEEP_NAMESPACES === '1') return;
  await kubectl(['delete', 'namespace', ...names, '--wait=false', '--ignore-not-found']);
}

// ---------------------------------------------------------------------------------------------------------------
// Polling

export interface WaitForOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default 250 ms. */
  intervalMs?: number;
  /** For the timeout message, e.g. "2 pods of deployment web". */
  what: string;
}

/**
 * Poll `fn` until it returns a truthy value (returned) or the timeout passes (throws, naming `what` and the
 * last value or error). Exceptions from `fn` count as "not yet".
 */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitForOptions): Promise<Truthy<T>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (last) return last as Truthy<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= end) break;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
  const detail =
    lastError !== undefined
      ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
      : `last value: ${JSON.stringify(last)}`;
  throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${opts.what} (${detail})`);
}
