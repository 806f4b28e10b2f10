/**
 * Encryption at rest as the API server's own metrics show it: `apiserver_storage_transformation_operations_total`
 * names the provider each Secret was written and read with since that API server started (k8s.io/apiserver
 * pkg/storage/value/transformer.go). The sample lines below are what kube-apiserver v1.36.3 printed in
 * test/integration/encryption-metrics.test.ts: identity first, and secretbox first (a provider with keys records
 * each operation twice, the second time under the key's name).
 */
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../../src/cluster/errors.js';
import { metricSamples } from '../../../src/cluster/live.js';
import type { ClusterReader } from '../../../src/cluster/types.js';
import {
  type ControlPlaneFacts,
  collectControlPlaneFacts,
  secretTransformations,
} from '../../../src/inventory/control-plane-facts.js';
import { evaluateControlPlane, providerOfPrefix } from '../../../src/policy/control-plane/index.js';
import { controlPlaneReport } from '../../../src/policy/control-plane/report.js';
import { controlPlaneLines } from '../../../src/report/control-plane.js';
import { secretsEncryption } from '../../../steps/secrets-encryption.js';
import { snapshot } from '../../fixtures/snapshots/builder.js';
import { fixtureFacts, networkWith } from '../../support/control-plane.js';
import { runStep } from '../../support/step-run.js';

const M = 'apiserver_storage_transformation_operations_total';
const IDENTITY_FIRST = [
  `${M}{resource="secrets",status="OK",transformation_type="from_storage",transformer_prefix="identity"} 1`,
  `${M}{resource="secrets",status="OK",transformation_type="to_storage",transformer_prefix=""} 1`,
];
const SECRETBOX_FIRST = [
  `${M}{resource="secrets",status="OK",transformation_type="from_storage",transformer_prefix="k1:"} 1`,
  `${M}{resource="secrets",status="OK",transformation_type="from_storage",transformer_prefix="k8s:enc:secretbox:v1:"} 1`,
  `${M}{resource="secrets",status="OK",transformation_type="to_storage",transformer_prefix="k1:"} 1`,
  `${M}{resource="secrets",status="OK",transformation_type="to_storage",transformer_prefix="k8s:enc:secretbox:v1:"} 1`,
];

const live = (facts: ControlPlaneFacts) =>
  snapshot({
    source: { kind: 'cluster', context: 'test', server: 'https://127.0.0.1:6443' },
    network: networkWith(),
    serverVersion: { major: 1, minor: 36, gitVersion: 'v1.36.3' },
    controlPlaneFacts: facts,
  });
const invisible = (extra: Partial<ControlPlaneFacts> = {}): ControlPlaneFacts => ({
  apiServers: [],
  nodes: [],
  loadBalancers: [],
  ...extra,
});
const hardened = (lines: string[]): ControlPlaneFacts => ({
  ...fixtureFacts('kubeadm-hardened'),
  secretTransformations: secretTransformations(lines),
});

const encryptionStep = (facts: ControlPlaneFacts) => runStep(secretsEncryption, live(facts));

