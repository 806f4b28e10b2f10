/**
 * Vitest globalSetup of the `integration` project: one Kubernetes control plane per run.
 *
 * Resolution order:
 *   1. KUBE_HARDEN_TEST_KUBECONFIG set → use that (disposable!) cluster; a limited and an exec identity are
 *      made from ServiceAccount tokens in namespace `kube-harden-test-identities`.
 *   2. Built binaries present (test/cluster/k8s/build.sh) → start etcd + kube-apiserver + kube-controller-manager.
 *   3. `go` on PATH → run build.sh once (5–30 min, cached by version), then start.
 *   4. Otherwise no cluster: integration suites are skipped with one explanatory line — except with CI=true,
 *      where the run fails.
 *
 * Teardown stops the control plane; logs are kept in test-results/control-plane/<timestamp>/ when a test
 * failed or KUBE_HARDEN_KEEP_LOGS=1.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import {
  binariesStatus,
  buildScript,
  type ControlPlane,
  startControlPlane,
  writeKubeconfigs,
} from './control-plane.js';
import type { AvailableCluster, ClusterContext } from './types.js';

const execFileP = promisify(execFile);
const log = (line: string) => console.log(`[cluster] ${line}`);

const ENABLE_HINT =
  'to enable: install Go >= 1.26 (the control plane is then built once into ~/.cache/kube-harden, or run ' +
  '`npm run cluster:build`), or set KUBE_HARDEN_TEST_KUBECONFIG to a disposable cluster';

interface Resolved {
  ctx: ClusterContext;
  teardown?: (failed: boolean) => Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { ctx, teardown } = await resolveCluster();
  if (!ctx.available) {
    if (process.env.CI === 'true') {
      throw new Error(
        `no Kubernetes control plane for the integration tests (${ctx.reason}); CI=true, so this run fails ` +
          `instead of skipping them — ${ENABLE_HINT}`,
      );
    }
    console.log(`[cluster] integration tests SKIPPED: ${ctx.reason} — ${ENABLE_HINT}`);
  }
  project.provide('cluster', ctx);
  // Anything that loads the default kubeconfig inside this run must hit the test cluster, never the
  // developer's real one.
  const previousKubeconfig = process.env.KUBECONFIG;
  if (ctx.available) process.env.KUBECONFIG = ctx.adminKubeconfig;

  return async () => {
    if (ctx.available) {
      if (previousKubeconfig === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previousKubeconfig;
    }
    await teardown?.(runFailed(project));
  };
}

/** Whether any test module of this project failed (or an unhandled error happened) in the run. */
function runFailed(project: TestProject): boolean {
  try {
    const state = project.vitest.state;
    if (state.getUnhandledErrors().length > 0) return true;
    return state
      .getTestModules()
      .some((m) => m.project.name === project.name && (m.state() === 'failed' || !m.ok()));
  } catch {
    return true; // cannot tell → keep the logs
  }
}

async function resolveCluster(): Promise<Resolved> {
  const external = process.env.KUBE_HARDEN_TEST_KUBECONFIG;
  if (external) return externalCluster(resolve(external));

  let status = binariesStatus();
  if (!status.found) {
    const go = await goVersion();
    if (!go) {
      return {
        ctx: {
          available: false,
          reason: `Kubernetes ${status.version} test binaries not found in ${status.binDir} and \`go\` is not on PATH`,
        },
      };
    }
    log(`Kubernetes ${status.version} binaries missing in ${status.binDir}; building them with ${go} (once)`);
    try {
      await runBuild();
    } catch (e) {
      return {
        ctx: { available: false, reason: `building the control plane failed: ${(e as Error).message}` },
      };
    }
    status = binariesStatus();
    if (!status.found) {
      return {
        ctx: {
          available: false,
          reason: `build.sh finished but ${status.missing.join(', ')} missing in ${status.binDir}`,
        },
      };
    }
  }

  // Binaries exist: a failure to start is a real failure, never a skip.
  const cp: ControlPlane = await startControlPlane({ binDir: status.binDir, log });
  const t = cp.timings;
  log(
    `${cp.version} ready in ${(cp.readyMs / 1000).toFixed(1)} s at ${cp.server} ` +
      `(pki ${t.pkiMs} ms, etcd ${t.etcdMs} ms, apiserver /readyz ${t.apiserverReadyMs} ms, default SA ${t.readyMs} ms)`,
  );
  const ctx: AvailableCluster = {
    available: true,
    kind: 'local',
    server: cp.server,
    etcdUrl: cp.etcdUrl,
    adminKubeconfig: cp.adminKubeconfig,
    limitedKubeconfig: cp.limitedKubeconfig,
    execKubeconfig: cp.execKubeconfig,
    kubeconfigs: cp.kubeconfigs,
    users: cp.users,
    kubectl: cp.kubectl,
    version: cp.version,
    auditLog: cp.auditLog,
  };
  return {
    ctx,
    teardown: async (failed) => {
      const keepLogs = failed || process.env.KUBE_HARDEN_KEEP_LOGS === '1';
      const { keptLogs } = await cp.stop({ keepLogs });
      if (keptLogs) log(`control-plane logs kept in ${keptLogs}${failed ? ' (a test failed)' : ''}`);
    },
  };
}

