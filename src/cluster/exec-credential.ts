/**
 * client.authentication.k8s.io exec credential plugins, run asynchronously with a timeout so a slow or hanging
 * plugin never freezes the terminal (kubernetes-client/javascript#2044). The whole process group is killed on
 * timeout. The plugin's stderr reaches the operator while it runs (device-code prompts, login URLs), as with
 * kubectl. Credentials stay in memory only and are never logged.
 */
import { basename } from 'node:path';
import { ConfigError } from '../errors.js';

export interface ExecConfig {
  apiVersion?: string;
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  provideClusterInfo?: boolean;
}

export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** Epoch ms; undefined = valid until the server says otherwise (401). */
  expiresAt?: number;
}

const SUPPORTED = new Set([
  'client.authentication.k8s.io/v1',
  'client.authentication.k8s.io/v1beta1',
  'client.authentication.k8s.io/v1alpha1',
]);

const INTERPRETERS = /^(node|nodejs|python[0-9.]*|bash|sh|zsh|ruby|perl|deno|bun|pwsh|powershell)(\.exe)?$/i;

/**
 * How messages name a plugin: the command's file name, plus the script's when the command is an interpreter
 * (`node plugin.mjs`). Never the other arguments, which may carry secrets.
 */
export function pluginName(exec: Pick<ExecConfig, 'command' | 'args'>): string {
  const command = basename(exec.command);
  const script = exec.args?.[0];
  if (INTERPRETERS.test(command) && script && !script.startsWith('-'))
    return `${command} ${basename(script)}`;
  return command;
}

export interface RunExecPluginOptions {
  timeoutMs: number;
  server: string;
  interactive: boolean;
  /** The plugin's stderr, as it arrives (default: this process's stderr). */
  onStderr?: (text: string) => void;
}

export async function runExecPlugin(
  userName: string,
  exec: ExecConfig,
  options: RunExecPluginOptions,
): Promise<ExecCredential> {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  const what = `credential plugin "${pluginName(exec)}" of user "${userName}"`;
  if (!SUPPORTED.has(apiVersion)) {
    throw new ConfigError(
      `${what}: the kubeconfig asks for apiVersion "${apiVersion}", which kube-harden does not support (it supports ${[...SUPPORTED].join(', ')})`,
      'set exec.apiVersion of this user in the kubeconfig to client.authentication.k8s.io/v1 (or the version the plugin documents)',
    );
  }
  if (exec.interactiveMode === 'Always' && !options.interactive) {
    throw new ConfigError(
      `${what} needs an interactive terminal (interactiveMode: Always)`,
      'run in a terminal',
    );
  }
  const env: Record<string, string> = {};
  for (const e of exec.env ?? []) env[e.name] = e.value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify({
    apiVersion,
    kind: 'ExecCredential',
    spec: {
      interactive: options.interactive,
      ...(exec.provideClusterInfo ? { cluster: { server: options.server } } : {}),
    },
  });
  // Loaded on first use: most runs never start a plugin, and execa is a tenth of the CLI's start-up modules.
  const { execa } = await import('execa');
  const child = execa(exec.command, exec.args ?? [], {
    env,
    extendEnv: true,
    reject: false,
    // stdin only when interactive; stderr is passed on as it arrives (below) and its tail kept for errors.
    stdin: options.interactive ? 'inherit' : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: true, stderr: false },
    detached: true,
    cleanup: true,
    maxBuffer: 1024 * 1024,
  });
  const onStderr = options.onStderr ?? ((text: string) => process.stderr.write(text));
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    // A device-code prompt ("open https://… and enter code ABCD-EFGH") must reach the operator while the
    // plugin waits for the login, not after it returns.
    onStderr(text);
    stderrTail = (stderrTail + text).slice(-4096);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, options.timeoutMs);
  timer.unref();
  const result = await child;
  clearTimeout(timer);
  if (timedOut) {
    throw new ConfigError(
      `${what} did not answer within ${Math.round(options.timeoutMs / 1000)}s and was stopped`,
      'run the plugin by hand to see what it waits for (a login?), or raise KUBE_HARDEN_EXEC_TIMEOUT (seconds)',
    );
  }
  if (result.failed && result.exitCode === undefined) {
    throw new ConfigError(
      `${what} could not be started: ${result.shortMessage}`,
      'install the plugin or fix its path in the kubeconfig',
    );
  }
  if (result.exitCode !== 0) {
    const stderr = lastLine(stderrTail);
    throw new ConfigError(
      `${what} failed with exit code ${result.exitCode}${stderr ? `: ${stderr}` : ''}`,
      'log in again with your cloud CLI, or run the plugin by hand to see the error',
    );
  }
  let parsed: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
  try {
    parsed = JSON.parse(String(result.stdout));
  } catch {
    parsed = {};
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || parsed.kind !== 'ExecCredential') {
    // Never quote the output: it may be a credential in another format.
    throw new ConfigError(
      `${what} printed something that is not an ExecCredential (the kubeconfig asks for apiVersion "${apiVersion}")`,
      'run the plugin by hand: it must print an ExecCredential JSON object on stdout; update the plugin or fix its arguments in the kubeconfig',
    );
  }
  if (parsed.apiVersion !== apiVersion) {
    const got = typeof parsed.apiVersion === 'string' ? printable(parsed.apiVersion) : '';
    throw new ConfigError(
      got
        ? `${what} returned apiVersion "${got}", but the kubeconfig asks for "${apiVersion}"`
        : `${what} returned an ExecCredential without an apiVersion (the kubeconfig asks for "${apiVersion}")`,
      got && SUPPORTED.has(got)
        ? `set exec.apiVersion of user "${userName}" in the kubeconfig to "${got}", or update the plugin`
        : `update the plugin: it must return one of ${[...SUPPORTED].join(', ')}`,
    );
  }
  const status = parsed.status && typeof parsed.status === 'object' ? parsed.status : {};
  const credential: ExecCredential = {};
  if (typeof status.token === 'string' && status.token) credential.token = status.token;
  if (typeof status.clientCertificateData === 'string')
    credential.clientCertificateData = status.clientCertificateData;
  if (typeof status.clientKeyData === 'string') credential.clientKeyData = status.clientKeyData;
  if (typeof status.expirationTimestamp === 'string') {
    const t = Date.parse(status.expirationTimestamp);
    if (Number.isFinite(t)) credential.expiresAt = t;
  }
  if (!credential.token && !(credential.clientCertificateData && credential.clientKeyData)) {
    throw new ConfigError(
      `${what} returned no token and no client certificate`,
      'log in again with your cloud CLI',
    );
  }
  // A credential that is already past its expirationTimestamp (clock skew, a plugin's stale cache) is tried
  // anyway, as client-go does: the API server decides, and a 401 re-runs the plugin once (transport.ts). Caching
  // it "until expiry" would run the plugin before every request.
  if (credential.expiresAt !== undefined && credential.expiresAt <= Date.now()) delete credential.expiresAt;
  return credential;
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** An apiVersion from a plugin, shown in a message: printable ASCII only, at most 100 characters. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
