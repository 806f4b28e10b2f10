/**
 * The control plane as phase 6 sees it (pure): which platform runs it, whether audit logging and encryption at rest
 * are configured on every visible kube-apiserver, whether the audit log leaves the node, and where the API server
 * is reachable. What the API does not show is `unknown`, never `off` (managed control planes, installers that run
 * the API server outside Kubernetes, a user who may not read kube-system).
 */
import type { ControlPlaneFacts } from '../../inventory/control-plane-facts.js';
import type { Snapshot } from '../../inventory/types.js';
import { boolFlag, parseFlags } from './flags.js';

export type Platform = 'kubeadm' | 'static-pod' | 'k3s' | 'rke2' | 'eks' | 'gke' | 'aks' | 'unknown';

export const MANAGED: readonly Platform[] = ['eks', 'gke', 'aks'];

/** Where an instance's flags were read. */
export type FlagSource = 'static pod' | 'kubeadm ClusterConfiguration' | 'k3s node args';

export interface Instance {
  name: string;
  source: FlagSource;
  flags: ReadonlyMap<string, string>;
}

export type State = 'on' | 'off' | 'unknown';

export interface AuditVerdict {
  state: State;
  /** Instances without a policy file or without a backend. */
  off: Array<{ instance: string; missing: string[] }>;
  policyFile?: string;
  logPath?: string;
  webhookConfigFile?: string;
  /** How the log leaves the node: the webhook backend, a log shipper DaemonSet (named), none seen, or unknown. */
  shipping: { state: 'webhook' | 'shipper' | 'none' | 'unknown'; shipper?: string };
  /** The log backend runs without explicit rotation flags on a server older than 1.36 (no age or count limit). */
  unboundedRotation: boolean;
  notes: string[];
}

export interface EncryptionVerdict {
  state: State;
  off: string[];
  configFile?: string;
  automaticReload?: boolean;
  /** What the answering API server's metrics show of Secrets since it started (absent when they were not read). */
  observed?: ObservedSecretStorage;
  notes: string[];
}

/** Successful Secret transformations, by provider: `identity` is plaintext, else `aescbc`, `secretbox`, `kms v2`, …. */
export interface ObservedSecretStorage {
  writes: Record<string, number>;
  reads: Record<string, number>;
}

export interface Exposure {
  /** `kubeconfig server`, `default/kubernetes endpoints`, `LoadBalancer kube-system/x`, `--advertise-address`, `--bind-address`. */
  where: string;
  address: string;
  public: boolean | 'unknown';
}

export interface ControlPlaneVerdict {
  platform: Platform;
  managed: boolean;
  evidence: string[];
  /** At least one API server's flags are visible. */
  visible: boolean;
  instances: Instance[];
  audit: AuditVerdict;
  encryption: EncryptionVerdict;
  anonymousAuth: 'enabled' | 'disabled' | 'unknown';
  profiling: 'enabled' | 'disabled' | 'unknown';
  exposures: Exposure[];
}

type Input = Pick<Snapshot, 'source' | 'serverVersion' | 'controlPlaneFacts' | 'network'>;

const SHIPPER =
  /fluent-?bit|fluentd|\bvector\b|filebeat|promtail|grafana-agent|\balloy\b|splunk|datadog|opentelemetry-collector|otel-collector|logstash|nxlog|sumologic/i;

/** The platform, from the strongest signal down (phases-3-6 reference §7). */
export function detectPlatform(input: Input): { platform: Platform; evidence: string[] } {
  const facts = input.controlPlaneFacts;
  const git = input.serverVersion?.gitVersion ?? input.network?.cniConfig.serverGitVersion ?? '';
  if (/\+rke2/.test(git)) return { platform: 'rke2', evidence: [`server version ${git}`] };
  if (facts && facts.apiServers.length > 0) {
    const names = facts.apiServers.map((a) => a.name).join(', ');
    if (facts.kubeadm)
      return {
        platform: 'kubeadm',
        evidence: [`kube-apiserver static pod(s) ${names}`, 'ConfigMap kube-system/kubeadm-config'],
      };
    return { platform: 'static-pod', evidence: [`kube-apiserver static pod(s) ${names}`] };
  }
  if (/-eks-/.test(git)) return { platform: 'eks', evidence: [`server version ${git}`] };
  if (/-gke\./.test(git)) return { platform: 'gke', evidence: [`server version ${git}`] };
  if (/\+k3s/.test(git)) return { platform: 'k3s', evidence: [`server version ${git}`] };
  const nodes = facts?.nodes ?? [];
  const label = (re: RegExp) => nodes.find((n) => Object.keys(n.labels).some((k) => re.test(k)));
  const aks = label(/^kubernetes\.azure\.com\/cluster$/);
  if (aks) return { platform: 'aks', evidence: [`node ${aks.name} label kubernetes.azure.com/cluster`] };
  const eks = label(/^(eks\.amazonaws\.com\/|alpha\.eksctl\.io\/)/);
  if (eks) return { platform: 'eks', evidence: [`node ${eks.name} has eks.amazonaws.com labels`] };
  const gke = label(/^cloud\.google\.com\/gke-/);
  if (gke) return { platform: 'gke', evidence: [`node ${gke.name} has cloud.google.com/gke-* labels`] };
  if (facts?.kubeadm)
    return {
      platform: 'kubeadm',
      evidence: ['ConfigMap kube-system/kubeadm-config (no static pod visible)'],
    };
  const byProvider: Array<[string, Platform]> = [
    ['aws://', 'eks'],
    ['gce://', 'gke'],
    ['azure://', 'aks'],
  ];
  for (const [prefix, platform] of byProvider) {
    const n = nodes.find((x) => x.providerID?.startsWith(prefix));
    if (n)
      return {
        platform,
        evidence: [
          `node ${n.name} providerID ${prefix}… and no API server visible (a self-managed control plane on that cloud is possible)`,
        ],
      };
  }
  return { platform: 'unknown', evidence: [] };
}

