/**
 * "The CNI must enforce, or the phase is not done": one CNI verdict (phase 3's detectCni) in the report, a loud
 * `noEffect` sentence wherever NetworkPolicies have no effect (flannel alone, AWS VPC CNI without its policy agent,
 * unknown), and a phase 3 that never shows done (applied/verified) while it holds.
 */
import { describe, expect, test } from 'vitest';
import type { Plan } from '../../../src/engine/types.js';
import { emptyNetworkFacts } from '../../../src/inventory/network-facts.js';
import type { DaemonSetLite, NetworkFacts } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { toReportJson } from '../../../src/report/json.js';
import { renderMarkdown } from '../../../src/report/markdown.js';
import { renderText } from '../../../src/report/text.js';
import { derivePhases } from '../../../src/ui/model/phases.js';
import { networkDefaultDeny } from '../../../steps/network-default-deny.js';
import { NOW, ns, snapshot } from '../../fixtures/snapshots/builder.js';

function facts(daemonSets: DaemonSetLite[], extra: Partial<NetworkFacts> = {}): NetworkFacts {
  return { ...emptyNetworkFacts(), daemonSets, ...extra };
}

const ds = (namespace: string, name: string, containers: DaemonSetLite['containers']): DaemonSetLite => ({
  namespace,
  name,
  labels: {},
  containers,
});

const FLANNEL = ds('kube-flannel', 'kube-flannel-ds', [
  { name: 'kube-flannel', image: 'docker.io/flannel/flannel:v0.25.1' },
]);
const AWS_NO_AGENT = ds('kube-system', 'aws-node', [
  { name: 'aws-node', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.0' },
]);
const AWS_WITH_AGENT = ds('kube-system', 'aws-node', [
  { name: 'aws-node', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.0' },
  {
    name: 'aws-eks-nodeagent',
    image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.0',
    args: ['--enable-network-policy=true'],
  },
]);
const CALICO = ds('kube-system', 'calico-node', [{ name: 'calico-node', image: 'calico/node:v3.28.0' }]);

const assessWith = (daemonSets: DaemonSetLite[]) =>
  assess(snapshot({ namespaces: [ns('shop')], network: facts(daemonSets) }), { now: NOW });

describe('the report: one CNI verdict, and a loud "no effect"', () => {
  test.each([
    ['flannel alone', [FLANNEL], 'not-enforcing', 'does not enforce'],
    ['AWS VPC CNI without the policy agent', [AWS_NO_AGENT], 'not-enforcing', 'does not enforce'],
    ['no known CNI', [], 'unknown', 'is not known to enforce'],
  ] as const)('%s → %s, noEffect says so', (_name, daemonSets, status, verdict) => {
    const a = assessWith([...daemonSets]);
    expect(a.cni.status).toBe(status);
    expect(a.cni.noEffect).toMatch(/^NetworkPolicies have no effect yet: the CNI \(.+\) /);
    expect(a.cni.noEffect).toContain(verdict);
    expect(a.cni.noEffect).toContain('phase 3 (default-deny) is not done');
    expect((toReportJson(a).cni as { noEffect?: string }).noEffect).toBe(a.cni.noEffect);
    const text = renderText(a, { width: 200 });
    // Under the namespaces and in the CNI section.
    expect(text.split(a.cni.noEffect as string).length - 1).toBe(2);
    expect(renderMarkdown(a)).toContain(`> **${a.cni.noEffect}.**`);
    const f = a.findings.find(
      (x) => x.control === 'KH-NET-CNI-NO-NETPOL' || x.control === 'KH-NET-CNI-UNKNOWN',
    );
    expect(f?.message).toContain('NetworkPolicies have no effect yet');
  });

  test.each([
    ['AWS VPC CNI with its policy agent enabled', [AWS_WITH_AGENT], 'aws-vpc-cni'],
    ['flannel with calico (canal-like chain)', [FLANNEL, CALICO], 'calico'],
  ] as const)('%s → enforcing, no noEffect', (_name, daemonSets, plugin) => {
    const a = assessWith([...daemonSets]);
    expect(a.cni.status).toBe('enforcing');
    expect(a.cni.noEffect).toBeUndefined();
    expect(a.cni.plugins.map((p) => p.name)).toContain(plugin);
    expect(renderText(a, { width: 200 })).not.toContain('no effect yet');
  });

  test('the report and the step agree on the verdict (the image decides, not the DaemonSet name)', () => {
    // The inventory's name-only hint would call a DaemonSet named weave-net "enforcing"; without weave-npc it is not.
    const weave = ds('kube-system', 'weave-net', [{ name: 'weave', image: 'weaveworks/weave-kube:2.8.1' }]);
    const a = assessWith([weave]);
    expect(a.cni).toMatchObject({
      status: 'not-enforcing',
      plugins: [{ name: 'weave', workload: 'weave-net' }],
    });
    expect(networkDefaultDeny.noEffect?.(a)).toBe(a.cni.noEffect);
  });
});

describe('the wizard: phase 3 is never done while the CNI does not enforce', () => {
  const steps = [networkDefaultDeny];
  const run = (verified: boolean) => ({
    runId: 'r',
    target: 'cluster' as const,
    state: 'complete' as const,
    appliedByStep: { 'network-default-deny': 4 },
    verified: { 'network-default-deny': verified },
    undone: false,
  });
  const base = { steps, planStale: false, permissions: {}, skipped: [] };

  test('applied and verified, but no effect: status "no effect", the reason on the row, not recommended again', () => {
    const a = assessWith([FLANNEL]);
    const row = derivePhases({ ...base, assessment: a, history: [run(true)] }).find((r) => r.phase === 3);
    expect(row).toMatchObject({ status: 'no effect', applied: 4, recommended: false });
    expect(row?.noEffect).toBe(a.cni.noEffect);
  });

  test('previewed but not applied: blocked by it, with the reason', () => {
    const a = assessWith([]);
    const plan = {
      steps: [{ id: 'network-default-deny', findings: [] }],
      changes: [{ step: 'network-default-deny' }],
    };
    const row = derivePhases({ ...base, assessment: a, plan: plan as unknown as Plan, history: [] }).find(
      (r) => r.phase === 3,
    );
    expect(row).toMatchObject({ status: 'blocked', noEffect: a.cni.noEffect, blockedBy: [a.cni.noEffect] });
  });

  test('an enforcing CNI: no reason; in progress while namespaces without default deny are left', () => {
    const a = assessWith([CALICO]);
    const row = derivePhases({ ...base, assessment: a, history: [run(true)] }).find((r) => r.phase === 3);
    // This assessment predates the run: its namespaces still lack the policies (verified once none is left).
    expect(row?.status).toBe('in progress');
    expect(row?.noEffect).toBeUndefined();
  });
});
