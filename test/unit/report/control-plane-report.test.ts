/**
 * Phase 6 in `kube-harden report` (issue 14): the report shows what the audit-logging and secrets-encryption steps
 * find — audit off or without a policy, not shipped, unbounded rotation, encryption off, a public API server
 * endpoint, anonymous auth, profiling — from the same function, in every format, offline (static pod manifests)
 * and live; what cannot be seen is unknown, never off; a live report whose kube-system pods could not be listed
 * is incomplete (exit 7).
 */
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../../src/cli.js';
import type { StepContext } from '../../../src/engine/types.js';
import { ExitCode } from '../../../src/errors.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import { assess } from '../../../src/policy/assess.js';
import { renderReport } from '../../../src/report/index.js';
import { auditLogging } from '../../../steps/audit-logging.js';
import { secretsEncryption } from '../../../steps/secrets-encryption.js';
import { NOW, snapshot } from '../../fixtures/snapshots/builder.js';
import { CONTROL_PLANE_FIXTURES, fixtureFacts, networkWith } from '../../support/control-plane.js';

afterEach(() => vi.restoreAllMocks());

const PHASE6 = /^KH-(AUDIT|ENCRYPTION|APISERVER)-/;
const phase6 = (controls: string[]) => controls.filter((c) => PHASE6.test(c)).sort();

async function report(dir: string, format: string) {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  const code = await main(['report', '--manifests', path.join(CONTROL_PLANE_FIXTURES, dir), '-o', format]);
  vi.restoreAllMocks();
  return { code, out, err };
}

const live = (extra: Partial<Snapshot>) =>
  snapshot({
    source: { kind: 'cluster', context: 'prod', server: 'https://10.0.0.1:6443' },
    network: networkWith(),
    serverVersion: { major: 1, minor: 31, gitVersion: 'v1.31.4' },
    ...extra,
  });

async function stepControls(snap: Snapshot): Promise<string[]> {
  const ctx: StepContext = {
    snapshot: snap,
    assessment: assess(snap, { now: NOW }),
    reader: {} as StepContext['reader'],
    options: { namespaces: [], exclude: [], settings: {}, now: NOW },
    signal: new AbortController().signal,
  };
  const a = await auditLogging.detect(ctx);
  const e = await secretsEncryption.detect(ctx);
  return [...a.findings, ...e.findings].map((f) => f.control);
}

describe('report --manifests on kubeadm static pod manifests', () => {
  test('kubeadm defaults: audit off, encryption off, public endpoint, anonymous auth and profiling, in every format (exit 0)', async () => {
    const json = await report('kubeadm-default', 'json');
    expect(json.code, json.err).toBe(ExitCode.ok);
    const r = JSON.parse(json.out);
    expect(phase6(r.findings.map((f: { control: string }) => f.control))).toEqual([
      'KH-APISERVER-ANONYMOUS',
      'KH-APISERVER-PROFILING',
      'KH-APISERVER-PUBLIC',
      'KH-APISERVER-PUBLIC',
      'KH-AUDIT-OFF',
      'KH-ENCRYPTION-OFF',
    ]);
    expect(r.controlPlane).toMatchObject({
      platform: 'kubeadm',
      visible: true,
      audit: { state: 'off' },
      encryption: { state: 'off' },
      anonymousAuth: 'enabled',
      profiling: 'enabled',
    });
    expect(r.unknown).toEqual([]);
    // Every field of the section is documented (docs/report-schema.md).
    const doc = await fs.readFile('docs/report-schema.md', 'utf8');
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          keys.add(k);
          walk(x);
        }
    };
    walk({ controlPlane: r.controlPlane });
    expect([...keys].filter((k) => !doc.includes(`\`${k}\``))).toEqual([]);

    const text = await report('kubeadm-default', 'text');
    expect(text.out).toContain('CONTROL PLANE (phase 6)');
    expect(text.out).toMatch(/audit logging: off/);
    expect(text.out).toMatch(/encryption at rest: off: Secrets are stored in plaintext/);
    expect(text.out).toContain('KH-AUDIT-OFF');
    expect(text.out).toContain('203.0.113.10 (PUBLIC)');
    const md = await report('kubeadm-default', 'md');
    expect(md.out).toContain('## Control plane (phase 6)');
    expect(md.out).toContain('KH-ENCRYPTION-OFF');
    const sarif = JSON.parse((await report('kubeadm-default', 'sarif')).out);
    const ruleIds = sarif.runs[0].results.map((x: { ruleId: string }) => x.ruleId);
    expect(ruleIds).toEqual(
      expect.arrayContaining(['KH-AUDIT-OFF', 'KH-ENCRYPTION-OFF', 'KH-APISERVER-PUBLIC']),
    );
  });

  test('after phase 6 (flags in place, a log shipper): no phase-6 finding, the section says on', async () => {
    const json = await report('kubeadm-hardened', 'json');
    expect(json.code, json.err).toBe(ExitCode.ok);
    const r = JSON.parse(json.out);
    expect(phase6(r.findings.map((f: { control: string }) => f.control))).toEqual([]);
    expect(r.controlPlane).toMatchObject({
      audit: { state: 'on', shipping: 'shipper' },
      encryption: { state: 'on' },
      anonymousAuth: 'disabled',
      profiling: 'disabled',
    });
  });

  test('a manifests directory without a control plane: unknown (a finding, not an incomplete report)', async () => {
    const dir = await fs.mkdtemp(path.join(tmpdir(), 'kh-cp-report-'));
    await fs.writeFile(
      path.join(dir, 'ns.yaml'),
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n',
    );
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(['report', '--manifests', dir, '-o', 'json']);
    vi.restoreAllMocks();
    expect(code).toBe(ExitCode.ok);
    const r = JSON.parse(out);
    expect(phase6(r.findings.map((f: { control: string }) => f.control))).toEqual([
      'KH-AUDIT-UNKNOWN',
      'KH-ENCRYPTION-UNKNOWN',
    ]);
    expect(r.controlPlane).toMatchObject({ visible: false, audit: { state: 'unknown' } });
  });
});