describe('the samples', () => {
  it('picks the named metric’s sample lines out of an exposition, first and last line included', () => {
    const exposition = [
      IDENTITY_FIRST[0],
      `# HELP ${M} Total number of transformations.`,
      `# TYPE ${M} counter`,
      `${M}_other{resource="secrets"} 9`,
      'apiserver_request_total{code="200"} 5',
      `${M} 3`,
      IDENTITY_FIRST[1],
    ].join('\n');
    expect(metricSamples(exposition, [M])).toEqual([IDENTITY_FIRST[0], `${M} 3`, IDENTITY_FIRST[1]]);
    expect(metricSamples(`${exposition}\n`, [M, 'apiserver_request_total'])).toEqual([
      IDENTITY_FIRST[0],
      `${M} 3`,
      IDENTITY_FIRST[1],
      'apiserver_request_total{code="200"} 5',
    ]);
    expect(metricSamples('', [M])).toEqual([]);
  });

  it('keeps the successful Secret operations under the providers’ own prefixes, summed', () => {
    const lines = [
      ...SECRETBOX_FIRST,
      `${M}{resource="secrets",status="OK",transformation_type="to_storage",transformer_prefix="k8s:enc:secretbox:v1:"} 2`,
      `${M}{resource="configmaps",status="OK",transformation_type="to_storage",transformer_prefix=""} 7`,
      `${M}{resource="secrets",status="Internal",transformation_type="to_storage",transformer_prefix=""} 3`,
      `${M}{resource="secrets",status="OK",transformation_type="from_storage",transformer_prefix="unknown"} 4`,
      `${M}{resource="secrets",status="OK",transformation_type="to_storage",transformer_prefix="k8s:enc:kms:v2:my\\"kms:"} 5`,
      '# HELP apiserver_storage_transformation_operations_total Total number of transformations.',
      'apiserver_storage_transformation_operations_total_other{resource="secrets"} 9',
    ];
    expect(secretTransformations(lines)).toEqual([
      { type: 'from_storage', prefix: 'k8s:enc:secretbox:v1:', count: 1 },
      { type: 'to_storage', prefix: 'k8s:enc:kms:v2:my"kms:', count: 5 },
      { type: 'to_storage', prefix: 'k8s:enc:secretbox:v1:', count: 3 },
    ]);
    expect(secretTransformations(IDENTITY_FIRST)).toEqual([
      { type: 'from_storage', prefix: 'identity', count: 1 },
      { type: 'to_storage', prefix: '', count: 1 },
    ]);
  });

  it('names the provider of a prefix', () => {
    expect(providerOfPrefix('')).toBe('identity');
    expect(providerOfPrefix('identity')).toBe('identity');
    expect(providerOfPrefix('k8s:enc:aesgcm:v1:')).toBe('aesgcm');
    expect(providerOfPrefix('k8s:enc:kms:v2:my-kms:')).toBe('kms v2');
  });
});

describe('identity first', () => {
  it('flags in place but Secrets written in plaintext: KH-ENCRYPTION-IDENTITY-FIRST, and the step proposes the file', async () => {
    const facts = hardened(IDENTITY_FIRST);
    const v = evaluateControlPlane(live(facts));
    expect(v.encryption.state).toBe('on');
    expect(v.encryption.observed).toEqual({ writes: { identity: 1 }, reads: { identity: 1 } });
    const { findings, changes, explanation } = await encryptionStep(facts);
    expect(findings.map((f) => f.control)).toEqual(['KH-ENCRYPTION-IDENTITY-FIRST']);
    expect(findings[0]?.message).toMatch(
      /^1 Secret write\(s\) since the API server started went to etcd in plaintext/,
    );
    expect(changes.map((c) => c.id)).toContain('secrets-encryption/config');
    expect(explanation.why).toContain('whose first provider is identity');
  });

  it('where the flags are not visible, the metrics still show identity first (and it is not "unknown")', async () => {
    const { findings, unknown } = await encryptionStep(
      invisible({ secretTransformations: secretTransformations(IDENTITY_FIRST) }),
    );
    expect(findings.map((f) => f.control)).toEqual(['KH-ENCRYPTION-IDENTITY-FIRST']);
    expect(unknown).toBeUndefined();
  });

  it('plaintext and encrypted writes both: still raised, naming both', async () => {
    const { findings } = await encryptionStep(hardened([...IDENTITY_FIRST, ...SECRETBOX_FIRST]));
    expect(findings.map((f) => f.control)).toEqual(['KH-ENCRYPTION-IDENTITY-FIRST']);
    expect(findings[0]?.message).toContain('1 others were encrypted with secretbox ×1');
  });
});

describe('an encrypting provider first', () => {
  it('flags in place and Secrets written with secretbox: nothing to do, and the note names the provider', async () => {
    const facts = hardened(SECRETBOX_FIRST);
    const v = evaluateControlPlane(live(facts));
    expect(v.encryption.notes.join(' ')).toContain(
      '1 Secret write(s) since it started: encrypted with secretbox ×1',
    );
    const { findings, changes } = await encryptionStep(facts);
    expect(findings).toEqual([]);
    expect(changes).toEqual([]);
  });

  it('flags not visible: encrypted writes show a configuration in place (on, not unknown)', async () => {
    const { findings, unknown, facts, changes } = await encryptionStep(
      invisible({ secretTransformations: secretTransformations(SECRETBOX_FIRST) }),
    );
    expect(facts.verdict.encryption.state).toBe('on');
    expect(findings).toEqual([]);
    expect(unknown).toBeUndefined();
    expect(changes).toEqual([]);
  });

  it('Secrets still read as plaintext: a note to rewrite them', () => {
    const v = evaluateControlPlane(live(hardened([...SECRETBOX_FIRST, IDENTITY_FIRST[0] as string])));
    expect(v.encryption.notes.join(' ')).toContain(
      '1 Secret read(s) from etcd since the API server started found plaintext',
    );
  });
});