/** k3s passes API server flags as `--kube-apiserver-arg=name=value` (or `--kube-apiserver-arg name=value`). */
function k3sInstance(args: readonly string[]): Instance {
  const flags = new Map<string, string>();
  const top = parseFlags(args);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    let v: string | undefined;
    if (a.startsWith('--kube-apiserver-arg=')) v = a.slice('--kube-apiserver-arg='.length);
    else if (a === '--kube-apiserver-arg') v = args[++i];
    if (!v) continue;
    const eq = v.indexOf('=');
    flags.set(
      eq >= 0 ? v.slice(0, eq).replace(/^--/, '') : v.replace(/^--/, ''),
      eq >= 0 ? v.slice(eq + 1) : 'true',
    );
  }
  // k3s's own switch writes and passes an encryption config.
  if (boolFlag(top, 'secrets-encryption') === true && !flags.has('encryption-provider-config'))
    flags.set('encryption-provider-config', '(k3s --secrets-encryption)');
  return { name: 'k3s server', source: 'k3s node args', flags };
}

function instancesOf(input: Input): Instance[] {
  const facts = input.controlPlaneFacts;
  if (facts && facts.apiServers.length > 0)
    return facts.apiServers.map((a) => ({ name: a.name, source: 'static pod', flags: parseFlags(a.flags) }));
  if (facts?.kubeadm)
    return [
      {
        name: 'kube-system/kubeadm-config',
        source: 'kubeadm ClusterConfiguration',
        flags: new Map(Object.entries(facts.kubeadm.extraArgs)),
      },
    ];
  const k3s = input.network?.cniConfig.k3sNodeArgs;
  if (k3s && k3s.length > 0) return [k3sInstance(k3s)];
  return [];
}

const V4_PRIVATE: Array<[number, number, number]> = [
  // [first octet, second-octet min, max] for ranges that fit; others handled below.
  [10, 0, 255],
  [127, 0, 255],
  [172, 16, 31],
  [192, 168, 168],
  [169, 254, 254],
  [100, 64, 127],
  [0, 0, 255],
];

