/**
 * Kubeconfig loading with kubectl's rules: `--kubeconfig` (one file), else every path in `$KUBECONFIG`
 * merged (the first file to define a name wins, the first non-empty current-context wins), else
 * `~/.kube/config`. No silent fallback to in-cluster config or localhost:8080.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
// Only the small config_types module at load time: the package index pulls in the generated API client
// (~70 MB RSS and ~0.5 s per process). KubeConfig itself is loaded on demand, for auth-provider users only.
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { newClusters, newContexts, newUsers } from '@kubernetes/client-node/dist/config_types.js';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';

export interface KubeconfigOptions {
  /** `--kubeconfig`: exactly this file. */
  kubeconfig?: string;
  /** `--context`: use this context instead of current-context. */
  context?: string;
  /** `$KUBECONFIG`, injectable for tests. */
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedKubeconfig {
  /**
   * client-node's KubeConfig for the selected context (imported on first call). Only auth providers (OIDC, …)
   * need it; everything else is read from `cluster` and `user`.
   */
  kubeConfig(): Promise<KubeConfig>;
  files: string[];
  contextName: string;
  context: Context;
  cluster: Cluster;
  user: User;
  /** Namespace of the context, if set (kubectl's default for `-n`). */
  namespace: string | undefined;
}

const MAX_KUBECONFIG_BYTES = 1024 * 1024;

function kubeconfigFiles(options: KubeconfigOptions): string[] {
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) {
      throw new ConfigError(
        `kubeconfig ${options.kubeconfig} does not exist`,
        'check the --kubeconfig path, or omit it to use $KUBECONFIG or ~/.kube/config',
      );
    }
    return [options.kubeconfig];
  }
  const env = options.env ?? process.env;
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f.length > 0);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) {
      throw new ConfigError(
        `none of the files in $KUBECONFIG exist (${files.join(', ')})`,
        'point $KUBECONFIG at your kubeconfig, or pass --kubeconfig FILE',
      );
    }
    return present;
  }
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (!existsSync(home)) {
    throw new ConfigError(
      'no kubeconfig found: --kubeconfig is not set, $KUBECONFIG is empty and ~/.kube/config does not exist',
      'pass --kubeconfig FILE, set $KUBECONFIG, or run offline with --manifests DIR',
    );
  }
  return [home];
}

interface LoadedKubeconfig {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string | undefined;
}

function loadOne(file: string): LoadedKubeconfig {
  let text: string;
  try {
    if (statSync(file).size > MAX_KUBECONFIG_BYTES) {
      throw new ConfigError(`kubeconfig ${file} is larger than 1 MiB`, 'is this really a kubeconfig?');
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `cannot read kubeconfig ${file}: ${(error as Error).message}`,
      'check the file permissions',
    );
  }
  let doc: unknown;
  try {
    // Parse with our own hardened settings (client-node's parser has no alias limit), then hand JSON over.
    doc = parse(text, { maxAliasCount: 10, uniqueKeys: true, merge: false, prettyErrors: true });
  } catch (error) {
    const first = String((error as Error).message).split('\n')[0];
    throw new ConfigError(
      `kubeconfig ${file} is not valid YAML: ${first}`,
      'fix the file or point --kubeconfig elsewhere',
    );
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`kubeconfig ${file} is not a kubeconfig (expected a mapping)`, 'fix the file');
  }
  // What KubeConfig.loadFromString does after parsing (same validation: invalid entries throw).
  const d = doc as Record<string, unknown>;
  let kc: LoadedKubeconfig;
  try {
    kc = {
      clusters: newClusters(d.clusters),
      contexts: newContexts(d.contexts),
      // newUsers reads `token-file` itself, relative to the working directory: resolve it first.
      users: newUsers(withAbsoluteTokenFiles(d.users, dirname(file))),
      currentContext: typeof d['current-context'] === 'string' ? d['current-context'] : undefined,
    };
  } catch (error) {
    throw new ConfigError(`kubeconfig ${file} is invalid: ${(error as Error).message}`, 'fix the file');
  }
  makePathsAbsolute(kc, dirname(file));
  return kc;
}

