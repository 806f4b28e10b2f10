import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { type Assessment, assess } from '../../../src/policy/assess.js';
import { CONTROLS } from '../../../src/policy/controls.js';
import { renderExceptionsReview, renderReport, SCHEMA_VERSION } from '../../../src/report/index.js';
import { NOW } from '../../fixtures/snapshots/builder.js';
import { sampleExceptions, sampleSnapshot } from '../../fixtures/snapshots/sample.js';

let a: Assessment;
beforeAll(() => {
  a = assess(sampleSnapshot(), { now: NOW, exceptions: sampleExceptions() });
});

const ANSI = /\x1b\[[0-9;]*m/;
const render = (format: 'text' | 'md' | 'json' | 'sarif', opts = {}) =>
  renderReport(a, format, { timestamps: false, ...opts });

describe('text', () => {
  test('file snapshot', async () => {
    await expect(render('text')).toMatchFileSnapshot('__snapshots__/sample.txt');
  });

  test('unknowns are named at the top, before the summary', () => {
    const out = render('text');
    const incomplete = out.indexOf('INCOMPLETE: 1 resource could not be read');
    expect(incomplete).toBeGreaterThan(0);
    expect(incomplete).toBeLessThan(out.indexOf('Summary'));
    expect(out).toContain('! secrets (all namespaces): Forbidden: secrets is forbidden');
  });

  test('groups are sorted by severity, each with a count and its next step', () => {
    const out = render('text');
    const heads = [...out.matchAll(/^(CRITICAL|HIGH|MEDIUM|LOW|INFO) +(KH-[A-Z-]+): /gm)].map((m) => [
      m[1],
      m[2],
    ]);
    const rank = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];
    const ranks = heads.map(([s]) => rank.indexOf(s as string));
    expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
    expect(heads[0]).toEqual(['CRITICAL', 'KH-RBAC-CLUSTER-ADMIN']);
    expect(heads).toHaveLength(17);
    expect(out).toMatch(
      /KH-RBAC-CLUSTER-ADMIN: Binding grants cluster-admin \(or an equivalent\n {9}\*\/\*\/\* role\) \(1\)\n {2}next: Replace the binding/,
    );
  });

  test('readable at 80 columns; wider when asked', () => {
    for (const l of render('text').split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    const wide = render('text', { width: 120 }).split('\n');
    expect(Math.max(...wide.map((l) => l.length))).toBeGreaterThan(80);
    for (const l of wide) expect(l.length).toBeLessThanOrEqual(120);
  });

  test('colour only when asked', () => {
    expect(render('text')).not.toMatch(ANSI);
    const colored = render('text', { color: true });
    expect(colored).toMatch(ANSI);
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe(render('text'));
  });

  test('excepted findings are shown as excepted; exceptions review is listed', () => {
    const out = render('text');
    expect(out).toContain('Excepted (1): reported, not counted as open');
    expect(out).toMatch(
      /KH-PSS-BASELINE DaemonSet monitoring\/node-exporter \[hostNamespaces,\s+hostPorts\]: by\s+node-exporter-host/,
    );
    expect(out).toContain('1 expired, 1 expiring within 30 days, 1 unused');
  });

  test('limit per group', () => {
    const out = render('text', { limit: 1 });
    expect(out).toMatch(/… and \d+ more \(--format json lists all\)/);
  });

  test('generatedAt only with timestamps', () => {
    expect(renderReport(a, 'text')).toContain(`Generated: ${NOW.toISOString()}`);
    expect(render('text')).not.toContain('Generated');
  });
});

describe('markdown', () => {
  test('file snapshot', async () => {
    await expect(render('md')).toMatchFileSnapshot('__snapshots__/sample.md.snap');
  });

  test('tables, severity headings, the incomplete warning; pipes and asterisks escaped', () => {
    const out = render('md');
    expect(out.startsWith('# kube-harden report\n')).toBe(true);
    expect(out).toContain('> [!WARNING]\n> **Incomplete:** 1 resource could not be read.');
    expect(out).toContain(
      '| namespace | tier | enforce | audit | warn | can enforce | target | ingress | egress |',
    );
    expect(out).toContain(
      '| payments | application | restricted:v1.30 | - | - | restricted | restricted | denied | denied, DNS ok |',
    );
    expect(out).toContain(
      '### CRITICAL · KH-RBAC-CLUSTER-ADMIN: Binding grants cluster-admin (or an equivalent \\*/\\*/\\* role) (1)',
    );
    // Every row of a table has as many cells as its header (escaped pipes do not split cells).
    let columns = 0;
    for (const line of out.split('\n')) {
      if (!line.startsWith('|')) {
        columns = 0;
        continue;
      }
      const cells = line.replace(/\\\|/g, '').split('|').length;
      if (columns === 0) columns = cells;
      expect(cells).toBe(columns);
    }
  });
});

describe('json (schemaVersion 1)', () => {
  const json = () => JSON.parse(render('json'));

  test('file snapshot', async () => {
    await expect(render('json')).toMatchFileSnapshot('__snapshots__/sample.json.snap');
  });

  test('the documented top-level shape', () => {
    const j = json();
    expect(j.schemaVersion).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(1);
    expect(Object.keys(j)).toEqual([
      'schemaVersion',
      'source',
      'policyVersion',
      'summary',
      'unknown',
      'namespaces',
      'workloads',
      'findings',
      'controls',
      'registries',
      'cni',
      'exceptions',
    ]);
    expect(j.source).toEqual({
      kind: 'cluster',
      context: 'prod',
      server: 'https://10.0.0.1:6443',
      serverVersion: 'v1.33.2',
    });
    expect(j.policyVersion).toEqual({ requested: 'latest', resolved: 'v1.33', offline: false });
    expect(j.unknown).toEqual([
      {
        resource: 'secrets',
        reason: 'Forbidden',
        message: 'secrets is forbidden: User "viewer" cannot list resource "secrets"',
      },
    ]);
  });

  test('namespaces: tier, PSA labels (null when absent), strictest enforceable, default-deny', () => {
    const byName = Object.fromEntries(json().namespaces.map((n: { name: string }) => [n.name, n]));
    expect(byName.payments).toMatchObject({
      tier: 'application',
      psa: { enforce: { level: 'restricted', version: 'v1.30' }, audit: null, warn: null },
      strictestEnforceable: 'restricted',
      defaultDeny: { ingress: 'denied', egress: 'denied', dnsEgress: true },
    });
    expect(byName.shop).toMatchObject({
      strictestEnforceable: 'privileged',
      defaultDeny: { ingress: 'denied', egress: 'none', dnsEgress: null },
    });
    expect(byName.monitoring.psa.warn).toEqual({ level: 'baseline', version: 'latest' });
  });

  test('workloads and findings', () => {
    const j = json();
    const frontend = j.workloads.find((w: { name: string }) => w.name === 'frontend');
    expect(frontend).toMatchObject({
      kind: 'Deployment',
      namespace: 'shop',
      serviceAccount: 'default',
      automountToken: true,
      images: ['nginx:1.27'],
    });
    expect(frontend.pss.baseline).toEqual({ allowed: true, violations: [] });
    expect(frontend.pss.restricted.violations[0]).toEqual({
      check: 'allowPrivilegeEscalation',
      reason: 'allowPrivilegeEscalation != false',
      detail: 'container "nginx" must set securityContext.allowPrivilegeEscalation=false',
    });
    const f = j.findings[0];
    expect(Object.keys(f)).toEqual(['control', 'severity', 'target', 'message', 'excepted']);
    expect(f).toEqual({
      control: 'KH-RBAC-CLUSTER-ADMIN',
      severity: 'critical',
      target: { kind: 'ClusterRoleBinding', name: 'ci-admin' },
      message: 'grants cluster-admin cluster-wide to ServiceAccount ci/deployer',
      excepted: false,
    });
    expect(j.findings.filter((x: { excepted: boolean }) => x.excepted)).toEqual([
      expect.objectContaining({
        control: 'KH-PSS-BASELINE',
        checks: ['hostNamespaces', 'hostPorts'],
        exceptedBy: ['node-exporter-host'],
      }),
    ]);
  });

  test('generatedAt is the only clock value, and only with timestamps', () => {
    expect(JSON.parse(renderReport(a, 'json')).generatedAt).toBe(NOW.toISOString());
    expect(json().generatedAt).toBeUndefined();
  });

  test('every field name in the output is documented in docs/report-schema.md', () => {
    const doc = readFileSync('docs/report-schema.md', 'utf8');
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          keys.add(k);
          walk(x);
        }
      }
    };
    walk(JSON.parse(renderReport(a, 'json')));
    const missing = [...keys].filter((k) => !doc.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });
});

