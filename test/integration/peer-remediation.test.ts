/**
 * kube-harden's remediation beside another tool's autofix (kubeaudit), judged by one criterion on the real API
 * server. Not part of CI: it runs only when KH_PEER_KUBEAUDIT names a kubeaudit binary (scripts/peer-remediation.sh
 * builds one and runs this file). For each workload of the example, each tool's output is
 *   (a) admitted at restricted: server-side dry-run create in a namespace that enforces restricted (latest); and
 *   (b) not broken: nothing changed outside the securityContexts, the /tmp emptyDir and its mounts (and the pod
 *       template's AppArmor/seccomp annotations) — so host namespaces, hostPath, ports, probes, replicas,
 *       resources and the ServiceAccount token stay as they were; no added capability removed; no
 *       allowPrivilegeEscalation turned off where a non-root container adds capabilities; no runAsNonRoot on an
 *       image known to run as root without a runAsUser (the kubelet would not start it); and, for system and
 *       infrastructure agents (host access, privileged, or kube-system), capabilities and privileged unchanged.
 * Empty maps and lists (`resources: {}`) count as absent. The table goes to KH_PEER_OUT (markdown) and the log.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { knownRootImage } from '../../steps/kit/nonroot-images.js';
import { describeCluster, freshNamespace } from '../cluster/harness.js';
import { repoRoot, runCli } from '../support/cli.js';
import {
  admitted,
  allowedPath,
  judgeNamespaces,
  keyOf,
  load,
  type Obj,
  securityAnnotationPath,
  semantic,
  structuralDiff,
  TEMPLATE,
  yamlFiles,
} from '../support/remediation-judge.js';

const KUBEAUDIT = process.env.KH_PEER_KUBEAUDIT;
const EXAMPLE = process.env.KH_PEER_EXAMPLE ?? 'examples/legacy-cluster';
const EXCEPTIONS = process.env.KH_PEER_EXCEPTIONS ?? 'examples/legacy-cluster-exceptions.yaml';

/** The pod spec of a workload (the Pod's own spec, or its template's). */
function podSpec(o: Obj): Record<string, unknown> {
  let x: unknown = o;
  for (const k of [...(TEMPLATE[o.kind] ?? '').split('.').filter(Boolean), 'spec'])
    x = (x as Record<string, unknown> | undefined)?.[k];
  return (x ?? {}) as Record<string, unknown>;
}

/** Why a workload is a system or infrastructure agent (host access, privileged, kube-system), if it is. */
function agent(o: Obj): string | undefined {
  const spec = podSpec(o);
  const containers = [
    ...((spec.initContainers as Array<Record<string, unknown>>) ?? []),
    ...((spec.containers as Array<Record<string, unknown>>) ?? []),
  ];
  if (o.metadata.namespace === 'kube-system') return 'kube-system';
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) return 'host namespaces';
  if (((spec.volumes as Array<Record<string, unknown>>) ?? []).some((v) => v.hostPath)) return 'hostPath';
  if (containers.some((c) => (c.securityContext as Record<string, unknown> | undefined)?.privileged))
    return 'privileged';
  return undefined;
}

interface Verdict {
  admitted: boolean;
  broken: string[];
}