/** Whether an address is reachable from the internet: private, loopback, link-local and CGNAT are not. */
export function isPublicAddress(address: string): boolean | 'unknown' {
  const host = address.replace(/^\[|\]$/g, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return !V4_PRIVATE.some(([first, lo, hi]) => a === first && b >= lo && b <= hi);
  }
  if (host.includes(':')) {
    const h = host.toLowerCase();
    if (h === '::1' || h === '::') return false;
    if (/^f[cd]/.test(h) || /^fe[89ab]/.test(h)) return false;
    return true;
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return false;
  return 'unknown';
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

function exposures(input: Input, instances: Instance[]): Exposure[] {
  const out: Exposure[] = [];
  const add = (where: string, address: string) => {
    if (!address || out.some((e) => e.where === where && e.address === address)) return;
    out.push({ where, address, public: isPublicAddress(address) });
  };
  if (input.source.kind === 'cluster') {
    const host = hostOf(input.source.server);
    if (host) add('kubeconfig server', host);
  }
  const api = input.network?.apiServer;
  for (const s of api?.endpointSlices ?? [])
    for (const e of s.endpoints) for (const a of e.addresses) add('default/kubernetes endpoints', a);
  for (const s of api?.endpoints?.subsets ?? [])
    for (const a of s.addresses ?? []) add('default/kubernetes endpoints', a.ip);
  for (const lb of input.controlPlaneFacts?.loadBalancers ?? [])
    for (const a of lb.addresses) add(`LoadBalancer Service ${lb.namespace}/${lb.name}`, a);
  for (const i of instances) {
    const adv = i.flags.get('advertise-address');
    if (adv) add(`--advertise-address of ${i.name}`, adv);
    // The address it listens on: 0.0.0.0 / :: (all interfaces, the default) is not an address of its own; a
    // public one named here is reachable whatever the advertised address says.
    const bind = i.flags.get('bind-address');
    if (bind && bind !== '0.0.0.0' && bind !== '::') add(`--bind-address of ${i.name}`, bind);
  }
  const cpe = input.controlPlaneFacts?.kubeadm?.controlPlaneEndpoint;
  if (cpe) add('kubeadm controlPlaneEndpoint', cpe.replace(/:\d+$/, ''));
  return out;
}

function auditVerdict(input: Input, instances: Instance[], platform: Platform): AuditVerdict {
  const notes: string[] = [];
  const off: AuditVerdict['off'] = [];
  for (const i of instances) {
    const missing: string[] = [];
    if (!i.flags.get('audit-policy-file')) missing.push('--audit-policy-file');
    if (!i.flags.get('audit-log-path') && !i.flags.get('audit-webhook-config-file'))
      missing.push('--audit-log-path or --audit-webhook-config-file');
    if (missing.length) off.push({ instance: i.name, missing });
  }
  const first = (flag: string) => instances.map((i) => i.flags.get(flag)).find((v) => v);
  const policyFile = first('audit-policy-file');
  const logPath = first('audit-log-path');
  const webhookConfigFile = first('audit-webhook-config-file');
  const state: State = instances.length === 0 ? 'unknown' : off.length ? 'off' : 'on';
  if (instances[0]?.source === 'kubeadm ClusterConfiguration')
    notes.push(
      'read from kubeadm ClusterConfiguration (no kube-apiserver static pod visible): the running flags may differ',
    );
  const kubeadm = input.controlPlaneFacts?.kubeadm;
  if (
    instances[0]?.source === 'static pod' &&
    kubeadm &&
    policyFile &&
    !kubeadm.extraArgs['audit-policy-file']
  )
    notes.push(
      'the static pod has the audit flags but kubeadm ClusterConfiguration does not: `kubeadm upgrade` regenerates the manifest without them',
    );

  let shipping: AuditVerdict['shipping'];
  if (webhookConfigFile) shipping = { state: 'webhook' };
  else {
    const ds = input.network?.daemonSets ?? [];
    const shipper = ds.find(
      (d) => SHIPPER.test(d.name) || d.containers.some((c) => SHIPPER.test(c.image ?? '')),
    );
    if (shipper) shipping = { state: 'shipper', shipper: `${shipper.namespace}/${shipper.name}` };
    else if (!input.network || input.network.cniConfig.daemonSetsUnreadable) shipping = { state: 'unknown' };
    else if (MANAGED.includes(platform)) shipping = { state: 'unknown' };
    else shipping = { state: 'none' };
  }
  const minor = input.serverVersion?.minor;
  const unboundedRotation =
    minor !== undefined &&
    minor < 36 &&
    instances.some((i) => {
      const path = i.flags.get('audit-log-path');
      return (
        !!path && path !== '-' && (!i.flags.get('audit-log-maxage') || !i.flags.get('audit-log-maxbackup'))
      );
    });
  return {
    state,
    off,
    ...(policyFile ? { policyFile } : {}),
    ...(logPath ? { logPath } : {}),
    ...(webhookConfigFile ? { webhookConfigFile } : {}),
    shipping,
    unboundedRotation,
    notes,
  };
}

/** `k8s:enc:secretbox:v1:key1:` → `secretbox`, `k8s:enc:kms:v2:name:` → `kms v2`; `""` and `identity` → `identity`. */
export function providerOfPrefix(prefix: string): string {
  if (prefix === '' || prefix === 'identity') return 'identity';
  const [k8s, enc, provider, version] = prefix.split(':');
  if (k8s !== 'k8s' || enc !== 'enc' || !provider) return prefix;
  return provider === 'kms' && version ? `kms ${version}` : provider;
}

function observedSecretStorage(facts: ControlPlaneFacts | undefined): ObservedSecretStorage | undefined {
  if (!facts?.secretTransformations) return undefined;
  const observed: ObservedSecretStorage = { writes: {}, reads: {} };
  for (const t of facts.secretTransformations) {
    const into = t.type === 'to_storage' ? observed.writes : observed.reads;
    const provider = providerOfPrefix(t.prefix);
    into[provider] = (into[provider] ?? 0) + t.count;
  }
  return observed;
}

const count = (by: Record<string, number>, plaintext: boolean) =>
  Object.entries(by)
    .filter(([provider]) => (provider === 'identity') === plaintext)
    .reduce((sum, [, n]) => sum + n, 0);

/**
 * Providers and counts by name, `kms v2 ×3, secretbox ×12`; identity (plaintext) is left out, unless `identity`
 * says how to name it.
 */
export const providersLine = (by: Record<string, number>, identity?: string) =>
  Object.entries(by)
    .filter(([provider]) => provider !== 'identity' || identity)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([provider, n]) => `${provider === 'identity' ? identity : provider} ×${n}`)
    .join(', ');

/** Secret writes since the API server started that went to etcd in plaintext (identity first), and encrypted ones. */
export const plaintextWrites = (o: ObservedSecretStorage | undefined) => (o ? count(o.writes, true) : 0);
export const encryptedWrites = (o: ObservedSecretStorage | undefined) => (o ? count(o.writes, false) : 0);

function encryptionVerdict(
  instances: Instance[],
  platform: Platform,
  facts: ControlPlaneFacts | undefined,
): EncryptionVerdict {
  const notes: string[] = [];
  const off = instances.filter((i) => !i.flags.get('encryption-provider-config')).map((i) => i.name);
  const configFile = instances.map((i) => i.flags.get('encryption-provider-config')).find((v) => v);
  const observed = observedSecretStorage(facts);
  const written = plaintextWrites(observed) + encryptedWrites(observed);
  // Only an API server with an EncryptionConfiguration counts Secret transformations: writes seen in its metrics
  // show a configuration is in place even where its flags are not visible (a managed control plane).
  const state: State = instances.length === 0 ? (written > 0 ? 'on' : 'unknown') : off.length ? 'off' : 'on';
  if (state === 'on' && observed && written > 0) {
    const encrypted = encryptedWrites(observed);
    notes.push(
      `the metrics of the API server that answered show ${written} Secret write(s) since it started: ${
        encrypted ? `encrypted with ${providersLine(observed.writes)}` : 'none encrypted'
      }${plaintextWrites(observed) ? `, ${plaintextWrites(observed)} in plaintext (identity first)` : ''}${
        instances.length > 1 ? `; the other ${instances.length - 1} API server(s) were not asked` : ''
      }`,
    );
  } else if (state === 'on')
    notes.push(
      `the providers in the file are not visible through the API, and ${
        facts?.metricsError
          ? `the API server's metrics could not be read (${facts.metricsError.reason})`
          : 'no Secret was written since the API server started'
      }: check on a control-plane node that identity is not first (an etcdctl read of a Secret shows the k8s:enc: prefix)`,
    );
  const plaintextReads = observed ? count(observed.reads, true) : 0;
  if (state === 'on' && plaintextReads > 0)
    notes.push(
      `${plaintextReads} Secret read(s) from etcd since the API server started found plaintext: Secrets written before encryption was turned on stay plaintext until every Secret is rewritten`,
    );
  if (platform === 'eks')
    notes.push('EKS ≥ 1.28 encrypts all API data by default with an AWS-owned KMS key (envelope encryption)');
  const reload = instances.map((i) => boolFlag(i.flags, 'encryption-provider-config-automatic-reload'));
  return {
    state,
    off,
    ...(configFile ? { configFile } : {}),
    ...(reload.some((r) => r === true) ? { automaticReload: true } : {}),
    ...(observed ? { observed } : {}),
    notes,
  };
}

export function evaluateControlPlane(input: Input): ControlPlaneVerdict {
  const { platform, evidence } = detectPlatform(input);
  const instances = instancesOf(input);
  const known = (flag: string): 'enabled' | 'disabled' | 'unknown' => {
    if (instances.length === 0) return 'unknown';
    // Both flags default to true in kube-apiserver.
    return instances.every((i) => boolFlag(i.flags, flag) === false) ? 'disabled' : 'enabled';
  };
  return {
    platform,
    managed: MANAGED.includes(platform),
    evidence,
    visible: instances.length > 0,
    instances,
    audit: auditVerdict(input, instances, platform),
    encryption: encryptionVerdict(instances, platform, input.controlPlaneFacts),
    anonymousAuth: known('anonymous-auth'),
    profiling: known('profiling'),
    exposures: exposures(input, instances),
  };
}

/** Why the control plane is not visible, for messages (unknown is not "off"). */
export function invisibleReason(input: Input, platform: Platform): string {
  const f: ControlPlaneFacts | undefined = input.controlPlaneFacts;
  if (MANAGED.includes(platform))
    return `the control plane is managed by ${platform.toUpperCase()}: its flags are not visible through the Kubernetes API`;
  if (f?.apiServersUnreadable)
    return 'the kube-system pods could not be listed, so no kube-apiserver static pod could be read';
  return 'no kube-apiserver static pod or kubeadm ClusterConfiguration is visible (the API server runs outside Kubernetes, or on a platform kube-harden does not recognise)';
}