describe('sarif 2.1.0', () => {
  const sarif = () => JSON.parse(render('sarif'));

  test('file snapshot', async () => {
    await expect(render('sarif')).toMatchFileSnapshot('__snapshots__/sample.sarif');
  });

  test('rules from the control catalog; one result per finding with a logical location', () => {
    const s = sarif();
    expect(s.version).toBe('2.1.0');
    expect(s.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    const run = s.runs[0];
    expect(run.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(CONTROLS.map((c) => c.id));
    expect(run.results).toHaveLength(a.findings.length);
    for (const r of run.results) {
      expect(run.tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
      expect(['error', 'warning', 'note']).toContain(r.level);
    }
    const fqns = run.results.map(
      (r: { locations: Array<{ logicalLocations: Array<{ fullyQualifiedName: string }> }> }) =>
        r.locations[0]?.logicalLocations[0]?.fullyQualifiedName,
    );
    expect(fqns).toContain('ClusterRoleBinding/ci-admin');
    expect(fqns).toContain('shop/Deployment/frontend');
    expect(fqns).toContain('Namespace/shop');
  });

  test('excepted findings are suppressed results; unknowns are error notifications', () => {
    const run = sarif().runs[0];
    const suppressed = run.results.filter((r: { suppressions?: unknown }) => r.suppressions);
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0].suppressions).toEqual([
      { kind: 'external', status: 'accepted', justification: 'kube-harden exception node-exporter-host' },
    ]);
    expect(run.invocations[0].toolExecutionNotifications).toEqual([
      {
        level: 'error',
        message: {
          text: 'could not read secrets (Forbidden): secrets is forbidden: User "viewer" cannot list resource "secrets"',
        },
      },
    ]);
    expect(run.results.find((r: { ruleId: string }) => r.ruleId === 'KH-RBAC-CLUSTER-ADMIN').level).toBe(
      'error',
    );
  });
});

test('every format is deterministic', () => {
  for (const format of ['text', 'md', 'json', 'sarif'] as const) {
    const again = assess(sampleSnapshot(), { now: NOW, exceptions: sampleExceptions() });
    expect(renderReport(again, format, { timestamps: false })).toBe(render(format));
  }
});

test('an unknown format is a bug', () => {
  expect(() => renderReport(a, 'xml' as 'json')).toThrow(TypeError);
});

test('control characters from the cluster cannot drive the terminal', () => {
  const snap = sampleSnapshot();
  const evil = snap.workloads.find((w) => w.name === 'importer');
  const c = evil?.template?.spec.containers[0];
  if (!c) throw new Error('fixture changed');
  c.image = 'evil\x1b[2J\rimage:latest';
  snap.unknown.push({ resource: 'pods', namespace: 'x', reason: 'Error', message: 'boom\x1b]0;title\x07' });
  const x = assess(snap, { now: NOW });
  for (const format of ['text', 'md'] as const) {
    const out = renderReport(x, format, { timestamps: false });
    expect(out).not.toMatch(/[\x00-\x08\x0e-\x1f\x7f]/);
    // Markdown escapes the backslash too, so that it renders as written.
    expect(out).toContain(format === 'text' ? 'evil\\x1b[2J' : 'evil\\\\x1b[2J');
  }
});

describe('exceptions review', () => {
  test('text: expired, expiring and unused, each with owner, ticket and line', () => {
    const out = renderExceptionsReview(a.exceptions, 'text');
    expect(out).toBe(`Exceptions review: exceptions.yaml
3 exceptions: 1 expired, 1 expiring within 30 days, 1 unused

Expired (cover nothing; each is a KH-EXCEPTION-EXPIRED finding)
  - frontend-root (line 11): Deployment shop/frontend (container nginx);
    runAsNonRoot; owner team-shop; expired 2025-01-31 (486 days ago)

Expiring within 30 days
  - node-exporter-host (line 4): DaemonSet monitoring/node-exporter;
    hostNamespaces, hostPorts; owner team-observability, ticket OBS-142; expires
    2026-06-10 (in 9 days)

Unused (cover nothing in this cluster)
  - gone (line 17): CronJob shop/etl; hostPathVolumes; owner team-data; expires
    2027-01-01 (in 214 days)
`);
  });

  test('json and md', () => {
    const j = JSON.parse(renderExceptionsReview(a.exceptions, 'json'));
    expect(j).toMatchObject({
      schemaVersion: 1,
      file: 'exceptions.yaml',
      expired: ['frontend-root'],
      expiring: ['node-exporter-host'],
      unused: ['gone'],
    });
    const md = renderExceptionsReview(a.exceptions, 'md');
    expect(md).toContain(
      '## Expired (cover nothing; each is a KH-EXCEPTION-EXPIRED finding)\n\n- frontend-root (line 11)',
    );
  });

  test('nothing to review', () => {
    expect(
      renderExceptionsReview({ within: 14, entries: [], expired: [], expiring: [], unused: [] }, 'text'),
    ).toContain('Nothing to review.');
  });
});
