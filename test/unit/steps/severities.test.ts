/**
 * Severities come from the control catalog (src/policy/controls.ts), never from a step: given a snapshot on which
 * every registered step reports every control it can, each finding's severity is the catalog's. (psa-warn-audit
 * used to report KH-UNKNOWN as medium; the catalog says high.)
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClusterReader } from '../../../src/cluster/types.js';
import type { StepContext, StepFinding, StepOptions } from '../../../src/engine/types.js';
import { assess } from '../../../src/policy/assess.js';
import { control } from '../../../src/policy/controls.js';
import { parseExceptions } from '../../../src/policy/exceptions.js';
import { STEPS } from '../../../steps/index.js';
import { WARN_AUDIT_SINCE } from '../../../steps/kit/annotations.js';
import {
  binding,
  container,
  NOW,
  ns,
  restrictedSpec,
  role,
  snapshot,
  workload,
} from '../../fixtures/snapshots/builder.js';
import { networkWith } from '../../support/control-plane.js';

const STEPS_DIR = new URL('../../../steps/', import.meta.url).pathname;

function sources(dir: string): Array<{ file: string; text: string }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [{ file: join(dir, e.name), text: readFileSync(join(dir, e.name), 'utf8') }]
        : [],
  );
}

const offline = {
  source: { kind: 'manifests', path: 'fixture' },
  capabilities: { dryRun: false, reviews: false },
  get: async () => ({ value: undefined, warnings: [] }),
} as unknown as ClusterReader;

const rootSpec = () =>
  restrictedSpec({ securityContext: {}, containers: [container('app', { securityContext: {} })] });

/** Expired, expiring (and owner-less), and unused exceptions, for the exceptions review (NOW = 2026-06-01). */
const REGISTER = `
apiVersion: kube-harden.io/v1alpha1
kind: ExceptionList
exceptions:
  - { id: old, scope: { namespace: shop }, controls: [runAsNonRoot], reason: r, owner: team, expires: 2026-01-01 }
  - { id: soon, scope: { namespace: shop }, controls: [runAsNonRoot], reason: r, owner: TBD, expires: 2026-06-10 }
  - { id: gone, scope: { namespace: shop }, controls: [hostPorts], reason: r, owner: team, expires: 2027-01-01 }
`;

/** Every finding of every registered step on a snapshot that triggers each of them. */
async function allFindings(): Promise<Array<StepFinding & { step: string }>> {
  const since = new Date(NOW.getTime() - 45 * 86_400_000).toISOString().slice(0, 10);
  const snap = snapshot({
    namespaces: [
      ns('kube-system'),
      ns(
        'shop',
        { 'pod-security.kubernetes.io/warn': 'restricted' },
        { annotations: { [WARN_AUDIT_SINCE]: since } },
      ),
      ns('hidden', {}, { unreadable: true }),
      ns('ghost', {}, { synthesized: true }),
    ],
    workloads: [
      workload('Deployment', 'shop', 'legacy', rootSpec(), { pods: 1 }),
      // sa-dedicated: a workload on the namespace's default ServiceAccount.
      workload('Deployment', 'shop', 'on-default', restrictedSpec({ serviceAccountName: '' })),
      // privileged-isolate: a privileged workload next to it, which the offline reader cannot read (unknown).
      workload(
        'Deployment',
        'shop',
        'agent',
        restrictedSpec({ containers: [container('agent', { securityContext: { privileged: true } })] }),
      ),
    ],
    // rbac-review: a legacy token, and a namespace whose token Secrets could not be listed.
    serviceAccountFacts: {
      legacyTokens: [{ namespace: 'shop', name: 'old-token', serviceAccount: 'legacy' }],
      unreadable: { namespaces: ['hidden'], reason: 'Forbidden' },
    },
    // rbac-review: a bound user with requests in the audit log below (narrowed), one without (unused).
    roles: [role('ClusterRole', 'viewer', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }])],
    bindings: [
      binding('ClusterRoleBinding', 'viewers', { kind: 'ClusterRole', name: 'viewer' }, [
        { kind: 'User', name: 'u' },
        { kind: 'User', name: 'idle' },
      ]),
    ],
  });
  // sa-tokens reports the audit log's bad lines: a log with one event and one bad line.
  const auditLog = join(mkdtempSync(join(tmpdir(), 'kh-sev-')), 'audit.log');
  writeFileSync(
    auditLog,
    `${JSON.stringify({ kind: 'Event', stage: 'ResponseComplete', verb: 'get', user: { username: 'u' } })}\nnot an event\n`,
  );
  const options: StepOptions = {
    namespaces: [],
    exclude: [],
    settings: {
      'sa-tokens.auditLog': auditLog,
      // An allow-list the fixture's images are not on: the registries steps report what they would warn about/deny.
      'registries-warn.allow': ['ghcr.io'],
    },
    now: NOW,
  };
  const ctx: StepContext = {
    snapshot: snap,
    assessment: assess(snap, { now: NOW, exceptions: parseExceptions(REGISTER, 'exceptions.yaml') }),
    reader: offline,
    options,
    signal: new AbortController().signal,
  };
  // Phase 6: the same cluster with two visible API servers, one logging without rotation, one without flags
  // (the snapshot above shows none: the unknown findings).
  const withFlags = structuredClone(snap);
  withFlags.serverVersion = { major: 1, minor: 35, gitVersion: 'v1.35.0' };
  withFlags.network = networkWith();
  withFlags.controlPlaneFacts = {
    apiServers: [
      { name: 'kube-apiserver-a', flags: ['--audit-policy-file=/p', '--audit-log-path=/l'], hostPaths: [] },
      { name: 'kube-apiserver-b', flags: [], hostPaths: [] },
    ],
    nodes: [],
    loadBalancers: [],
  };
  const out: Array<StepFinding & { step: string }> = [];
  for (const s of [snap, withFlags]) {
    for (const step of STEPS) {
      const { findings } = await step.detect({ ...ctx, snapshot: s });
      out.push(...findings.map((f) => ({ ...f, step: step.id })));
    }
  }
  return out;
}

describe('step finding severities', () => {
  it('equal the control catalog for every finding of every step', async () => {
    const findings = await allFindings();
    expect(findings.length).toBeGreaterThan(0);
    const wrong = findings
      .filter((f) => f.severity !== control(f.control).severity)
      .map((f) => `${f.step} ${f.control}: ${f.severity}, catalog ${control(f.control).severity}`);
    expect(wrong).toEqual([]);
  });

  it('the fixture makes every step report every control it names (so the check above covers them all)', async () => {
    const seen = new Set((await allFindings()).map((f) => `${f.step} ${f.control}`));
    const named = STEPS.flatMap((step) => {
      const text = readFileSync(join(STEPS_DIR, `${step.id}.ts`), 'utf8');
      return [...text.matchAll(/finding\(\s*'(KH-[A-Z-]+)'/g)].map((m) => `${step.id} ${m[1]}`);
    });
    expect(named.length).toBeGreaterThan(0);
    expect([...new Set(named)].filter((n) => !seen.has(n))).toEqual([]);
  });

  it('no step module sets a severity itself (only steps/kit/findings.ts, from the catalog)', () => {
    const offenders = sources(STEPS_DIR)
      .filter(({ file }) => !file.endsWith('/kit/findings.ts'))
      .filter(({ text }) => /\bseverity\s*:/.test(text))
      .map(({ file }) => file.slice(STEPS_DIR.length));
    expect(offenders).toEqual([]);
  });
});
