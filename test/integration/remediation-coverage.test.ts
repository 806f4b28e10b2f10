/**
 * Remediation coverage, judged by the real API server: `plan --step psa-migrate --out DIR` on the two legacy
 * examples, then every workload of DIR/remediated/ is created by server-side dry-run in namespaces that enforce
 * restricted (and its tier's level): a Pod is refused when it violates the level, a workload resource gets the
 * API server's "would violate PodSecurity" warning. Every workload either passes, or is named in PLAN.md with its
 * reason; and no field outside the securityContexts (and the /tmp volume with its mounts) changed — checked with a
 * structural diff of each object before and after.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { parseExceptions } from '../../src/policy/exceptions.js';
import { classifyNamespace, TIER_TARGET_LEVEL } from '../../src/policy/tiers.js';
import {
  applyYaml,
  clusterInfo,
  describeCluster,
  freshNamespace,
  kubectlJson,
  kubectlRaw,
  waitFor,
} from '../cluster/harness.js';
import { repoRoot, runCli } from '../support/cli.js';
import {
  admitted as admittedBy,
  allowedPath,
  judgeNamespaces,
  keyOf,
  load,
  type Obj,
  structuralDiff,
  TEMPLATE,
} from '../support/remediation-judge.js';

interface Case {
  example: string;
  exceptions?: string;
  /** The choices given to the plan (e.g. --run-as-user). */
  args: string[];
  workloads: number;
  /** Workloads that pass restricted after the fix (measured; the README quotes these). */
  passRestricted: number;
  /** Containers kept as root (`NS/KIND/NAME/CONTAINER`): the exception draft must hold exactly these. */
  keptRoot?: string[];
}

const CASES: Case[] = [
  {
    example: 'examples/legacy-cluster',
    exceptions: 'examples/legacy-cluster-exceptions.yaml',
    args: [],
    workloads: 17,
    passRestricted: 7,
  },
  {
    example: 'examples/legacy-cluster',
    exceptions: 'examples/legacy-cluster-exceptions.yaml',
    args: ['--run-as-user', '65532', '--run-as-user', 'shop/frontend=keep-root'],
    workloads: 17,
    passRestricted: 9,
    keptRoot: ['shop/Deployment/frontend/nginx'],
  },
  { example: 'examples/legacy-apps', args: [], workloads: 13, passRestricted: 6 },
  {
    example: 'examples/legacy-apps',
    args: ['--run-as-user', '65532', '--run-as-user', 'orders/web=keep-root'],
    workloads: 13,
    passRestricted: 8,
    keptRoot: ['orders/Deployment/web/nginx'],
  },
  {
    // The explicit choice to go past the infrastructure tier's level: kube-state-metrics (non-root, no capability
    // added) gets drop ALL; the agents that hold capabilities or run as root keep them.
    example: 'examples/legacy-apps',
    args: ['--target', 'restricted', '--run-as-user', '65532', '--run-as-user', 'orders/web=keep-root'],
    workloads: 13,
    passRestricted: 9,
    keptRoot: ['orders/Deployment/web/nginx'],
  },
];

