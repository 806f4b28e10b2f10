/**
 * The wizard end to end: the real binary (bin/kube-harden.js → dist/) in a real pseudo-terminal (tmux), against
 * the real control plane. The operator's keys go in with `tmux send-keys`, the screen comes back with
 * `tmux capture-pane`, and the cluster is checked with kubectl as the admin — an oracle independent of the
 * wizard's own client.
 *
 * With KUBE_HARDEN_SCREENS_DIR set, every screen reached is also written there as text
 * (scripts/capture-screens.sh regenerates docs/screens/ that way).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo, describeCluster, freshNamespace, kubectl, kubectlJson } from '../cluster/harness.js';
import { repoRoot } from '../support/cli.js';
import { ensureBuilt, Terminal } from '../support/tmux.js';

const SCREENS = process.env.KUBE_HARDEN_SCREENS_DIR;

/**
 * A TCP pass-through in front of the API server (TLS stays end to end). `slowMs` holds every chunk the client
 * sends for that long: applying becomes slow enough to press Ctrl-C while a change is in flight.
 */
class SlowProxy {
  slowMs = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: this.host, port: this.targetPort });
      this.sockets.add(client);
      this.sockets.add(upstream);
      let queue = Promise.resolve();
      client.on('data', (chunk) => {
        const delay = this.slowMs;
        queue = queue.then(
          () =>
            new Promise<void>((resolve) => {
              setTimeout(() => {
                upstream.write(chunk);
                resolve();
              }, delay);
            }),
        );
      });
      upstream.pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  stop(): void {
    for (const s of this.sockets) s.destroy();
    this.server?.close();
  }
}