/** `users[].user.token-file` relative to the kubeconfig's directory, as kubectl resolves it. */
function withAbsoluteTokenFiles(users: unknown, root: string): unknown {
  if (!Array.isArray(users)) return users;
  return users.map((entry: unknown) => {
    const user = (entry as { user?: Record<string, unknown> } | null)?.user;
    const tokenFile = user?.['token-file'];
    if (typeof tokenFile !== 'string' || !tokenFile || isAbsolute(tokenFile)) return entry;
    return { ...(entry as object), user: { ...user, 'token-file': join(root, tokenFile) } };
  });
}

function makePathsAbsolute(kc: LoadedKubeconfig, root: string): void {
  const abs = (p: string | undefined) => (p && !isAbsolute(p) ? join(root, p) : p);
  for (const c of kc.clusters) if (c.caFile) c.caFile = abs(c.caFile);
  for (const u of kc.users) {
    if (u.certFile) u.certFile = abs(u.certFile);
    if (u.keyFile) u.keyFile = abs(u.keyFile);
    // A token file usually ends with a newline, which is no part of the token (and invalid in a header).
    if (u.token) (u as { token: string }).token = u.token.trim();
    // An exec command with a path separator is relative to the kubeconfig; a bare name is looked up in PATH.
    const exec = u.exec as { command?: string } | undefined;
    if (exec?.command && !isAbsolute(exec.command) && /[/\\]/.test(exec.command)) {
      exec.command = join(root, exec.command);
    }
  }
}

/** The context names of the merged kubeconfigs, sorted (shell completion); throws ConfigError like resolveKubeconfig. */
export function kubeconfigContextNames(options: KubeconfigOptions = {}): string[] {
  const names = new Set<string>();
  for (const file of kubeconfigFiles(options)) for (const c of loadOne(file).contexts) names.add(c.name);
  return [...names].sort();
}

/** Load and merge kubeconfigs, select the context, and check that it is complete. */
export function resolveKubeconfig(options: KubeconfigOptions = {}): ResolvedKubeconfig {
  const files = kubeconfigFiles(options);
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let current = '';
  for (const file of files) {
    const kc = loadOne(file);
    for (const c of kc.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const x of kc.contexts) if (!contexts.has(x.name)) contexts.set(x.name, x);
    if (!current && kc.currentContext) current = kc.currentContext;
  }
  const contextName = options.context ?? current;
  const where = files.length === 1 ? `kubeconfig ${files[0]}` : `kubeconfigs ${files.join(', ')}`;
  if (!contextName) {
    throw new ConfigError(
      `no current context in ${where}`,
      contexts.size > 0
        ? `pass --context (one of: ${[...contexts.keys()].sort().join(', ')})`
        : 'the kubeconfig defines no contexts',
    );
  }
  const context = contexts.get(contextName);
  if (!context) {
    throw new ConfigError(
      `context "${contextName}" not found in ${where}`,
      contexts.size > 0
        ? `use one of: ${[...contexts.keys()].sort().join(', ')}`
        : 'the kubeconfig defines no contexts',
    );
  }
  const cluster = clusters.get(context.cluster);
  if (!cluster) {
    throw new ConfigError(
      `context "${contextName}" refers to cluster "${context.cluster}", which is not defined`,
      'fix the kubeconfig',
    );
  }
  if (!cluster.server) {
    throw new ConfigError(`cluster "${cluster.name}" has no server address`, 'fix the kubeconfig');
  }
  try {
    new URL(cluster.server);
  } catch {
    throw new ConfigError(
      `cluster "${cluster.name}" has an invalid server address "${cluster.server}"`,
      'fix the kubeconfig',
    );
  }
  const user = users.get(context.user) ?? { name: context.user };
  let kubeConfig: Promise<KubeConfig> | undefined;
  return {
    kubeConfig: () => {
      kubeConfig ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
        const kc = new KubeConfig();
        kc.loadFromOptions({
          clusters: [...clusters.values()],
          users: [...users.values()],
          contexts: [...contexts.values()],
          currentContext: contextName,
        });
        return kc;
      });
      return kubeConfig;
    },
    files,
    contextName,
    context,
    cluster,
    user,
    namespace: context.namespace,
  };
}