describe('the report and the steps say the same (one source of truth)', () => {
  const cases: Array<[string, Snapshot]> = [
    ['kubeadm defaults', live({ controlPlaneFacts: fixtureFacts('kubeadm-default') })],
    [
      'kubeadm hardened, shipper running',
      live({
        controlPlaneFacts: fixtureFacts('kubeadm-hardened'),
        network: networkWith([
          {
            namespace: 'logging',
            name: 'fluent-bit',
            containers: [{ name: 'fb', image: 'fluent/fluent-bit:3' }],
          },
        ] as never),
      }),
    ],
    ['invisible', live({ controlPlaneFacts: { apiServers: [], nodes: [], loadBalancers: [] } })],
    [
      'EKS',
      live({
        serverVersion: { major: 1, minor: 31, gitVersion: 'v1.31.2-eks-7f9249a' },
        controlPlaneFacts: { apiServers: [], nodes: [], loadBalancers: [] },
      }),
    ],
  ];
  test.each(cases)('%s', async (_, snap) => {
    const fromReport = phase6(assess(snap, { now: NOW }).findings.map((f) => f.control));
    expect(fromReport).toEqual(phase6(await stepControls(snap)));
  });
});

describe('live snapshots', () => {
  test('nothing to see (every read succeeded): KH-AUDIT-UNKNOWN and KH-ENCRYPTION-UNKNOWN, never OFF; complete (no read failed)', () => {
    const a = assess(live({ controlPlaneFacts: { apiServers: [], nodes: [], loadBalancers: [] } }), {
      now: NOW,
    });
    const controls = a.findings.map((f) => f.control);
    expect(phase6(controls)).toEqual(['KH-AUDIT-UNKNOWN', 'KH-ENCRYPTION-UNKNOWN']);
    // Unknown is not compliant: open, high, and never excepted.
    for (const f of a.findings.filter((x) => x.control.endsWith('-UNKNOWN') && PHASE6.test(x.control)))
      expect(f).toMatchObject({ severity: 'high', excepted: false });
    expect(a.unknown).toEqual([]);
    const text = renderReport(a, 'text', { timestamps: false });
    expect(text).toContain('the API server flags are not visible through the API');
    expect(text).not.toMatch(/audit logging: off/);
    expect(text).toMatch(/audit logging: unknown/);
  });

  test('the kube-system pods could not be listed: pods@kube-system is unknown (exit 7), with a KH-UNKNOWN finding', () => {
    const a = assess(
      live({
        controlPlaneFacts: {
          apiServers: [],
          apiServersUnreadable: true,
          apiServersError: { reason: 'Forbidden', message: 'pods is forbidden' },
          nodes: [],
          loadBalancers: [],
        },
      }),
      { now: NOW },
    );
    expect(a.unknown).toEqual([
      {
        resource: 'pods',
        namespace: 'kube-system',
        reason: 'Forbidden',
        message: expect.stringContaining('audit logging and encryption at rest are unknown'),
      },
    ]);
    expect(a.summary.unknown).toBe(1);
    expect(a.findings.filter((f) => f.control === 'KH-UNKNOWN')).toHaveLength(1);
    expect(phase6(a.findings.map((f) => f.control))).toEqual(['KH-AUDIT-UNKNOWN', 'KH-ENCRYPTION-UNKNOWN']);
  });

  test('kube-system pods unreadable and already unknown (pods@*): no second entry', () => {
    const a = assess(
      live({
        controlPlaneFacts: { apiServers: [], apiServersUnreadable: true, nodes: [], loadBalancers: [] },
        unknown: [{ resource: 'pods', reason: 'Forbidden', message: 'forbidden' }],
      }),
      { now: NOW },
    );
    expect(a.unknown.map((u) => u.resource)).toEqual(['pods']);
    expect(a.findings.filter((f) => f.control === 'KH-UNKNOWN')).toHaveLength(1);
    expect(phase6(a.findings.map((f) => f.control))).toEqual(['KH-AUDIT-UNKNOWN', 'KH-ENCRYPTION-UNKNOWN']);
  });

  test('audit log kept on the node, unbounded before 1.36; a public LoadBalancer in kube-system', () => {
    const facts = fixtureFacts('kubeadm-default');
    const server = facts.apiServers[0];
    if (!server) throw new Error('fixture');
    server.flags.push(
      '--audit-policy-file=/etc/kubernetes/audit-policy.yaml',
      '--audit-log-path=/var/log/a.log',
    );
    facts.loadBalancers = [{ namespace: 'kube-system', name: 'apiserver-lb', addresses: ['198.51.100.7'] }];
    const a = assess(live({ controlPlaneFacts: facts }), { now: NOW });
    const msgs = a.findings.filter((f) => PHASE6.test(f.control)).map((f) => `${f.control} ${f.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^KH-AUDIT-NOT-SHIPPED the audit log \(\/var\/log\/a\.log\)/),
        expect.stringMatching(/^KH-AUDIT-ROTATION /),
        expect.stringMatching(
          /^KH-APISERVER-PUBLIC LoadBalancer Service kube-system\/apiserver-lb is 198\.51\.100\.7/,
        ),
      ]),
    );
    expect(msgs.some((m) => m.startsWith('KH-AUDIT-OFF'))).toBe(false);
    // The kubeconfig server (10.0.0.1) is private: no finding for it.
    expect(msgs.some((m) => m.includes('kubeconfig server'))).toBe(false);
    // 1.36 rotates by default: no rotation finding.
    const v136 = assess(
      live({
        controlPlaneFacts: facts,
        serverVersion: { major: 1, minor: 36, gitVersion: 'v1.36.0' },
      }),
      { now: NOW },
    );
    expect(v136.findings.map((f) => f.control)).not.toContain('KH-AUDIT-ROTATION');
  });

  test('a public kubeconfig server and default/kubernetes endpoint', () => {
    const network = networkWith();
    network.apiServer = {
      endpointSlices: [{ name: 'kubernetes', endpoints: [{ addresses: ['34.1.2.3'] }] }],
    } as never;
    const a = assess(
      live({
        source: { kind: 'cluster', context: 'prod', server: 'https://35.9.9.9' },
        network,
        controlPlaneFacts: { apiServers: [], nodes: [], loadBalancers: [] },
      }),
      { now: NOW },
    );
    const pub = a.findings.filter((f) => f.control === 'KH-APISERVER-PUBLIC').map((f) => f.message);
    expect(pub.sort()).toEqual([
      expect.stringContaining('default/kubernetes endpoints is 34.1.2.3'),
      expect.stringContaining('kubeconfig server is 35.9.9.9'),
    ]);
  });
});
