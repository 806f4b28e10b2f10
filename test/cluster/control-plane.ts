/**
 * A real, throwaway Kubernetes control plane on loopback for integration tests: etcd, kube-apiserver and
 * kube-controller-manager built from source by `test/cluster/k8s/build.sh`, a PKI made with the `openssl` CLI,
 * static tokens for a limited user and an exec-plugin user, and ready-to-use kubeconfigs.
 *
 * Works from TypeScript (vitest) and from the compiled JS in dist/test/cluster: every repository file is found
 * relative to the repository root, never relative to this module.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

/** Prefix of every control-plane temp dir (also how stale ones from killed runs are recognised). */
export const DIR_PREFIX = 'kube-harden-cp-';
const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;
const STOP_ORDER = ['controllerManager', 'apiserver', 'etcd'] as const;

export interface ControlPlaneOptions {
  /** Directory with the four binaries. Default: KUBE_HARDEN_K8S_BIN_DIR or ~/.cache/kube-harden/k8s/<version>. */
  binDir?: string;
  /** Copy the component logs to test-results/control-plane/<timestamp>/ on stop (also: KUBE_HARDEN_KEEP_LOGS=1). */
  keepLogs?: boolean;
  /** Children survive this Node process (used by `cluster:up`); no exit hook, no stale-run reaping. */
  detached?: boolean;
  /** Budget for etcd + apiserver /readyz + the `default/default` ServiceAccount. Default 90 s. */
  readyTimeoutMs?: number;
  /** Write a Metadata-level audit log (default true). */
  audit?: boolean;
  /** Progress lines (default: silent). */
  log?: (line: string) => void;
  /** Extra kube-apiserver flags (e.g. feature gates for one test's own control plane). */
  apiserverArgs?: string[];
  /**
   * Start kube-controller-manager (default true). Without it the plane is lighter (a test's own second plane),
   * but namespaces get no `default` ServiceAccount and nothing reconciles.
   */
  controllerManager?: boolean;
}

export interface ControlPlanePids {
  etcd: number;
  apiserver: number;
  controllerManager: number;
}

export interface ControlPlaneTimings {
  /** openssl PKI + files. */
  pkiMs: number;
  /** etcd /health. */
  etcdMs: number;
  /** kube-apiserver /readyz = 200, measured from the start. */
  apiserverReadyMs: number;
  /** `default/default` ServiceAccount exists (controller-manager working), measured from the start = time to ready. */
  readyMs: number;
}

export interface ControlPlane {
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** etcd client URL (tests that need etcd itself, e.g. to compact and expire continue tokens). */
  etcdUrl: string;
  /** Temp dir with pki/, logs/, etcd/ and the kubeconfigs; removed by stop(). */
  dir: string;
  adminKubeconfig: string;
  limitedKubeconfig: string;
  /** Contexts `exec` (current) and `exec-hang`. */
  execKubeconfig: string;
  /** Context name → kubeconfig whose current-context is that context; `all` holds every context (current admin). */
  kubeconfigs: Record<ContextName, string>;
  users: { admin: string; limited: string; exec: string };
  binDir: string;
  kubectl: string;
  /** Server gitVersion from /version. */
  version: string;
  pids: ControlPlanePids;
  auditLog?: string;
  logsDir: string;
  timings: ControlPlaneTimings;
  /** Time to ready in ms (= timings.readyMs). */
  readyMs: number;
  /** SIGTERM KCM → apiserver → etcd (≤10 s each, then SIGKILL), remove `dir`. Returns where logs were kept. */
  stop(opts?: { keepLogs?: boolean }): Promise<{ keptLogs?: string }>;
  /** SIGKILL kube-apiserver (a crash): etcd and the data stay. */
  killApiserver(): Promise<void>;
  /** Start kube-apiserver again, same port and flags, and wait for /readyz. */
  startApiserver(): Promise<void>;
}

export class MissingBinariesError extends Error {
  constructor(
    readonly binDir: string,
    readonly missing: string[],
  ) {
    super(
      `Kubernetes test binaries not found in ${binDir} (missing: ${missing.join(', ')}). ` +
        'Run `npm run cluster:build` (needs Go >= 1.26; ~5-30 min once, cached by version).',
    );
    this.name = 'MissingBinariesError';
  }
}

