/**
 * Managed control planes (issue 14): EKS, GKE and AKS are recognised (server version, node labels), the flags stay
 * unknown (never off), and the manual changes carry the provider's own command for audit logs and envelope
 * encryption — in the instructions and in the artifact — instead of node files that do not exist there.
 */
import { describe, expect, it } from 'vitest';
import type { Change } from '../../../src/engine/types.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import { auditLogging } from '../../../steps/audit-logging.js';
import { PROVIDER_AUDIT_COMMAND, PROVIDER_ENCRYPTION_COMMAND } from '../../../steps/kit/control-plane.js';
import { secretsEncryption } from '../../../steps/secrets-encryption.js';
import { snapshot } from '../../fixtures/snapshots/builder.js';
import { networkWith } from '../../support/control-plane.js';
import { runStep } from '../../support/step-run.js';

const managed = (git: string, labels: Record<string, string> = {}) =>
  snapshot({
    source: { kind: 'cluster', context: 'cloud', server: 'https://10.1.0.1' },
    network: networkWith(),
    serverVersion: { major: 1, minor: 31, gitVersion: git },
    controlPlaneFacts: {
      apiServers: [],
      nodes: [{ name: 'node-1', labels }],
      loadBalancers: [],
    },
  });

/** The exact strings each provider's documentation gives (see steps/kit/control-plane.ts). */
const EXPECTED = {
  eks: {
    audit: ['aws eks update-cluster-config', '"clusterLogging"', '"types":["audit"]', '"enabled":true'],
    encryption: [
      'aws eks associate-encryption-config',
      '--cluster-name',
      '"resources":["secrets"]',
      '"keyArn"',
    ],
  },
  gke: {
    audit: ['gcloud projects set-iam-policy', 'container.googleapis.com'],
    encryption: ['gcloud container clusters update', '--database-encryption-key projects/'],
  },
  aks: {
    audit: ['az monitor diagnostic-settings create', '"category":"kube-audit-admin"', '--workspace'],
    encryption: [
      'az aks update',
      '--enable-azure-keyvault-kms',
      '--azure-keyvault-kms-key-vault-network-access',
      '--azure-keyvault-kms-key-id',
    ],
  },
} as const;

const manual = (changes: Change[], id: string) => {
  const c = changes.find((x) => x.id === id);
  if (c?.kind !== 'manual') throw new Error(`no manual change ${id}`);
  return c;
};

describe('managed control planes', () => {
  const cases: Array<[keyof typeof EXPECTED, Snapshot]> = [
    ['eks', managed('v1.31.2-eks-7f9249a')],
    ['gke', managed('v1.31.1-gke.1678000')],
    ['aks', managed('v1.31.2', { 'kubernetes.azure.com/cluster': 'MC_rg_c_westeurope' })],
  ];
  it.each(cases)(
    '%s: recognised; the provider commands in the instructions and the artifacts',
    async (p, snap) => {
      const audit = await runStep(auditLogging, snap);
      expect(audit.facts.verdict.platform).toBe(p);
      expect(audit.findings.map((f) => f.control)).toContain('KH-AUDIT-UNKNOWN');
      expect(audit.findings.map((f) => f.control)).not.toContain('KH-AUDIT-OFF');
      const a = manual(audit.changes, 'audit-logging/provider');
      const e = manual((await runStep(secretsEncryption, snap)).changes, 'secrets-encryption/provider');
      for (const s of EXPECTED[p].audit) {
        expect(a.instructions, `${p} audit instructions`).toContain(s);
        expect(a.artifact.content, `${p} audit artifact`).toContain(s);
      }
      for (const s of EXPECTED[p].encryption) {
        expect(e.instructions, `${p} encryption instructions`).toContain(s);
        expect(e.artifact.content, `${p} encryption artifact`).toContain(s);
      }
      expect(a.instructions).toContain(PROVIDER_AUDIT_COMMAND[p]);
      expect(e.instructions).toContain(PROVIDER_ENCRYPTION_COMMAND[p]);
      // No node files on a managed control plane.
      const paths = audit.changes.map((c) => (c.kind === 'manual' ? c.artifact.path : ''));
      expect(paths).not.toContain('kube-apiserver-audit-flags.txt');
    },
  );
});