interface NamespaceJson {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

const labelsOf = async (ns: string) =>
  (await kubectlJson<NamespaceJson>(['get', 'namespace', ns])).metadata.labels ?? {};

describeCluster('wizard end to end in tmux', () => {
  let state: string;
  const terminals: Terminal[] = [];
  const proxies: SlowProxy[] = [];

  beforeAll(() => {
    ensureBuilt();
    state = mkdtempSync(join(tmpdir(), 'kh-wizard-state-'));
  });

  afterAll(() => {
    for (const t of terminals) t.stop();
    for (const p of proxies) p.stop();
  });

  function terminal(): Terminal {
    const t = new Terminal({ XDG_STATE_HOME: state, TERM: 'xterm-256color' });
    terminals.push(t);
    return t;
  }

  it('connect, open warn/audit for one namespace, read the diff, confirm, then undo from the wizard', async () => {
    const c = clusterInfo();
    // Given a namespace with a Pod that runs as root (the API server will say what enforcing would break)
    const ns = await freshNamespace('wizard');
    await kubectl([
      'run',
      'root-pod',
      '--namespace',
      ns,
      '--image=registry.k8s.io/pause:3.10',
      '--restart=Never',
    ]);
    const t = terminal();
    t.start(['--kubeconfig', c.adminKubeconfig, '-n', ns]);

    // Connect: context, server version, who I am, what was listed, the permission preflight per phase
    let screen = await t.capture('connect', 'Press Enter to continue');
    expect(screen).toContain('context  admin');
    expect(screen).toContain(`version  ${c.version}`);
    expect(screen).toMatch(/user {5}admin {2}\(groups: .*system:masters/);
    expect(screen).toMatch(/✓ listed 1 pod and 1 workload in 1 namespace/);
    expect(screen).toMatch(/phase 1 {2}Pod Security warn \+ audit +✓ patch namespaces/);

    // Phases: phase 1 recommended
    await t.keys('Enter');
    screen = await t.capture('phases', 'PHASE', 'STATUS');
    expect(screen).toMatch(/★ 1 Pod Security warn \+ audit/);

    // Phase 1 detail, then its changes for this one namespace
    await t.keys('Down', 'Enter');
    screen = await t.capture('phase-detail', 'Phase 1 · Pod Security warn + audit');
    await t.keys('p');
    screen = await t.capture('changes', 'Phase 1 changes · 1 change', `namespace/${ns}`);
    expect(screen).toContain('preview: server-side dry-run');

    // The diff: exactly the labels, with the API server's own words about today's pods above it
    await t.keys('Enter');
    screen = await t.capture('diff', `namespace/${ns} · update · risk low`, `--- live/v1/Namespace/${ns}`);
    expect(screen).toContain('• note: if this level were enforced today, the API server would say');
    expect(screen).toMatch(/\+ {4}pod-security\.kubernetes\.io\/audit: restricted/);
    expect((await labelsOf(ns))['pod-security.kubernetes.io/warn']).toBeUndefined();

    // Select it and confirm (low risk: y/N)
    await t.keys('Escape', 'Space', 'c');
    screen = await t.capture('confirm', `Apply 1 change of phase 1 to context "admin"`, 'Apply? [y/N]');
    await t.keys('Enter');
    await t.waitFor('not confirmed: nothing was changed');
    expect((await labelsOf(ns))['pod-security.kubernetes.io/warn']).toBeUndefined();
    await t.keys('c');
    await t.waitFor('Apply? [y/N]');
    await t.keys('y');
    screen = await t.capture('summary', 'complete — 1 of 1 change applied');
    const runId = /Run (\S+): complete/.exec(screen)?.[1] as string;
    expect(runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]+$/);
    expect(screen.replace(/\n\s+/g, ' ')).toContain(
      `kube-harden undo ${runId} --kubeconfig ${c.adminKubeconfig} --context admin`,
    );

    // Then the cluster has the labels (read with the admin client)
    const labels = await labelsOf(ns);
    expect(labels['pod-security.kubernetes.io/warn']).toBe('restricted');
    expect(labels['pod-security.kubernetes.io/audit']).toBe('restricted');
    expect(labels['pod-security.kubernetes.io/warn-version']).toMatch(/^v1\.\d+$/);
    expect(labels['app.kubernetes.io/managed-by']).toBe('kube-harden');
    expect(labels['pod-security.kubernetes.io/enforce']).toBeUndefined();

    // Undo from the wizard: preview, y, then the labels are gone
    await t.keys('u');
    screen = await t.capture('undo', `Undo run ${runId} on context admin: 1 object to change`, '[y/N]');
    expect(screen).toMatch(new RegExp(`restore +namespace/${ns}: restore the fields the run changed`));
    await t.keys('y');
    screen = await t.capture('undone', `Run ${runId}: undone`);
    const after = await labelsOf(ns);
    expect(Object.keys(after).filter((k) => k.startsWith('pod-security.kubernetes.io/'))).toEqual([]);
    expect(after['app.kubernetes.io/managed-by']).toBeUndefined();
    expect(
      (await kubectlJson<NamespaceJson>(['get', 'namespace', ns])).metadata.annotations ?? {},
    ).not.toHaveProperty('kube-harden.io/run-id');

    // The runs list knows it was undone; q quits with 0
    await t.keys('Enter');
    await t.waitFor('PHASE');
    await t.keys('r');
    screen = await t.capture('runs', 'STARTED', runId);
    expect(screen).toMatch(new RegExp(`${runId} .*undone`));
    await t.keys('q');
    await t.waitFor('EXIT=0');
  });

  it('a disruptive phase needs the context name typed; Ctrl-C stops after the change in flight', async (ctx) => {
    const c = clusterInfo();
    if (c.kind !== 'local') ctx.skip();
    // Given three empty namespaces, reached through a proxy that can slow the API server down
    const names = [
      await freshNamespace('wiz-a'),
      await freshNamespace('wiz-b'),
      await freshNamespace('wiz-c'),
    ];
    const url = new URL(c.server);
    const proxy = new SlowProxy(url.hostname, Number(url.port));
    proxies.push(proxy);
    await proxy.start();
    const kubeconfig = join(state, 'proxy.kubeconfig');
    writeFileSync(
      kubeconfig,
      readFileSync(c.adminKubeconfig, 'utf8').replaceAll(c.server, `https://127.0.0.1:${proxy.port}`),
    );
    const t = terminal();
    t.start(['--kubeconfig', kubeconfig, ...names.flatMap((n) => ['-n', n])]);
    await t.waitFor('Press Enter to continue');
    await t.keys('Enter');
    await t.waitFor('PHASE');
    await t.keys('Down', 'Down', 'p');
    await t.waitFor('Phase 2 changes · 3 changes');
    await t.keys('a', 'c');
    let screen = await t.capture('confirm-typed', 'Type the context name "admin" to confirm');
    expect(screen).toContain('3 changes are disruptive');
    await t.type('adm');
    await t.keys('Enter');
    await t.waitFor('"adm" is not "admin": nothing was applied');
    for (const n of names) expect((await labelsOf(n))['pod-security.kubernetes.io/enforce']).toBeUndefined();

    // When the operator types the name and the first change is in flight on a slow server
    await t.type('in');
    proxy.slowMs = 1500;
    await t.keys('Enter');
    screen = await t.capture(
      'applying',
      /in flight +namespace\/kh-wiz-a/,
      'Ctrl-C stops after the change in flight',
    );
    // Then the first Ctrl-C stops after it
    await t.keys('C-c');
    await t.waitFor('stopping after the change in flight');
    proxy.slowMs = 0;
    screen = await t.capture('summary-interrupted', /interrupted — 1 of 3 changes applied/);
    expect(screen).toMatch(/· skipped +namespace\/kh-wiz-b-\w+: interrupted/);
    const enforced = await Promise.all(
      names.map(async (n) => (await labelsOf(n))['pod-security.kubernetes.io/enforce']),
    );
    expect(enforced).toEqual(['restricted', undefined, undefined]);

    // Undo what was applied, then quit
    await t.keys('u');
    await t.waitFor('[y/N]');
    await t.keys('y');
    await t.waitFor('undone');
    expect((await labelsOf(names[0] as string))['pod-security.kubernetes.io/enforce']).toBeUndefined();
    await t.keys('q');
    await t.waitFor('EXIT=0');
  });
});

describe('wizard end to end in tmux, offline', () => {
  const terminals: Terminal[] = [];
  afterAll(() => {
    for (const t of terminals) t.stop();
  });

  it('on a manifest source: filters, help, and --out writes remediated manifests', async () => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'kh-wizard-offline-'));
    const out = join(dir, 'hardened');
    const t = new Terminal({ XDG_STATE_HOME: dir, TERM: 'xterm-256color' });
    terminals.push(t);
    t.start(['--manifests', 'examples/legacy-cluster', '--out', out]);
    await t.capture('connect-offline', 'Press Enter to continue');
    await t.keys('Enter');
    await t.waitFor('PHASE');
    await t.keys('?');
    await t.capture('help', 'Keys: Phases');
    await t.keys('Escape', 'Enter');
    await t.capture('phase0', 'Phase 0 · Inventory privilege exceptions');
    await t.keys('n');
    await t.waitFor('Filter by namespace');
    for (let i = 0; i < 6; i++) await t.keys('Down');
    const picker = await t.capture('filter-picker', /› {3}legacy-batch/);
    expect(picker).toContain('every namespace (103)');
    await t.keys('Enter');
    const filtered = await t.capture('phase0-filtered', 'namespace: legacy-batch');
    // At 80 columns the filter line is cut after `of 1` (three digits): the total is the picker's 103 above.
    expect(filtered).toMatch(/ \d+ of 1(03|…)/);
    await t.keys('Escape', 'Down', 'p');
    await t.waitFor('Phase 1 changes · 8 changes');
    await t.keys('a', 'c');
    await t.capture('confirm-offline', 'Write? [y/N]');
    await t.keys('y');
    const summary = await t.capture('summary-offline', 'Wrote 8 changes', 'rm -r --');
    expect(summary).toContain('The source manifests were not modified');
    expect(readFileSync(join(out, 'shop', '00-namespace.yaml'), 'utf8')).toContain(
      'pod-security.kubernetes.io/warn: restricted',
    );
    await t.keys('q');
    await t.waitFor('EXIT=0');
  });

  it('without a terminal it exits 2 with a one-line hint (and so it does in CI)', async () => {
    ensureBuilt();
    const bin = join(repoRoot, 'bin', 'kube-harden.js');
    const piped = spawnSync(process.execPath, [bin], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    expect(piped.status).toBe(2);
    expect(piped.stderr.trim().split('\n')).toHaveLength(1);
    expect(piped.stderr).toContain('kube-harden report');
    if (SCREENS)
      writeFileSync(join(SCREENS, 'no-terminal.txt'), `$ kube-harden < /dev/null\n${piped.stderr}`);
  });
});