export class ControlPlaneStartError extends Error {
  constructor(
    message: string,
    readonly keptLogs?: string,
  ) {
    super(message);
    this.name = 'ControlPlaneStartError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Locations

let cachedRoot: string | undefined;

/** The kube-harden repository root (the nearest package.json named kube-harden above this module). */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kube-harden') {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the kube-harden repository root above ${import.meta.url}`);
    dir = parent;
  }
}

/** The Kubernetes version the binaries are built for: `require k8s.io/kubernetes vX.Y.Z` in test/cluster/k8s/go.mod. */
export function k8sVersion(): string {
  const gomod = readFileSync(join(repoRoot(), 'test/cluster/k8s/go.mod'), 'utf8');
  const m = /^\s*(?:require\s+)?k8s\.io\/kubernetes\s+(v\d+\.\d+\.\d+)/m.exec(gomod);
  if (!m?.[1]) throw new Error('cannot find the k8s.io/kubernetes version in test/cluster/k8s/go.mod');
  return m[1];
}

/** Same rule as build.sh: KUBE_HARDEN_K8S_BIN_DIR, else ~/.cache/kube-harden/k8s/<version>. */
export function defaultBinDir(version = k8sVersion()): string {
  return process.env.KUBE_HARDEN_K8S_BIN_DIR || join(homedir(), '.cache/kube-harden/k8s', version);
}

export function buildScript(): string {
  return join(repoRoot(), 'test/cluster/k8s/build.sh');
}

export type BinariesStatus =
  | { found: true; binDir: string; version: string }
  | { found: false; binDir: string; version: string; missing: string[] };

/** Whether a complete build is present (build.sh writes `.complete` last). */
export function binariesStatus(binDir?: string): BinariesStatus {
  const version = k8sVersion();
  const dir = binDir ?? defaultBinDir(version);
  const missing = BINARIES.filter((b) => !isFile(join(dir, b)));
  // A dir given explicitly (env/option) may hold binaries from elsewhere; the default dir must be a finished build.
  const explicit = binDir !== undefined || !!process.env.KUBE_HARDEN_K8S_BIN_DIR;
  if (missing.length === 0 && (explicit || existsSync(join(dir, '.complete')))) {
    return { found: true, binDir: dir, version };
  }
  return { found: false, binDir: dir, version, missing: missing.length ? [...missing] : ['.complete'] };
}

/** Where kept logs go: <repo>/test-results/control-plane/<timestamp>/. */
export function logsArchiveRoot(): string {
  return join(repoRoot(), 'test-results/control-plane');
}

// ---------------------------------------------------------------------------------------------------------------
// Small utilities

const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

/** Last `lines` lines of a file (reads at most the last 64 KiB). */
export function tail(file: string, lines = 40): string {
  try {
    const size = statSync(file).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, len, size - len);
    } finally {
      closeSync(fd);
    }
    return buf
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '(no log)';
  }
}

/**
 * Whether `pid` is a live (non-zombie) process; when `marker` is given and /proc exists, the process's command
 * line must also contain it — protection against a recycled PID.
 */
export function isAlive(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!existsSync('/proc/self')) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\)\s+Z\s/.test(stat)) return false;
    if (marker) return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Only touches `pid` while its command line contains `marker`. */
export async function terminate(pid: number, marker: string, graceMs = 10_000): Promise<'exited' | 'killed'> {
  if (!isAlive(pid, marker)) return 'exited';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'exited';
  }
  const end = Date.now() + graceMs;
  while (Date.now() < end) {
    if (!isAlive(pid, marker)) return 'exited';
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'exited';
  }
  for (let i = 0; i < 50 && isAlive(pid, marker); i++) await sleep(100);
  return 'killed';
}

/** Stop the processes of a control plane (KCM → apiserver → etcd) and remove its dir. */
export async function stopControlPlaneProcesses(
  pids: Partial<ControlPlanePids>,
  dir: string,
  opts: { keepLogs?: boolean; graceMs?: number } = {},
): Promise<{ keptLogs?: string }> {
  for (const name of STOP_ORDER) {
    const pid = pids[name];
    if (pid) await terminate(pid, dir, opts.graceMs);
  }
  const keptLogs = opts.keepLogs ? archiveLogs(dir) : undefined;
  rmSync(dir, { recursive: true, force: true });
  return { keptLogs };
}