describeCluster('remediation coverage (real API server)', () => {
  let judges: Record<'restricted' | 'baseline', string>;

  beforeAll(async () => {
    judges = await judgeNamespaces(freshNamespace);
  });

  const admitted = (o: Obj, level: 'restricted' | 'baseline' | 'privileged') => admittedBy(judges, o, level);

  it('the structural diff sees what the fix must never touch (ports, probes, replicas, resources, other volumes)', () => {
    const before = {
      kind: 'Deployment',
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              { name: 'web', ports: [{ containerPort: 80 }], readinessProbe: { periodSeconds: 5 } },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    };
    const edit = (f: (t: typeof before) => void) => {
      const copy = JSON.parse(JSON.stringify(before)) as typeof before;
      f(copy);
      return structuralDiff(before, copy).filter((p) => !allowedPath('Deployment', p));
    };
    const web = (t: typeof before) => t.spec.template.spec.containers[0] as Record<string, unknown>;
    expect(edit((t) => Object.assign(web(t), { ports: [{ containerPort: 8080 }] }))).toEqual([
      'spec.template.spec.containers[web].ports[0].containerPort',
    ]);
    expect(edit((t) => Object.assign(web(t), { readinessProbe: { periodSeconds: 10 } }))).toHaveLength(1);
    expect(edit((t) => Object.assign(t.spec, { replicas: 1 }))).toEqual(['spec.replicas']);
    expect(edit((t) => Object.assign(web(t), { resources: { limits: { cpu: '1' } } }))).toHaveLength(1);
    expect(edit((t) => t.spec.template.spec.volumes.push({ name: 'cache', emptyDir: {} }))).toHaveLength(1);
    expect(edit((t) => t.spec.template.spec.volumes.unshift({ name: 'cache', emptyDir: {} }))).toEqual([
      'spec.template.spec.volumes[cache]',
    ]);
    // What the fix may change.
    expect(
      edit((t) => {
        Object.assign(web(t), {
          securityContext: { runAsNonRoot: true },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        });
        t.spec.template.spec.volumes.push({ name: 'tmp', emptyDir: {} });
      }),
    ).toEqual([]);
  });

  it('live: a bare Pod gets a manual, disruptive re-create whose exact commands, run as written, give a Pod that passes restricted', async () => {
    const ns = await freshNamespace('cov-recreate');
    await applyYaml(
      `apiVersion: v1
kind: Pod
metadata: {name: debug}
spec:
  containers:
  - {name: shell, image: registry.example.com/tools/shell:1.0, command: [sleep, "3600"], ports: [{containerPort: 8080}]}
`,
      ns,
    );
    const before = await kubectlJson<Obj & { metadata: { uid: string } }>(['get', 'pod', 'debug', '-n', ns]);
    const out = mkdtempSync(join(tmpdir(), 'kh-recreate-'));
    const { adminKubeconfig, kubectl: kubectlBin } = clusterInfo();
    const r = await runCli(['migrate', '-n', ns, '--out', out, '--kubeconfig', adminKubeconfig], {
      env: { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'kh-state-')) },
    });
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as {
      changes: Array<{ id: string; kind: string; risk: string; instructions?: string }>;
    };
    const change = plan.changes.find((c) => c.id === `psa-migrate/pod/${ns}/debug/recreate`);
    expect(change).toMatchObject({ kind: 'manual', risk: 'disruptive' });
    // The commands exactly as PLAN.md gives them, with `kubectl` pointing at the test cluster.
    const commands = /```sh\n([\s\S]*?)\n```/.exec(change?.instructions ?? '')?.[1] ?? '';
    expect(commands).toContain('kubectl replace --force');
    const work = mkdtempSync(join(tmpdir(), 'kh-recreate-work-'));
    const file = `pod-${ns}-debug.patch.yaml`;
    copyFileSync(join(out, 'artifacts', 'psa-migrate', file), join(work, file));
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'kubectl'),
      `#!/bin/sh\nexec ${JSON.stringify(kubectlBin)} --kubeconfig=${JSON.stringify(adminKubeconfig)} "$@"\n`,
      { mode: 0o755 },
    );
    execFileSync('bash', ['-euo', 'pipefail', '-c', commands], {
      cwd: work,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      stdio: 'pipe',
      timeout: 120_000,
    });
    const after = await kubectlJson<Obj & { metadata: { uid: string }; spec: Record<string, unknown> }>([
      'get',
      'pod',
      'debug',
      '-n',
      ns,
    ]);
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const shell = (after.spec.containers as Array<Record<string, unknown>>)[0];
    expect(shell?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(shell?.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    const enforce = await kubectlRaw([
      'label',
      '--dry-run=server',
      'namespace',
      ns,
      'pod-security.kubernetes.io/enforce=restricted',
    ]);
    expect(enforce.exitCode, enforce.stderr).toBe(0);
    expect(enforce.stderr).not.toContain('violate');
  });

  it('live: a Job gets a manual, disruptive re-create whose exact commands, run as written, give a Job the API server accepts and whose pods are admitted under enforce=restricted; its undo line re-creates the old Job', async () => {
    const ns = await freshNamespace('cov-job');
    await applyYaml(
      `apiVersion: batch/v1
kind: Job
metadata: {name: report}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: report, image: registry.example.com/tools/report:1.0, command: [sleep, "3600"], resources: {requests: {cpu: 10m}}}
`,
      ns,
    );
    type Job = Obj & {
      metadata: { uid: string; labels?: Record<string, string> };
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: { spec: Record<string, unknown> };
      };
    };
    const before = await kubectlJson<Job>(['get', 'job', 'report', '-n', ns]);
    const out = mkdtempSync(join(tmpdir(), 'kh-recreate-job-'));
    const { adminKubeconfig, kubectl: kubectlBin } = clusterInfo();
    const r = await runCli(['migrate', '-n', ns, '--out', out, '--kubeconfig', adminKubeconfig], {
      env: { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'kh-state-')) },
    });
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as {
      changes: Array<{ id: string; kind: string; risk: string; instructions?: string }>;
    };
    const change = plan.changes.find((c) => c.id === `psa-migrate/job/${ns}/report/recreate`);
    expect(change).toMatchObject({ kind: 'manual', risk: 'disruptive' });
    const commands = /```sh\n([\s\S]*?)\n```/.exec(change?.instructions ?? '')?.[1] ?? '';
    expect(commands).not.toContain('#');
    const undo = /To undo: `([^`]+)`/.exec(change?.instructions ?? '')?.[1] ?? '';
    expect(undo).toBe('kubectl replace --force -f report-original.yaml');
    const work = mkdtempSync(join(tmpdir(), 'kh-recreate-job-work-'));
    const file = `job-${ns}-report.patch.yaml`;
    copyFileSync(join(out, 'artifacts', 'psa-migrate', file), join(work, file));
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'kubectl'),
      `#!/bin/sh\nexec ${JSON.stringify(kubectlBin)} --kubeconfig=${JSON.stringify(adminKubeconfig)} "$@"\n`,
      { mode: 0o755 },
    );
    const sh = (script: string) =>
      execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: work,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        stdio: 'pipe',
        timeout: 120_000,
      });
    // From here on the namespace enforces restricted: the new Job's pods must be admitted.
    await kubectlRaw([
      'label',
      'namespace',
      ns,
      'pod-security.kubernetes.io/enforce=restricted',
      'pod-security.kubernetes.io/enforce-version=latest',
    ]);
    sh(commands);
    const after = await kubectlJson<Job>(['get', 'job', 'report', '-n', ns]);
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    // The API server generated the selector again, for the new uid; nothing else of the spec changed but the fix.
    expect(after.spec.selector.matchLabels).toEqual({
      'batch.kubernetes.io/controller-uid': after.metadata.uid,
    });
    expect(after.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const report = (after.spec.template.spec.containers as Array<Record<string, unknown>>)[0];
    expect(report?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(report?.resources).toEqual({ requests: { cpu: '10m' } });
    expect(report?.command).toEqual(['sleep', '3600']);
    // The Job controller's pod for it is admitted under enforce=restricted.
    await waitFor(
      async () =>
        (
          await kubectlJson<{ items: unknown[] }>([
            'get',
            'pods',
            '-n',
            ns,
            '-l',
            `batch.kubernetes.io/controller-uid=${after.metadata.uid}`,
          ])
        ).items.length > 0,
      { what: 'a pod of the re-created Job', timeoutMs: 60_000 },
    );
    // Undo, as the instructions give it: the old Job again (a new uid, the old template).
    sh(undo);
    const restored = await kubectlJson<Job>(['get', 'job', 'report', '-n', ns]);
    expect(restored.metadata.uid).not.toBe(after.metadata.uid);
    expect(restored.spec.template.spec.securityContext ?? {}).toEqual(
      before.spec.template.spec.securityContext ?? {},
    );
    expect(restored.spec.template.spec.containers).toEqual(before.spec.template.spec.containers);
  });

  for (const c of CASES) {
    it(`${c.example}${c.args.length ? ` (${c.args.join(' ')})` : ''}: every workload passes restricted, or its tier's level, or is named in PLAN.md; nothing outside the securityContext changes`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'kh-coverage-'));
      const r = await runCli([
        'plan',
        '--manifests',
        c.example,
        ...(c.exceptions ? ['--exceptions', c.exceptions] : []),
        '--step',
        'psa-migrate',
        '--out',
        out,
        ...c.args,
      ]);
      expect(r.code, r.stderr).toBe(ExitCode.ok);
      const source = load(join(repoRoot, c.example));
      const fixed = new Map(load(join(out, 'remediated')).map((o) => [keyOf(o), o]));
      const namespaces = new Map(
        source.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o.metadata.labels ?? {}]),
      );
      const plan = readFileSync(join(out, 'PLAN.md'), 'utf8');
      const workloads = source.filter((o) => o.kind in TEMPLATE);
      expect(workloads.length).toBe(c.workloads);

      const rows: string[] = [];
      let passRestricted = 0;
      for (const before of workloads) {
        const key = keyOf(before);
        const after = fixed.get(key);
        expect(after, `${key} in remediated/`).toBeDefined();
        if (!after) continue;
        const changed = structuralDiff(before, after).filter((p) => !allowedPath(before.kind, p));
        expect(changed, `${key}: fields changed outside the securityContext and /tmp`).toEqual([]);

        const ns = before.metadata.namespace as string;
        const tier = classifyNamespace({ name: ns, labels: namespaces.get(ns) ?? {} }).tier;
        const target = TIER_TARGET_LEVEL[tier];
        const restricted = await admitted(after, 'restricted');
        const atTarget = target === 'restricted' ? restricted : await admitted(after, target);
        const named = plan.includes(`| ${before.kind} ${ns}/${before.metadata.name} |`);
        if (restricted === true) passRestricted++;
        rows.push(
          `${key}: restricted ${restricted === true ? 'pass' : 'FAIL'}, ${target} ${atTarget === true ? 'pass' : 'FAIL'}${named ? ', named in PLAN.md' : ''}`,
        );
        if (restricted !== true)
          expect(named, `${key} fails restricted (${restricted}) and is not named in PLAN.md`).toBe(true);
        else expect(named, `${key} passes restricted but PLAN.md names it as left non-compliant`).toBe(false);
        if (atTarget !== true) expect(named).toBe(true);
      }
      console.log(
        `${relative(repoRoot, c.example)}: ${passRestricted} of ${workloads.length} pass restricted\n  ${rows.join('\n  ')}`,
      );
      expect(passRestricted).toBe(c.passRestricted);
      // keep-root is recorded, in the exceptions register's own format (kube-harden reads it back).
      const draft = join(out, 'artifacts', 'psa-migrate', 'keep-root-exceptions.yaml');
      if (c.keptRoot) {
        const register = parseExceptions(readFileSync(draft, 'utf8'), draft);
        expect(
          register.exceptions.map(
            (e) => `${e.scope.namespace}/${e.scope.kind}/${e.scope.name}/${e.scope.container}`,
          ),
        ).toEqual(c.keptRoot);
        expect(register.exceptions.every((e) => e.controls.includes('runAsNonRoot'))).toBe(true);
      } else expect(existsSync(draft)).toBe(false);
    });
  }
});