describe('what the metrics cannot tell', () => {
  it('no Secret written since the API server started, or no metrics: unknown stays unknown', async () => {
    for (const facts of [
      invisible({ secretTransformations: [] }),
      invisible({
        secretTransformations: secretTransformations(
          SECRETBOX_FIRST.filter((l) => l.includes('from_storage')),
        ),
      }),
      invisible({ metricsError: { reason: 'Forbidden', message: 'forbidden: /metrics' } }),
    ]) {
      const { findings, unknown } = await encryptionStep(facts);
      expect(findings.map((f) => f.control)).toEqual(['KH-ENCRYPTION-UNKNOWN']);
      expect(unknown?.map((u) => u.resource)).toEqual(['kube-apiserver flags (encryption at rest)']);
    }
  });

  it('flags in place, metrics refused: the note says so, and nothing is raised from them', () => {
    const v = evaluateControlPlane(
      live({ ...fixtureFacts('kubeadm-hardened'), metricsError: { reason: 'Forbidden', message: 'no' } }),
    );
    expect(v.encryption.state).toBe('on');
    expect(v.encryption.notes.join(' ')).toContain("the API server's metrics could not be read (Forbidden)");
  });
});

describe("the report's control-plane section", () => {
  it('gives the writes by provider (JSON) and says which were plaintext (text)', () => {
    const summary = controlPlaneReport(live(hardened([...IDENTITY_FIRST, ...SECRETBOX_FIRST]))).summary;
    expect(summary?.encryption).toEqual({
      state: 'on',
      configFile: '/etc/kubernetes/enc/encryption-config.yaml',
      writes: { identity: 1, secretbox: 1 },
    });
    const lines = Object.fromEntries(summary ? controlPlaneLines(summary) : []);
    expect(lines['encryption at rest']).toBe(
      'on (/etc/kubernetes/enc/encryption-config.yaml; Secret writes since the API server started, by provider: identity (PLAINTEXT) ×1, secretbox ×1)',
    );
    const without = controlPlaneReport(live(hardened([]))).summary;
    expect(without?.encryption.writes).toBeUndefined();
    expect(Object.fromEntries(without ? controlPlaneLines(without) : [])['encryption at rest']).toContain(
      'the providers are not visible through the API',
    );
  });
});

describe('reading /metrics', () => {
  /** A cluster with nothing in kube-system whose /metrics answers with `metrics`. */
  const reader = (metrics: () => Promise<string[]>): ClusterReader =>
    ({
      source: { kind: 'cluster', context: 'fake', server: 'https://fake.invalid' },
      capabilities: { dryRun: false, reviews: false },
      get: async () => ({ value: undefined, warnings: [] }),
      async *list() {},
      apiServerMetrics: metrics,
    }) as unknown as ClusterReader;

  it('the samples become the facts', async () => {
    const facts = await collectControlPlaneFacts(reader(async () => IDENTITY_FIRST));
    expect(facts.secretTransformations).toEqual(secretTransformations(IDENTITY_FIRST));
    expect(facts.metricsError).toBeUndefined();
  });

  it.each([
    ['a proxy that serves only /api and /apis (an HTML page)', 'NotKubernetes'],
    ['a refusal', 'Forbidden'],
    ['no such path', 'NotFound'],
    ['a slow server', 'Timeout'],
  ] as const)('%s is never fatal: the metrics are unknown, nothing is claimed', async (_, reason) => {
    const facts = await collectControlPlaneFacts(
      reader(() => Promise.reject(new ClusterError(`GET /metrics: ${reason}`, { reason }))),
    );
    expect(facts.secretTransformations).toBeUndefined();
    expect(facts.metricsError).toEqual({
      reason: reason === 'Forbidden' || reason === 'Timeout' ? reason : 'Error',
      message: `GET /metrics: ${reason}`,
    });
  });
});
