/**
 * Long-lived local control plane for manual work and demos.
 *
 *   npm run cluster:up     start etcd + kube-apiserver + kube-controller-manager detached, print KUBECONFIG lines
 *                          (`-- --no-audit`: without the API server's audit log, e.g. for the 150k-pod benchmark)
 *   npm run cluster:down   stop exactly the processes `up` started and remove their temp dir
 *   node dist/test/cluster/cli.js status
 *
 * State lives in ~/.cache/kube-harden/cluster-state.json.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type ControlPlanePids,
  ControlPlaneStartError,
  isAlive,
  MissingBinariesError,
  startControlPlane,
  stopControlPlaneProcesses,
} from './control-plane.js';

export interface ClusterState {
  dir: string;
  server: string;
  version: string;
  pids: ControlPlanePids;
  adminKubeconfig: string;
  limitedKubeconfig: string;
  execKubeconfig: string;
  kubeconfigs: Record<string, string>;
  kubectl: string;
  startedAt: string;
  readyMs: number;
}

export const STATE_FILE = join(homedir(), '.cache/kube-harden/cluster-state.json');

function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

function liveness(s: ClusterState): { alive: string[]; dead: string[] } {
  const alive: string[] = [];
  const dead: string[] = [];
  for (const [name, pid] of Object.entries(s.pids)) (isAlive(pid, s.dir) ? alive : dead).push(name);
  return { alive, dead };
}

function printEnv(s: ClusterState): void {
  process.stdout.write(
    `KUBECONFIG=${s.adminKubeconfig}\nKUBECONFIG_LIMITED=${s.limitedKubeconfig}\nKUBECONFIG_EXEC=${s.execKubeconfig}\n`,
  );
}

const info = (line: string) => process.stderr.write(`cluster: ${line}\n`);

async function up(): Promise<number> {
  const existing = readState();
  if (existing) {
    const { alive, dead } = liveness(existing);
    if (dead.length === 0 && existsSync(existing.dir)) {
      info(`already running: ${existing.version} at ${existing.server} (started ${existing.startedAt})`);
      printEnv(existing);
      return 0;
    }
    info(`previous control plane is broken (${dead.join(', ')} not running); cleaning it up`);
    if (alive.length) info(`stopping the remaining ${alive.join(', ')}`);
    await stopControlPlaneProcesses(existing.pids, existing.dir, { keepLogs: true });
    rmSync(STATE_FILE, { force: true });
  }
  info('starting etcd, kube-apiserver and kube-controller-manager …');
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  try {
    cp = await startControlPlane({
      detached: true,
      log: info,
      ...(process.argv.includes('--no-audit') ? { audit: false } : {}),
    });
  } catch (e) {
    if (e instanceof MissingBinariesError || e instanceof ControlPlaneStartError) {
      info(e.message);
      return 1;
    }
    throw e;
  }
  const state: ClusterState = {
    dir: cp.dir,
    server: cp.server,
    version: cp.version,
    pids: cp.pids,
    adminKubeconfig: cp.adminKubeconfig,
    limitedKubeconfig: cp.limitedKubeconfig,
    execKubeconfig: cp.execKubeconfig,
    kubeconfigs: cp.kubeconfigs,
    kubectl: cp.kubectl,
    startedAt: new Date().toISOString(),
    readyMs: cp.readyMs,
  };
  mkdirSync(dirname(STATE_FILE), { recursive: true });
  writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  info(`${cp.version} ready in ${(cp.readyMs / 1000).toFixed(1)} s at ${cp.server}`);
  info(`kubectl: ${cp.kubectl}; logs: ${cp.logsDir}; stop with \`npm run cluster:down\``);
  printEnv(state);
  return 0;
}

async function down(): Promise<number> {
  const s = readState();
  if (!s) {
    info(`no control plane recorded in ${STATE_FILE}; nothing to stop`);
    return 0;
  }
  const { alive } = liveness(s);
  info(`stopping ${alive.length ? alive.join(', ') : 'nothing (already exited)'}; removing ${s.dir}`);
  await stopControlPlaneProcesses(s.pids, s.dir, { keepLogs: process.env.KUBE_HARDEN_KEEP_LOGS === '1' });
  rmSync(STATE_FILE, { force: true });
  info('stopped');
  return 0;
}

function status(): number {
  const s = readState();
  if (!s) {
    info('not running');
    return 1;
  }
  const { alive, dead } = liveness(s);
  info(
    `${s.version} at ${s.server}; running: ${alive.join(', ') || 'none'}; exited: ${dead.join(', ') || 'none'}`,
  );
  printEnv(s);
  return dead.length ? 1 : 0;
}

const cmd = process.argv[2];
const run = cmd === 'up' ? up : cmd === 'down' ? down : cmd === 'status' ? async () => status() : undefined;
if (!run) {
  process.stderr.write('usage: cli.js up|down|status\n');
  process.exit(2);
}
run().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`cluster: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
