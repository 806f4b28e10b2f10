/**
 * Phase 3 on the real control plane, then the report: after `apply` of network-default-deny on a namespace,
 * `report -o json` shows `defaultDeny` denied / denied / `dnsEgress: true`, judged against the DNS the planner
 * resolved. The cluster's DNS here is not kubeadm's: the kubelet's clusterDNS (kube-system/kubelet-config) points to
 * a Service in another namespace whose pods answer on 5353 (named target ports), so a check against "UDP/TCP 53 to
 * kube-dns" would say false.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ExitCode } from '../../src/errors.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectl,
  kubectlJson,
} from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

const STEP = 'network-default-deny';

describeCluster('phase 3 → report: defaultDeny denied/denied/dnsEgress true (live)', () => {
  let kubeconfig: string;
  let state: string;
  let app: string;
  let hadKubeletConfig = false;

  beforeAll(async () => {
    kubeconfig = clusterInfo().adminKubeconfig;
    state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    const dnsNs = await freshNamespace('netdns');
    await applyYaml(
      stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'dns-default', namespace: dnsNs },
        spec: {
          selector: { 'kube-harden.test/dns': 'alt' },
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
          ],
        },
      }),
      dnsNs,
    );
    await applyYaml(
      stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'alt-dns', namespace: dnsNs },
        spec: {
          selector: { matchLabels: { 'kube-harden.test/dns': 'alt' } },
          template: {
            metadata: { labels: { 'kube-harden.test/dns': 'alt' } },
            spec: {
              automountServiceAccountToken: false,
              containers: [
                {
                  name: 'dns',
                  image: 'registry.k8s.io/coredns/coredns:v1.11.3',
                  ports: [
                    { name: 'dns', containerPort: 5353, protocol: 'UDP' },
                    { name: 'dns-tcp', containerPort: 5353, protocol: 'TCP' },
                  ],
                },
              ],
            },
          },
        },
      }),
      dnsNs,
    );
    const svc = await kubectlJson<{ spec: { clusterIP: string } }>([
      'get',
      'service',
      'dns-default',
      '-n',
      dnsNs,
    ]);
    hadKubeletConfig = (
      await kubectl(['get', 'configmap', '-n', 'kube-system', '--ignore-not-found', '-o', 'name'])
    ).includes('configmap/kubelet-config');
    expect(hadKubeletConfig, 'this test owns kube-system/kubelet-config').toBe(false);
    await applyYaml(
      stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kubelet-config', namespace: 'kube-system' },
        data: {
          kubelet: stringify({
            apiVersion: 'kubelet.config.k8s.io/v1beta1',
            kind: 'KubeletConfiguration',
            clusterDNS: [svc.spec.clusterIP],
          }),
        },
      }),
      'kube-system',
    );
    app = await freshNamespace('netapp');
    await applyYaml(
      stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: app },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              automountServiceAccountToken: false,
              containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }],
            },
          },
        },
      }),
      app,
    );
  }, 180_000);

  afterAll(async () => {
    if (!hadKubeletConfig)
      await kubectl(['delete', 'configmap', 'kubelet-config', '-n', 'kube-system', '--ignore-not-found']);
  });

  it('plan, apply --plan, report -o json: denied / denied / dnsEgress true', async () => {
    const env = { XDG_STATE_HOME: state };
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await runCli(
      ['plan', '-n', app, '--step', STEP, '--out', dir, '--kubeconfig', kubeconfig],
      {
        env,
      },
    );
    expect([ExitCode.ok, ExitCode.incomplete], planned.stderr).toContain(planned.code);
    const before = await runCli(['report', '-n', app, '-o', 'json', '--kubeconfig', kubeconfig], { env });
    const postureOf = (json: string) =>
      (
        JSON.parse(json) as {
          namespaces: Array<{
            name: string;
            defaultDeny: { ingress: string; egress: string; dnsEgress: unknown };
          }>;
        }
      ).namespaces.find((n) => n.name === app)?.defaultDeny;
    expect(postureOf(before.stdout)).toEqual({ ingress: 'none', egress: 'none', dnsEgress: null });

    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], {
      env,
      timeoutMs: 180_000,
    });
    expect(applied.code, applied.stderr).toBe(ExitCode.ok);
    const names = (await kubectl(['get', 'networkpolicies', '-n', app, '-o', 'name'])).trim().split('\n');
    expect(names).toContain('networkpolicy.networking.k8s.io/kube-harden-default-deny');

    const after = await runCli(['report', '-n', app, '-o', 'json', '--kubeconfig', kubeconfig], { env });
    expect(postureOf(after.stdout), after.stderr).toEqual({
      ingress: 'denied',
      egress: 'denied',
      dnsEgress: true,
    });

    // The local control plane runs no CNI at all: enforcement is unknown, and every output says the policies
    // have no effect yet — the report (JSON and text) and PLAN.md. (Other test files may have left the legacy
    // example's calico-node DaemonSet behind: then the verdict is "enforcing", and no output may say "no effect".)
    const daemonSets = await kubectlJson<{ items: unknown[] }>(['get', 'daemonsets', '-A']);
    const cni = (JSON.parse(after.stdout) as { cni: { status: string; noEffect?: string } }).cni;
    const text = await runCli(['report', '-n', app, '--kubeconfig', kubeconfig], { env });
    const planMd = readFileSync(join(dir, 'PLAN.md'), 'utf8');
    if (daemonSets.items.length === 0) {
      expect(cni.status).toBe('unknown');
      expect(cni.noEffect).toMatch(
        /^NetworkPolicies have no effect yet: the CNI \(unknown\) is not known to enforce/,
      );
      expect(text.stdout.replace(/\s+/g, ' ')).toContain(`! ${cni.noEffect}.`);
      expect(planMd).toContain(`**Why.** WARNING: ${cni.noEffect}.`);
    } else {
      console.log(
        `[network-report] ${daemonSets.items.length} DaemonSet(s) left by other tests: CNI ${cni.status}`,
      );
      expect(cni.noEffect === undefined).toBe(cni.status === 'enforcing');
      expect(planMd.includes('WARNING: NetworkPolicies have no effect yet')).toBe(cni.status !== 'enforcing');
    }
  }, 400_000);
});
