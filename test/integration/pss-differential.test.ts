/**
 * Differential test of the Pod Security Standards evaluator (src/policy/pss) against the real API server: every
 * generated pod variant (test/support/pod-variants.ts) is dry-run-created in namespaces labelled
 * `pod-security.kubernetes.io/enforce=<level>` + `enforce-version=<version>`, and the server's verdict is compared
 * with `evaluatePod`: allow/deny, the set of failing checks (reasons parsed from the Forbidden message) and the
 * whole message, byte for byte.
 *
 * Requests: the product's live client, `LiveCluster.dryRunApply` — server-side apply with dryRun=All. For an object
 * that does not exist yet, SSA is a create: the API server runs PrepareForCreate, create validation and the
 * validating admission plugins (PodSecurity among them) with operation CREATE, exactly as for a POST, and a PSA
 * denial comes back as the same 403 Forbidden Status. Going through the product's client also checks that its
 * typed errors carry the server message verbatim. A 422 (validation) is a generator bug and fails the test.
 *
 * Versions: the server is v1.36, so `latest` and anything newer evaluate as v1.36 there; v1.37 differs from v1.36
 * only by the v1.37 sysctl allow-list, so all pinned versions here are ≤ v1.36. They are chosen at check
 * boundaries: v1.18 (seccomp annotations, no capabilities_restricted/runAsUser), v1.24 (no Windows exemptions yet),
 * v1.30 (sysctls v1.29, SELinux before container_engine_t, no probe host check), v1.35 (user namespaces, probe
 * host), latest.
 */
import { beforeAll, expect, it } from 'vitest';
import { ClusterError } from '../../src/cluster/errors.js';
import { connect, type LiveCluster } from '../../src/cluster/live.js';
import type { KubeObject } from '../../src/k8s/types.js';
import {
  DEFAULT_CHECKS,
  ENFORCE_LEVEL_LABEL,
  ENFORCE_VERSION_LABEL,
  evaluatePod,
  forbiddenDetail,
  formatForbidden,
  type LevelVersion,
  type PolicyVersionString,
  type PssResult,
} from '../../src/policy/pss/index.js';
import { clusterInfo, describeCluster, freshNamespace } from '../cluster/harness.js';
import { generatePodVariants, type PodVariant } from '../support/pod-variants.js';

const VERSIONS: readonly PolicyVersionString[] = ['v1.18', 'v1.24', 'v1.30', 'v1.35', 'latest'];
const LEVELS = ['baseline', 'restricted'] as const;
const SEED = 0x5eed;
const CONCURRENCY = 24;

interface ServerOutcome {
  allowed: boolean;
  /** The Forbidden Status message, verbatim. */
  message?: string;
}

interface Comparison {
  variant: PodVariant;
  policy: LevelVersion;
  namespace: string;
  ours: PssResult;
  server: ServerOutcome;
}

/**
 * Splits a `ForbiddenDetail` (`reason (detail), reason2, reason3 (detail3)`) into the reasons: top-level `, `
 * separators only (details hold commas, and parentheses only in quoted values).
 */