async function goVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP('go', ['version'], { timeout: 30_000 });
    return stdout.trim().split(' ')[2] ?? 'go';
  } catch {
    return undefined;
  }
}

/** Run build.sh, echoing its stderr and a heartbeat each minute (go build itself is silent). */
function runBuild(): Promise<void> {
  return new Promise((resolveP, reject) => {
    const started = Date.now();
    const child = spawn('bash', [buildScript()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let errTail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      errTail = (errTail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line.trim()) log(`build: ${line}`);
    });
    child.stdout.resume();
    const beat = setInterval(() => {
      log(`build: still building (${Math.round((Date.now() - started) / 60_000)} min so far)`);
    }, 60_000);
    child.on('error', (e) => {
      clearInterval(beat);
      reject(e);
    });
    child.on('exit', (code) => {
      clearInterval(beat);
      if (code === 0) {
        log(`build: done in ${Math.round((Date.now() - started) / 1000)} s`);
        resolveP();
      } else {
        reject(
          new Error(`build.sh exited with ${code}: ${errTail.trim().split('\n').slice(-5).join(' | ')}`),
        );
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// External cluster (KUBE_HARDEN_TEST_KUBECONFIG)

const IDENTITY_NS = 'kube-harden-test-identities';

async function externalCluster(kubeconfig: string): Promise<Resolved> {
  const status = binariesStatus();
  const kubectlBin = status.found ? join(status.binDir, 'kubectl') : 'kubectl';
  const k = async (args: string[]) =>
    (await execFileP(kubectlBin, [`--kubeconfig=${kubeconfig}`, ...args], { timeout: 60_000 })).stdout;
  try {
    const raw = JSON.parse(await k(['config', 'view', '--minify', '--flatten', '-o', 'json'])) as {
      clusters?: { cluster: Record<string, unknown> }[];
      users?: { user: Record<string, unknown> }[];
    };
    const cluster = raw.clusters?.[0]?.cluster;
    if (!cluster) throw new Error(`no current cluster in ${kubeconfig}`);
    const version = (
      JSON.parse(await k(['version', '-o', 'json'])) as { serverVersion?: { gitVersion?: string } }
    ).serverVersion?.gitVersion;
    if (!version) throw new Error('cluster did not report a server version');
    // Identities: ServiceAccounts without RBAC grants; their tokens back the limited and exec kubeconfigs.
    await k(['create', 'namespace', IDENTITY_NS, '--dry-run=client', '-o', 'yaml']).then(async (yaml) => {
      await execApply(kubectlBin, kubeconfig, yaml);
    });
    for (const sa of ['limited', 'exec-user']) {
      await execApply(
        kubectlBin,
        kubeconfig,
        await k(['create', 'serviceaccount', sa, '-n', IDENTITY_NS, '--dry-run=client', '-o', 'yaml']),
      );
    }
    const token = async (sa: string) =>
      (await k(['create', 'token', sa, '-n', IDENTITY_NS, '--duration=12h'])).trim();
    const dir = mkdtempSync(join(tmpdir(), 'kube-harden-ext-'));
    const files = writeKubeconfigs(dir, cluster, {
      admin: { name: 'admin', user: raw.users?.[0]?.user ?? {} },
      limited: { name: 'limited', user: { token: await token('limited') } },
      execToken: await token('exec-user'),
    });
    const server = String(cluster.server);
    const adminName = await k(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']).catch(
      () => 'admin',
    );
    log(`using the external cluster ${server} (${version}) from KUBE_HARDEN_TEST_KUBECONFIG`);
    return {
      ctx: {
        available: true,
        kind: 'external',
        server,
        adminKubeconfig: kubeconfig,
        limitedKubeconfig: files.limited,
        execKubeconfig: files.exec,
        kubeconfigs: { ...files, admin: kubeconfig },
        users: {
          admin: adminName.trim() || 'admin',
          limited: `system:serviceaccount:${IDENTITY_NS}:limited`,
          exec: `system:serviceaccount:${IDENTITY_NS}:exec-user`,
        },
        kubectl: kubectlBin,
        version,
      },
      teardown: async () => {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    const err = e as Error & { stderr?: string };
    return {
      ctx: {
        available: false,
        reason: `KUBE_HARDEN_TEST_KUBECONFIG=${kubeconfig} is not usable with ${kubectlBin}: ${(err.stderr || err.message).trim()}`,
      },
    };
  }
}

function execApply(kubectlBin: string, kubeconfig: string, yaml: string): Promise<void> {
  return new Promise((resolveP, reject) => {
    const child = execFile(
      kubectlBin,
      [`--kubeconfig=${kubeconfig}`, 'apply', '--server-side', '--field-manager=kube-harden-test', '-f', '-'],
      { timeout: 60_000 },
      (err) => (err ? reject(err) : resolveP()),
    );
    child.stdin?.end(yaml);
  });
}
