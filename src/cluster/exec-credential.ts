/**
 * client.authentication.k8s.io exec credential plugins, run asynchronously with a timeout so a slow or hanging
 * plugin never freezes the terminal (kubernetes-client/javascript#2044). The whole process group is killed on
 * timeout. Credentials stay in memory only and are never logged.
 */
import { execa } from 'execa';
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

export async function runExecPlugin(
  userName: string,
  exec: ExecConfig,
  options: { timeoutMs: number; server: string; interactive: boolean },
): Promise<ExecCredential> {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  const what = `credential plugin "${exec.command}" of user "${userName}"`;
  if (!SUPPORTED.has(apiVersion)) {
    throw new ConfigError(
      `${what} uses unsupported apiVersion "${apiVersion}"`,
      'use client.authentication.k8s.io/v1 in the kubeconfig (update the plugin or its kubeconfig entry)',
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
  const child = execa(exec.command, exec.args ?? [], {
    env,
    extendEnv: true,
    reject: false,
    // Let a device-code prompt reach the operator; stdin only when interactive.
    stdin: options.interactive ? 'inherit' : 'ignore',
    stdout: 'pipe',
    stderr: options.interactive ? 'inherit' : 'pipe',
    detached: true,
    cleanup: true,
    maxBuffer: 1024 * 1024,
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
    const stderr = typeof result.stderr === 'string' ? lastLine(result.stderr) : '';
    throw new ConfigError(
      `${what} failed with exit code ${result.exitCode}${stderr ? `: ${stderr}` : ''}`,
      'log in again with your cloud CLI, or run the plugin by hand to see the error',
    );
  }
  let parsed: { apiVersion?: string; kind?: string; status?: Record<string, unknown> };
  try {
    parsed = JSON.parse(String(result.stdout));
  } catch {
    throw new ConfigError(
      `${what} printed something that is not an ExecCredential JSON object`,
      'check the plugin version',
    );
  }
  if (parsed.apiVersion !== apiVersion) {
    throw new ConfigError(
      `${what} returned apiVersion "${parsed.apiVersion ?? ''}", but the kubeconfig asks for "${apiVersion}"`,
      'make the kubeconfig exec.apiVersion match the plugin (usually client.authentication.k8s.io/v1)',
    );
  }
  const status = parsed.status ?? {};
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
  if (credential.expiresAt !== undefined && credential.expiresAt <= Date.now()) {
    throw new ConfigError(`${what} returned an expired credential`, 'log in again with your cloud CLI');
  }
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

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