function parseReasons(detail: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < detail.length; i++) {
    const ch = detail[i];
    if (ch === '\\' && inQuote) {
      i++;
      continue;
    }
    if (ch === '"') inQuote = !inQuote;
    else if (!inQuote && ch === '(') depth++;
    else if (!inQuote && ch === ')') depth--;
    else if (!inQuote && depth === 0 && ch === ',' && detail[i + 1] === ' ') {
      parts.push(detail.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  parts.push(detail.slice(start));
  return parts.map((p) => {
    const paren = p.indexOf(' (');
    return paren < 0 ? p : p.slice(0, paren);
  });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function dryRunCreate(
  cluster: LiveCluster,
  variant: PodVariant,
  namespace: string,
): Promise<ServerOutcome> {
  const object = {
    ...variant.pod,
    metadata: { ...variant.pod.metadata, namespace },
  } as unknown as KubeObject;
  try {
    await cluster.dryRunApply(object, { fieldManager: 'kube-harden-pss-differential' });
    return { allowed: true };
  } catch (error) {
    if (error instanceof ClusterError && error.status === 403 && error.serverMessage !== undefined) {
      return { allowed: false, message: error.serverMessage };
    }
    const detail =
      error instanceof ClusterError ? `${error.status} ${error.reason}: ${error.serverMessage}` : '';
    throw new Error(
      `variant ${variant.name} (${variant.description}) in ${namespace} was not admitted nor denied by ` +
        `PodSecurity — a 422 is a generator bug: ${detail || String(error)}\n${JSON.stringify(variant.pod, null, 2)}`,
      { cause: error },
    );
  }
}

function describeMismatch(c: Comparison): string | undefined {
  const policy = `${c.policy.level}:${c.policy.version}`;
  const expected = c.ours.allowed
    ? 'allowed'
    : `pods ${JSON.stringify(c.variant.name)} is forbidden: ${formatForbidden(c.policy, c.ours)}`;
  const actual = c.server.allowed ? 'allowed' : (c.server.message ?? '');
  const head = `${c.variant.name} [${c.variant.description}] at ${policy} (namespace ${c.namespace})`;
  if (c.ours.allowed !== c.server.allowed) {
    return `${head}: allow/deny differs\n    ours:   ${expected}\n    server: ${actual}`;
  }
  if (c.ours.allowed) return undefined;
  const prefix = `pods ${JSON.stringify(c.variant.name)} is forbidden: violates PodSecurity ${JSON.stringify(policy)}: `;
  if (!actual.startsWith(prefix)) {
    return `${head}: unexpected Forbidden message\n    ours:   ${expected}\n    server: ${actual}`;
  }
  const serverReasons = [...new Set(parseReasons(actual.slice(prefix.length)))].sort();
  const ourReasons = [...new Set(c.ours.violations.map((v) => v.reason))].sort();
  if (serverReasons.join('|') !== ourReasons.join('|')) {
    return (
      `${head}: failing checks differ\n    ours:   ${ourReasons.join(' | ')}\n    server: ${serverReasons.join(' | ')}` +
      `\n    ours:   ${expected}\n    server: ${actual}`
    );
  }
  if (actual.slice(prefix.length) !== forbiddenDetail(c.ours)) {
    return `${head}: message differs\n    ours:   ${expected}\n    server: ${actual}`;
  }
  return undefined;
}

describeCluster('Pod Security Standards: evaluator vs the real API server (differential)', () => {
  const variants = generatePodVariants({ seed: SEED });
  const namespaces = new Map<string, string>();
  let cluster: LiveCluster;
  let serverMinor: number;

  beforeAll(async () => {
    const info = clusterInfo();
    const minor = /^v1\.(\d+)\./.exec(info.version)?.[1];
    if (!minor) throw new Error(`unexpected server version ${info.version}`);
    serverMinor = Number(minor);
    // Raised limits: ~5,000 dry-runs in one test; the client still rate-limits and keeps ≤ 8 sockets.
    cluster = connect({ kubeconfig: info.adminKubeconfig, qps: 400, burst: 400 });
    const policies = LEVELS.flatMap((level) => VERSIONS.map((version) => ({ level, version })));
    await Promise.all(
      policies.map(async ({ level, version }) => {
        const ns = await freshNamespace(`pss-${level}-${version.replace('.', '-')}`, {
          labels: { [ENFORCE_LEVEL_LABEL]: level, [ENFORCE_VERSION_LABEL]: version },
        });
        namespaces.set(`${level}:${version}`, ns);
      }),
    );
  });

  it('generates at least 200 distinct, named pods covering Linux, Windows and init containers', () => {
    expect(variants.length).toBeGreaterThanOrEqual(200);
    expect(new Set(variants.map((v) => v.name)).size).toBe(variants.length);
    expect(
      new Set(variants.map((v) => JSON.stringify({ ...v.pod, metadata: { ...v.pod.metadata, name: '' } })))
        .size,
    ).toBe(variants.length);
    expect(variants.some((v) => v.os === 'windows')).toBe(true);
    expect(variants.some((v) => v.pod.spec.initContainers !== undefined)).toBe(true);
    // Deterministic: the same seed gives the same pods.
    expect(generatePodVariants({ seed: SEED }).map((v) => v.pod)).toEqual(variants.map((v) => v.pod));
  });

  it('cannot include ephemeral containers: the API rejects them on create (so the generator has none)', async () => {
    const namespace = namespaces.get('restricted:latest') as string;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ephemeral-on-create', namespace },
      spec: {
        containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
        ephemeralContainers: [{ name: 'debug', image: 'registry.k8s.io/pause:3.10' }],
      },
    } as KubeObject;
    const error = await cluster.dryRunApply(pod, { fieldManager: 'kube-harden-pss-differential' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as ClusterError).status).toBe(422);
    expect((error as ClusterError).serverMessage).toContain(
      'spec.ephemeralContainers: Forbidden: cannot be set on create',
    );
  });

  it('agrees with PodSecurity admission on allow/deny, the failing checks and the exact message', {
    timeout: 180_000,
  }, async () => {
    expect(VERSIONS.length).toBeGreaterThanOrEqual(3);
    const started = Date.now();
    const tasks = LEVELS.flatMap((level) =>
      VERSIONS.flatMap((version) => variants.map((variant) => ({ variant, policy: { level, version } }))),
    );
    const comparisons = await mapLimit(
      tasks,
      CONCURRENCY,
      async ({ variant, policy }): Promise<Comparison> => {
        const namespace = namespaces.get(`${policy.level}:${policy.version}`) as string;
        const server = await dryRunCreate(cluster, variant, namespace);
        const ours = evaluatePod(policy, variant.pod, { serverMinor });
        return { variant, policy, namespace, ours, server };
      },
    );
    const elapsed = ((Date.now() - started) / 1000).toFixed(1);

    const mismatches = comparisons.map(describeMismatch).filter((m): m is string => m !== undefined);
    const denied = comparisons.filter((c) => !c.server.allowed).length;
    console.log(
      `[pss-differential] ${comparisons.length} comparisons = ${variants.length} pods × ${VERSIONS.length} ` +
        `versions (${VERSIONS.join(', ')}) × ${LEVELS.length} levels against ${clusterInfo().version} in ` +
        `${elapsed} s: ${denied} denied, ${comparisons.length - denied} allowed, ${mismatches.length} disagreements`,
    );
    expect(
      mismatches,
      `${mismatches.length} disagreements between evaluatePod and the API server:\n${mismatches.slice(0, 40).join('\n')}`,
    ).toEqual([]);

    // Coverage: every check failed somewhere, and every namespace saw both verdicts.
    const failedChecks = new Set(comparisons.flatMap((c) => c.ours.violations.map((v) => v.check)));
    expect([...DEFAULT_CHECKS.map((c) => c.id)].filter((id) => !failedChecks.has(id))).toEqual([]);
    for (const [policy] of namespaces) {
      const here = comparisons.filter((c) => `${c.policy.level}:${c.policy.version}` === policy);
      expect(
        here.some((c) => c.server.allowed),
        `${policy}: some pod allowed`,
      ).toBe(true);
      expect(
        here.some((c) => !c.server.allowed),
        `${policy}: some pod denied`,
      ).toBe(true);
    }
    // Violations only in init containers were exercised (and denied where the check applies).
    expect(
      comparisons.some(
        (c) =>
          !c.server.allowed &&
          c.variant.traits.length > 0 &&
          c.variant.traits.every((t) => /@(init|side)$/.test(t)),
      ),
    ).toBe(true);
  });
});