/** (a) and (b) for one tool's version of one workload. */
async function judge(
  judges: Awaited<ReturnType<typeof judgeNamespaces>>,
  before: Obj,
  after: Obj | undefined,
): Promise<Verdict> {
  if (!after) return { admitted: false, broken: ['the workload is missing from the output'] };
  const changed = structuralDiff(semantic(before), semantic(after), '', true);
  const outside = changed.filter(
    (p) => !allowedPath(before.kind, p) && !securityAnnotationPath(before.kind, p),
  );
  const agentChanges = agent(before)
    ? changed.filter((p) => /\.securityContext\.(capabilities|privileged)(\.|$)/.test(p))
    : [];
  // A capability the container adds and the output no longer does (e.g. NET_BIND_SERVICE of a port-80 server).
  const containers = (o: Obj) => {
    const spec = podSpec(o);
    return [
      ...((spec.initContainers as Array<Record<string, unknown>>) ?? []),
      ...((spec.containers as Array<Record<string, unknown>>) ?? []),
    ];
  };
  const adds = (c: Record<string, unknown> | undefined) =>
    ((c?.securityContext as { capabilities?: { add?: string[] } } | undefined)?.capabilities?.add ??
      []) as string[];
  const removedCaps = containers(before).flatMap((c) => {
    const now = adds(containers(after).find((x) => x.name === c.name));
    return adds(c)
      .filter((cap) => !now.includes(cap))
      .map((cap) => `containers[${String(c.name)}] capability ${cap} removed`);
  });
  // allowPrivilegeEscalation turned off where a non-root container adds capabilities: it gains them only through
  // file capabilities (nginx on port 80 as UID 101), which no_new_privs blocks.
  const podUid = (podSpec(before).securityContext as { runAsUser?: number } | undefined)?.runAsUser;
  const fileCaps = containers(before).flatMap((c) => {
    const sc = (c.securityContext ?? {}) as { allowPrivilegeEscalation?: boolean; runAsUser?: number };
    const now = containers(after).find((x) => x.name === c.name)?.securityContext as
      | { allowPrivilegeEscalation?: boolean }
      | undefined;
    return sc.allowPrivilegeEscalation === true &&
      adds(c).length &&
      (sc.runAsUser ?? podUid) !== 0 &&
      now?.allowPrivilegeEscalation === false
      ? [`containers[${String(c.name)}] allowPrivilegeEscalation turned off (file capabilities)`]
      : [];
  });
  // runAsNonRoot on an image known to run as root, without a runAsUser: the kubelet refuses to start it
  // (CreateContainerConfigError "container has runAsNonRoot and image will run as root").
  const podSc = (podSpec(after).securityContext ?? {}) as { runAsNonRoot?: boolean; runAsUser?: number };
  const noStart = containers(after).flatMap((c) => {
    const sc = (c.securityContext ?? {}) as { runAsNonRoot?: boolean; runAsUser?: number };
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const uid = sc.runAsUser ?? podSc.runAsUser;
    const root = knownRootImage(typeof c.image === 'string' ? c.image : undefined);
    return nonRoot === true && uid === undefined && root
      ? [`containers[${String(c.name)}] would not start: runAsNonRoot on ${String(c.image)} (${root})`]
      : [];
  });
  const prefix = TEMPLATE[before.kind] ? `${TEMPLATE[before.kind]}.` : '';
  const short = (p: string) => (p.startsWith(prefix) ? p.slice(prefix.length) : p);
  return {
    admitted: (await admitted(judges, after, 'restricted')) === true,
    broken: [
      ...outside,
      ...agentChanges.map((p) => `${p} (${agent(before)})`),
      ...(agentChanges.length ? [] : removedCaps),
      ...fileCaps,
      ...noStart,
    ].map(short),
  };
}

/** The other objects a tool added to or removed from the folder, by kind and name. */
function otherObjects(source: Obj[], out: Obj[]): string[] {
  const keys = new Set(source.map(keyOf));
  const outKeys = new Set(out.map(keyOf));
  return [
    ...out.filter((o) => !keys.has(keyOf(o))).map((o) => `added ${keyOf(o)}`),
    ...source.filter((o) => !outKeys.has(keyOf(o))).map((o) => `removed ${keyOf(o)}`),
  ];
}

const cell = (v: Verdict) =>
  `${v.admitted ? 'admitted' : 'refused'}, ${v.broken.length ? `**broken**: ${v.broken.slice(0, 4).join(', ')}${v.broken.length > 4 ? `, … (${v.broken.length})` : ''}` : 'not broken'}`;