/** Copy <dir>/logs/*.log (never keys, tokens or kubeconfigs) to test-results/control-plane/<timestamp>/. */
export function archiveLogs(dir: string): string | undefined {
  const src = join(dir, 'logs');
  const files = existsSync(src) ? readdirSync(src) : [];
  if (files.length === 0) return undefined;
  const dest = join(logsArchiveRoot(), new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dest, { recursive: true });
  for (const f of files) copyFileSync(join(src, f), join(dest, f));
  return dest;
}

function httpsGet(
  url: string,
  tls: { ca: Buffer; cert: Buffer; key: Buffer },
): Promise<{ status: number; body: string }> {
  return new Promise((resolveP) => {
    const req = request(url, { ...tls, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolveP({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolveP({ status: 0, body }));
    });
    req.on('error', () => resolveP({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// PKI and files

async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await execFileP('openssl', args, { cwd });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw new Error(
        'the `openssl` CLI is not on PATH; it is needed to create the test PKI (apt install openssl)',
      );
    }
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

async function makePki(pki: string): Promise<void> {
  mkdirSync(pki, { recursive: true });
  writeFileSync(
    join(pki, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' +
      'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n',
  );
  writeFileSync(
    join(pki, 'client.ext'),
    'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n',
  );
  const key = (name: string) =>
    openssl(pki, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`]);
  // Key generation dominates; run it in parallel, then sign.
  await Promise.all(['ca', 'apiserver', 'admin', 'kcm', 'sa'].map(key));
  await openssl(pki, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '3650',
    '-subj',
    '/CN=kube-harden-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  const leaf = async (name: string, subj: string, ext: string, serial: string) => {
    await openssl(pki, ['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    await openssl(pki, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      serial,
      '-out',
      `${name}.crt`,
      '-days',
      '3650',
      '-extfile',
      ext,
    ]);
  };
  await Promise.all([
    leaf('apiserver', '/CN=kube-apiserver', 'server.ext', '2'),
    leaf('admin', '/O=system:masters/CN=admin', 'client.ext', '3'),
    // The controller-manager gets its own identity (full rights via system:masters, since it runs with
    // --use-service-account-credentials=false) so its traffic is distinguishable from the tests' admin.
    leaf('kcm', '/O=system:masters/CN=system:kube-controller-manager', 'client.ext', '4'),
    openssl(pki, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']),
  ]);
}

export interface KubeconfigUser {
  name: string;
  user: Record<string, unknown>;
}

/** A kubeconfig with one cluster and one context per user (context name = user name). */
export function kubeconfigYaml(
  cluster: Record<string, unknown>,
  users: KubeconfigUser[],
  current: string,
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-harden-test', cluster }],
    users,
    contexts: users.map((u) => ({ name: u.name, context: { cluster: 'kube-harden-test', user: u.name } })),
    'current-context': current,
    preferences: {},
  });
}

/** kubeconfig users for the fake exec plugin: context `exec` (prints `token`) and `exec-hang`. */
export function fakeExecUsers(token: string): { exec: KubeconfigUser; execHang: KubeconfigUser } {
  const user = (name: string, args: string[]): KubeconfigUser => ({
    name,
    user: {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: [fakeExecPluginPath(), ...args],
        env: [{ name: 'KUBE_HARDEN_FAKE_EXEC_TOKEN', value: token }],
        interactiveMode: 'Never',
        provideClusterInfo: false,
      },
    },
  });
  return { exec: user('exec', []), execHang: user('exec-hang', ['--hang']) };
}

export type ContextName = 'admin' | 'limited' | 'exec' | 'exec-hang' | 'all';

/**
 * Write admin/limited/exec/exec-hang/all kubeconfigs into `dir`; each file's current-context is its name
 * (`exec.kubeconfig` also holds `exec-hang`, `all.kubeconfig` holds everything with current-context admin).
 */
export function writeKubeconfigs(
  dir: string,
  cluster: Record<string, unknown>,
  users: { admin: KubeconfigUser; limited: KubeconfigUser; execToken: string },
): Record<ContextName, string> {
  const { exec, execHang } = fakeExecUsers(users.execToken);
  const files: Record<ContextName, string> = {
    admin: join(dir, 'admin.kubeconfig'),
    limited: join(dir, 'limited.kubeconfig'),
    exec: join(dir, 'exec.kubeconfig'),
    'exec-hang': join(dir, 'exec-hang.kubeconfig'),
    all: join(dir, 'all.kubeconfig'),
  };
  const write = (file: string, list: KubeconfigUser[], current: string) =>
    writeFileSync(file, kubeconfigYaml(cluster, list, current), { mode: 0o600 });
  write(files.admin, [users.admin], 'admin');
  write(files.limited, [users.limited], 'limited');
  write(files.exec, [exec, execHang], 'exec');
  write(files['exec-hang'], [execHang, exec], 'exec-hang');
  write(files.all, [users.admin, users.limited, exec, execHang], 'admin');
  return files;
}

/** The fake exec plugin lives in the source tree (a .mjs file is not compiled into dist/). */
export function fakeExecPluginPath(): string {
  return join(repoRoot(), 'test/cluster/fake-exec-plugin.mjs');
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    users: ["system:kube-controller-manager", "system:apiserver"]
  - level: None
    nonResourceURLs: ["/readyz*", "/healthz*", "/livez*"]
  - level: Metadata
`;

// ---------------------------------------------------------------------------------------------------------------
// Stale runs

interface OwnerFile {
  ownerPid: number;
  detached: boolean;
  pids: Partial<ControlPlanePids>;
}

function writeOwner(dir: string, owner: OwnerFile): void {
  writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
}

/**
 * Kill the processes of control planes whose owning Node process died without tearing down (SIGKILL, OOM),
 * and remove their dirs. Detached ones (`cluster:up`) are left alone. Only PIDs whose command line names
 * that control plane's dir are touched.
 */
export async function reapStaleControlPlanes(log?: (l: string) => void): Promise<void> {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const dir = join(tmpdir(), e);
    let owner: OwnerFile;
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as OwnerFile;
    } catch {
      continue; // starting right now, or not ours
    }
    if (owner.detached || isAlive(owner.ownerPid)) continue;
    log?.(`removing stale control plane ${dir} (owner pid ${owner.ownerPid} is gone)`);
    await stopControlPlaneProcesses(owner.pids, dir, { graceMs: 2000 });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Start

interface Proc {
  name: string;
  pid: number;
  logFile: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

function launch(name: string, bin: string, args: string[], logsDir: string, detached: boolean): Proc {
  const logFile = join(logsDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached });
    if (child.pid === undefined) throw new Error(`failed to start ${bin}`);
    const p: Proc = { name, pid: child.pid, logFile };
    child.on('exit', (code, signal) => {
      p.exit = { code, signal };
    });
    child.on('error', () => {
      p.exit ??= { code: -1, signal: null };
    });
    if (detached) child.unref();
    return p;
  } finally {
    closeSync(fd);
  }
}

class StartFailure extends Error {}

async function waitUntil(
  what: string,
  deadline: number,
  procs: Proc[],
  check: () => Promise<boolean>,
  interval = 200,
): Promise<void> {
  for (;;) {
    for (const p of procs) {
      if (p.exit) {
        throw new StartFailure(
          `${p.name} exited (code ${p.exit.code}, signal ${p.exit.signal}) while waiting for ${what}`,
        );
      }
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new StartFailure(`timed out waiting for ${what}`);
    await sleep(interval);
  }
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const status = binariesStatus(opts.binDir);
  if (!status.found) throw new MissingBinariesError(status.binDir, status.missing);
  if (!opts.detached) await reapStaleControlPlanes(opts.log);
  // A free port can be taken between probing and binding; one retry covers that race.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(status.binDir, opts, attempt < 2);
    } catch (e) {
      if (!(e instanceof RetryableStart)) throw e;
      opts.log?.(`port collision (${e.message}); retrying with new ports`);
    }
  }
}

class RetryableStart extends Error {}

async function startOnce(
  binDir: string,
  opts: ControlPlaneOptions,
  mayRetry: boolean,
): Promise<ControlPlane> {
  const t0 = Date.now();
  const detached = !!opts.detached;
  const keepLogsDefault = opts.keepLogs ?? process.env.KUBE_HARDEN_KEEP_LOGS === '1';
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const pki = join(dir, 'pki');
  const logsDir = join(dir, 'logs');
  mkdirSync(logsDir);
  const procs: Proc[] = [];
  const pids: Partial<ControlPlanePids> = {};
  const owner: OwnerFile = { ownerPid: process.pid, detached, pids };
  writeOwner(dir, owner);

  // Safety net for an un-torn-down run in this process (e.g. vitest aborted): SIGKILL and remove, synchronously.
  const onExit = () => {
    for (const name of STOP_ORDER) {
      const pid = pids[name];
      if (pid && isAlive(pid, dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (!detached) process.on('exit', onExit);

  try {
    await makePki(pki);
    const limitedToken = randomBytes(24).toString('hex');
    const execToken = randomBytes(24).toString('hex');
    writeFileSync(
      join(dir, 'tokens.csv'),
      `${limitedToken},limited,uid-limited\n${execToken},exec-user,uid-exec-user,"kube-harden:exec-users"\n`,
      { mode: 0o600 },
    );
    const [ep, pp, ap] = [await freePort(), await freePort(), await freePort()];
    const server = `https://127.0.0.1:${ap}`;
    const ca = readFileSync(join(pki, 'ca.crt'));
    const caB64 = ca.toString('base64');
    const b64 = (f: string) => readFileSync(join(pki, f)).toString('base64');
    const cluster = { server, 'certificate-authority-data': caB64 };
    const kubeconfigs = writeKubeconfigs(dir, cluster, {
      admin: {
        name: 'admin',
        user: { 'client-certificate-data': b64('admin.crt'), 'client-key-data': b64('admin.key') },
      },
      limited: { name: 'limited', user: { token: limitedToken } },
      execToken,
    });
    const kcmKubeconfig = join(dir, 'kcm.kubeconfig');
    writeFileSync(
      kcmKubeconfig,
      kubeconfigYaml(
        cluster,
        [
          {
            name: 'kcm',
            user: { 'client-certificate-data': b64('kcm.crt'), 'client-key-data': b64('kcm.key') },
          },
        ],
        'kcm',
      ),
      { mode: 0o600 },
    );
    const audit = opts.audit ?? true;
    const auditLog = audit ? join(logsDir, 'audit.log') : undefined;
    if (audit) writeFileSync(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
    const tPki = Date.now();

    const deadline = t0 + (opts.readyTimeoutMs ?? 90_000);
    const bin = (b: string) => join(binDir, b);

    const etcd = launch(
      'etcd',
      bin('etcd'),
      [
        '--name=kube-harden-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${ep}`,
        `--advertise-client-urls=http://127.0.0.1:${ep}`,
        `--listen-peer-urls=http://127.0.0.1:${pp}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${pp}`,
        `--initial-cluster=kube-harden-test=http://127.0.0.1:${pp}`,
        '--unsafe-no-fsync=true',
        // Room for the 150k-pod scale tests (default quota is 2 GiB).
        `--quota-backend-bytes=${8 * 1024 ** 3}`,
        '--log-level=warn',
      ],
      logsDir,
      detached,
    );
    procs.push(etcd);
    pids.etcd = etcd.pid;
    writeOwner(dir, owner);
    await waitUntil('etcd /health', deadline, procs, async () => {
      const r = await fetch(`http://127.0.0.1:${ep}/health`, { signal: AbortSignal.timeout(2000) });
      return ((await r.json()) as { health?: string }).health === 'true';
    });
    const tEtcd = Date.now();

    const apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${ep}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ap}`,
      `--cert-dir=${pki}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${join(pki, 'ca.crt')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--profiling=false',
      ...(auditLog
        ? [
            `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
            `--audit-log-path=${auditLog}`,
            '--audit-log-format=json',
            '--audit-log-maxbackup=0',
          ]
        : []),
      '--v=1',
      ...(opts.apiserverArgs ?? []),
    ];
    const apiserver = launch('kube-apiserver', bin('kube-apiserver'), apiserverArgs, logsDir, detached);
    procs.push(apiserver);
    pids.apiserver = apiserver.pid;
    writeOwner(dir, owner);
    const tls = { ca, cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) };
    await waitUntil(
      'kube-apiserver /readyz',
      deadline,
      procs,
      async () => (await httpsGet(`${server}/readyz`, tls)).status === 200,
      250,
    );
    const tApi = Date.now();

    const withKcm = opts.controllerManager ?? true;
    const kcm = withKcm
      ? launch(
          'kube-controller-manager',
          bin('kube-controller-manager'),
          [
            `--kubeconfig=${kcmKubeconfig}`,
            '--leader-elect=false',
            '--secure-port=0',
            '--use-service-account-credentials=false',
            `--service-account-private-key-file=${join(pki, 'sa.key')}`,
            `--root-ca-file=${join(pki, 'ca.crt')}`,
            '--v=1',
          ],
          logsDir,
          detached,
        )
      : undefined;
    if (kcm) {
      procs.push(kcm);
      pids.controllerManager = kcm.pid;
      writeOwner(dir, owner);
      await waitUntil(
        'the default/default ServiceAccount (kube-controller-manager)',
        deadline,
        procs,
        async () =>
          (await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, tls)).status === 200,
        250,
      );
    }
    const tReady = Date.now();
    const versionRes = await httpsGet(`${server}/version`, tls);
    const version = (JSON.parse(versionRes.body) as { gitVersion: string }).gitVersion;

    const timings: ControlPlaneTimings = {
      pkiMs: tPki - t0,
      etcdMs: tEtcd - t0,
      apiserverReadyMs: tApi - t0,
      readyMs: tReady - t0,
    };
    writeFileSync(
      join(logsDir, 'control-plane.json'),
      JSON.stringify({ server, version, pids, timings }, null, 2),
    );
    const finalPids = pids as ControlPlanePids;
    let stopped: Promise<{ keptLogs?: string }> | undefined;
    return {
      server,
      etcdUrl: `http://127.0.0.1:${ep}`,
      dir,
      adminKubeconfig: kubeconfigs.admin,
      limitedKubeconfig: kubeconfigs.limited,
      execKubeconfig: kubeconfigs.exec,
      kubeconfigs,
      users: { admin: 'admin', limited: 'limited', exec: 'exec-user' },
      binDir,
      kubectl: bin('kubectl'),
      version,
      pids: finalPids,
      auditLog,
      logsDir,
      timings,
      readyMs: timings.readyMs,
      async killApiserver() {
        const pid = finalPids.apiserver;
        if (isAlive(pid, dir)) process.kill(pid, 'SIGKILL');
        for (let i = 0; i < 100 && isAlive(pid, dir); i++) await sleep(50);
      },
      async startApiserver() {
        const again = launch('kube-apiserver', bin('kube-apiserver'), apiserverArgs, logsDir, detached);
        finalPids.apiserver = again.pid;
        writeOwner(dir, owner);
        await waitUntil(
          'kube-apiserver /readyz (restarted)',
          Date.now() + (opts.readyTimeoutMs ?? 90_000),
          [again],
          async () => (await httpsGet(`${server}/readyz`, tls)).status === 200,
          250,
        );
      },
      stop(stopOpts = {}) {
        stopped ??= stopControlPlaneProcesses(finalPids, dir, {
          keepLogs: stopOpts.keepLogs ?? keepLogsDefault,
        }).finally(() => {
          if (!detached) process.off('exit', onExit);
        });
        return stopped;
      },
    };
  } catch (e) {
    const logs = procs.map((p) => `--- ${p.name} (${p.logFile}) ---\n${tail(p.logFile)}`).join('\n');
    const portClash = mayRetry && /address already in use/i.test(logs);
    const { keptLogs } = await stopControlPlaneProcesses(pids, dir, { keepLogs: !portClash, graceMs: 3000 });
    if (!detached) process.off('exit', onExit);
    if (portClash) throw new RetryableStart((e as Error).message);
    if (!(e instanceof StartFailure)) throw e;
    throw new ControlPlaneStartError(
      `control plane failed to start: ${e.message} after ${((Date.now() - t0) / 1000).toFixed(1)} s` +
        `${keptLogs ? `\nlogs kept in ${keptLogs}` : ''}\n${logs}`,
      keptLogs,
    );
  }
}