describeCluster('remediation beside kubeaudit autofix (real API server; KH_PEER_KUBEAUDIT)', () => {
  let judges: Awaited<ReturnType<typeof judgeNamespaces>>;
  beforeAll(async () => {
    if (KUBEAUDIT) judges = await judgeNamespaces(freshNamespace);
  });

  it.skipIf(!KUBEAUDIT)(
    `${EXAMPLE}: admitted at restricted and not broken, per workload, for both tools`,
    { timeout: 600_000 },
    async () => {
      const bin = KUBEAUDIT as string;
      const version = execFileSync(bin, ['version'], { encoding: 'utf8' }).trim();
      const source = load(join(repoRoot, EXAMPLE));
      // kubeaudit autofix, file by file, on a copy (it rewrites a file in place without -o).
      const peerOut = mkdtempSync(join(tmpdir(), 'kh-peer-kubeaudit-'));
      cpSync(join(repoRoot, EXAMPLE), join(peerOut, 'in'), { recursive: true });
      for (const f of yamlFiles(join(peerOut, 'in'))) {
        const out = join(peerOut, 'out', relative(join(peerOut, 'in'), f));
        mkdirSync(dirname(out), { recursive: true });
        execFileSync(bin, ['autofix', '-f', f, '-o', out], { stdio: 'pipe' });
      }
      const peer = load(join(peerOut, 'out'));
      // kube-harden, by default and with an explicit --run-as-user choice.
      const runs: Array<{ label: string; args: string[]; objects?: Obj[] }> = [
        { label: 'kube-harden', args: [] },
        { label: 'kube-harden --run-as-user 65532', args: ['--run-as-user', '65532'] },
        {
          label: 'kube-harden --run-as-user 65532 --target restricted',
          args: ['--run-as-user', '65532', '--target', 'restricted'],
        },
      ];
      for (const run of runs) {
        const out = mkdtempSync(join(tmpdir(), 'kh-peer-self-'));
        const r = await runCli([
          'plan',
          '--manifests',
          EXAMPLE,
          ...(EXCEPTIONS ? ['--exceptions', EXCEPTIONS] : []),
          '--step',
          'psa-migrate',
          '--out',
          out,
          ...run.args,
        ]);
        expect(r.code, r.stderr).toBe(ExitCode.ok);
        run.objects = load(join(out, 'remediated'));
      }
      const tools = [
        { label: `kubeaudit ${version} autofix`, objects: peer },
        ...runs.map((r) => ({ label: r.label, objects: r.objects as Obj[] })),
      ];
      const workloads = source.filter((o) => o.kind in TEMPLATE);
      const totals = tools.map(() => ({ admitted: 0, notBroken: 0, both: 0 }));
      const rows: string[] = [];
      const verdicts: Verdict[][] = tools.map(() => []);
      for (const w of workloads) {
        const cells: string[] = [];
        for (const [i, t] of tools.entries()) {
          const v = await judge(
            judges,
            w,
            t.objects.find((o) => keyOf(o) === keyOf(w)),
          );
          verdicts[i]?.push(v);
          const total = totals[i] as (typeof totals)[number];
          if (v.admitted) total.admitted++;
          if (!v.broken.length) total.notBroken++;
          if (v.admitted && !v.broken.length) total.both++;
          cells.push(cell(v));
        }
        rows.push(`| ${keyOf(w)}${agent(w) ? ` (agent: ${agent(w)})` : ''} | ${cells.join(' | ')} |`);
      }
      const table = [
        `| workload | ${tools.map((t) => t.label).join(' | ')} |`,
        `|---|${tools.map(() => '---').join('|')}|`,
        ...rows,
        `| **admitted at restricted** | ${totals.map((t) => `${t.admitted} of ${workloads.length}`).join(' | ')} |`,
        `| **not broken** | ${totals.map((t) => `${t.notBroken} of ${workloads.length}`).join(' | ')} |`,
        `| **admitted and not broken** | ${totals.map((t) => `**${t.both} of ${workloads.length}**`).join(' | ')} |`,
        `| other objects added or removed | ${tools.map((t) => otherObjects(source, t.objects).join('; ') || 'none').join(' | ')} |`,
      ].join('\n');
      console.log(`${EXAMPLE}\n${table}`);
      if (process.env.KH_PEER_OUT) writeFileSync(process.env.KH_PEER_OUT, `${table}\n`);
      // kube-harden never breaks a workload, and is at least as far ahead on admitted-and-not-broken.
      for (const [i] of runs.entries()) {
        expect(verdicts[i + 1]?.flatMap((v) => v.broken)).toEqual([]);
        expect(totals[i + 1]?.both).toBeGreaterThanOrEqual(totals[0]?.both ?? 0);
      }
    },
  );
});
