/**
 * Which CNI runs, and whether it enforces NetworkPolicy (reference phases-3-6 §1). No API says "NetworkPolicy is
 * enforced" ("Creating a NetworkPolicy resource without a controller that implements it will have no effect",
 * kubernetes/website `network-policies.md`), so the verdict comes from what runs: DaemonSet names, container
 * names, images and flags, in any namespace. Plugins are chained (Calico or Cilium policy on another CNI), so every
 * match is collected: one enforcer is enough; `false` only on a positive match of a non-enforcing setup; no match
 * is `unknown`.
 */
import type { CniConfigHints, DaemonSetLite, NetpolContainer } from './types.js';

export type Enforcement = boolean | 'unknown';

export interface CniMatch {
  cni: string;
  enforces: Enforcement;
  /** The DaemonSet it was seen in (absent for k3s, seen from the server's version and node annotations). */
  daemonSet?: { namespace: string; name: string };
  /** `kube-system/DaemonSet calico-node: container calico-node (calico/node:v3.28.0)`. */
  evidence: string;
}

export interface CniVerdict {
  /** The CNIs found, joined with `+` (`aws-vpc-cni+calico`), or `unknown`. */
  cni: string;
  enforcesNetworkPolicy: Enforcement;
  evidence: string[];
  matches: CniMatch[];
}

/** Image repository without registry and tag: `quay.io/calico/node:v3.28@sha256:..` → `calico/node`. */
export function imageRepo(image: string | undefined): string {
  if (!image) return '';
  let s = image.split('@')[0] ?? '';
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  const parts = s.split('/');
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? '')) parts.shift();
  return parts.join('/');
}

function imageTag(image: string | undefined): string {
  const s = (image ?? '').split('@')[0] ?? '';
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  return colon > slash ? s.slice(colon + 1) : '';
}

/** The value of a flag in `--flag=value`, `--flag value` or bare `--flag` (→ `true`) form; also `-flag`. */
export function flagValue(args: readonly string[] | undefined, flag: string): string | undefined {
  const list = args ?? [];
  for (let i = 0; i < list.length; i++) {
    const a = list[i] ?? '';
    for (const prefix of ['--', '-']) {
      const f = prefix + flag;
      if (a === f) {
        const next = list[i + 1];
        return next !== undefined && !next.startsWith('-') ? next : 'true';
      }
      if (a.startsWith(`${f}=`)) return a.slice(f.length + 1);
    }
  }
  return undefined;
}

const isTrue = (v: string | undefined) => v !== undefined && /^(true|1|t)$/i.test(v);
const isFalse = (v: string | undefined) => v !== undefined && /^(false|0|f)$/i.test(v);

function allContainers(ds: DaemonSetLite): NetpolContainer[] {
  return [...(ds.initContainers ?? []), ...ds.containers];
}

const describe = (ds: DaemonSetLite, what: string) => `${ds.namespace}/DaemonSet ${ds.name}: ${what}`;
const withImage = (c: NetpolContainer) => `container ${c.name}${c.image ? ` (${c.image})` : ''}`;

/** Container whose name is one of `names` or whose image repository ends with one of `repos`. */
function find(ds: DaemonSetLite, names: string[], repos: string[]): NetpolContainer | undefined {
  return allContainers(ds).find(
    (c) => names.includes(c.name) || repos.some((r) => imageRepo(c.image).endsWith(r)),
  );
}

/**
 * kindnet gained NetworkPolicy (embedded sigs.k8s.io/kube-network-policies) in kind v0.24.0 (kind issue #842,
 * `images/kindnetd/cmd/kindnetd/main.go`). kind tags kindnetd by date: kind v0.23's `v20240513-cd2ac642` has no
 * policy engine; kind v0.24's `v20240813-c6f155d6` has. Tags in between are unknown. Standalone `aojea/kindnetd`
 * has policies since v1.3.0 (kubernetes/minikube#19871).
 */
function kindnetEnforces(image: string | undefined): Enforcement {
  const tag = imageTag(image);
  if (imageRepo(image).startsWith('aojea/')) {
    const m = /^v?(\d+)\.(\d+)/.exec(tag);
    if (!m) return 'unknown';
    const [major, minor] = [Number(m[1]), Number(m[2])];
    return major > 1 || (major === 1 && minor >= 3);
  }
  const m = /^v(\d{8})-/.exec(tag);
  if (!m) return 'unknown';
  const date = Number(m[1]);
  if (date >= 20240813) return true;
  if (date <= 20240513) return false;
  return 'unknown';
}

/** One DaemonSet → the CNI(s) it shows, if any. Order inside follows the reference table. */
function matchDaemonSet(ds: DaemonSetLite, hints: CniConfigHints): CniMatch[] {
  const out: CniMatch[] = [];
  const add = (cni: string, enforces: Enforcement, what: string) =>
    out.push({
      cni,
      enforces,
      daemonSet: { namespace: ds.namespace, name: ds.name },
      evidence: describe(ds, what),
    });

  // Canal: calico-node + kube-flannel in one DaemonSet (projectcalico/calico manifests/canal.yaml); Calico does
  // the policy. Checked first: it also has a calico-node container.
  const calico = find(ds, ['calico-node'], ['calico/node']);
  const flannel = find(ds, ['kube-flannel'], ['flannel-io/flannel', 'flannel/flannel', 'coreos/flannel']);
  if (calico && (flannel || /canal/.test(ds.name))) {
    add('canal', true, `${withImage(calico)}${flannel ? ` and ${withImage(flannel)}` : ''}`);
    return out;
  }
  if (calico) {
    add('calico', true, withImage(calico));
    return out;
  }

  // Cilium (`install/kubernetes/cilium/templates/cilium-agent/daemonset.yaml`); `enable-policy: never` turns
  // enforcement off even where policies select pods (`Documentation/policy/intro.rst`). GKE Dataplane V2 runs it
  // as `anetd` ("Kubernetes NetworkPolicy is always on", GKE docs `concepts/dataplane-v2`).
  const cilium = find(ds, ['cilium-agent'], ['cilium/cilium']);
  if (cilium || ds.name === 'cilium' || ds.name === 'anetd') {
    const name = ds.name === 'anetd' ? 'gke-dataplane-v2' : 'cilium';
    const what = cilium ? withImage(cilium) : 'DaemonSet name';
    if (hints.ciliumEnablePolicy === 'never' && name === 'cilium')
      add(name, false, `${what}; cilium-config enable-policy: never`);
    else add(name, true, what);
    return out;
  }

  // Antrea (`build/yamls/antrea.yml`).
  const antrea = find(ds, ['antrea-agent'], ['antrea/antrea-agent-ubuntu', 'antrea/antrea-ubuntu']);
  if (antrea || ds.name === 'antrea-agent') {
    add('antrea', true, antrea ? withImage(antrea) : 'DaemonSet name');
    return out;
  }

  // Weave Net: policy lives in the weave-npc container (`prog/weave-kube/weave-daemonset-k8s-1.11.yaml`).
  const weave = find(ds, ['weave'], ['weaveworks/weave-kube']);
  const npc = find(ds, ['weave-npc'], ['weaveworks/weave-npc']);
  if (weave || npc) {
    if (npc) add('weave', true, withImage(npc));
    else add('weave', false, `${withImage(weave as NetpolContainer)} without a weave-npc container`);
    return out;
  }

  // kube-router enforces unless `--run-firewall=false` (default true, `pkg/options/options.go`).
  const router = find(ds, ['kube-router'], ['cloudnativelabs/kube-router']);
  if (router) {
    const v = flagValue(router.args, 'run-firewall');
    if (isFalse(v)) add('kube-router', false, `${withImage(router)} with --run-firewall=${v}`);
    else add('kube-router', true, withImage(router));
    return out;
  }

  // AWS VPC CNI: policy only with the node agent and `--enable-network-policy=true` (default false;
  // `charts/aws-vpc-cni/templates/daemonset.yaml`). Match the agent by image, not by container name.
  const awsNode = find(ds, ['aws-node'], ['amazon-k8s-cni']);
  if (awsNode) {
    const agent = allContainers(ds).find((c) => imageRepo(c.image).endsWith('aws-network-policy-agent'));
    if (!agent) add('aws-vpc-cni', false, `${withImage(awsNode)}, no network policy agent container`);
    else {
      const v = flagValue(agent.args, 'enable-network-policy');
      if (isTrue(v)) add('aws-vpc-cni', true, `${withImage(agent)} with --enable-network-policy=${v}`);
      else if (v === undefined && isTrue(hints.awsEnableNetworkPolicyController))
        add(
          'aws-vpc-cni',
          'unknown',
          `${withImage(agent)}; the policy controller is enabled in amazon-vpc-cni`,
        );
      else add('aws-vpc-cni', false, `${withImage(agent)} without --enable-network-policy=true`);
    }
    return out;
  }

  // Azure NPM (`npm/azure-npm.yaml`).
  const npm = find(ds, ['azure-npm'], ['containernetworking/azure-npm']);
  if (npm || ds.name === 'azure-npm') {
    add('azure-npm', true, npm ? withImage(npm) : 'DaemonSet name');
    return out;
  }

  // sigs.k8s.io/kube-network-policies, alone or in flannel's chart (`netpol.enabled`).
  const knp = find(ds, ['kube-network-policies'], ['networking/kube-network-policies']);
  if (knp) add('kube-network-policies', true, withImage(knp));

  // flannel alone does not enforce ("flanneld binary does not natively enforce Network Policies", README).
  if (flannel) add('flannel', false, withImage(flannel));

  // kindnet (kind `pkg/build/nodeimage/const_cni.go`).
  const kindnet = find(ds, ['kindnet-cni'], ['kindest/kindnetd', 'aojea/kindnetd']);
  if (kindnet) add('kindnet', kindnetEnforces(kindnet.image), withImage(kindnet));

  // Azure CNI without a policy engine: networking only (its agents' names are not verified upstream).
  if (!knp && !flannel && !kindnet && ['azure-cns', 'azure-cni'].includes(ds.name))
    add('azure-cni', 'unknown', 'DaemonSet name (policy engine not found)');
  return out;
}

/** k3s embeds flannel and kube-router's policy controller unless `--disable-network-policy` (k3s docs). */
function k3sMatch(hints: CniConfigHints): CniMatch | undefined {
  const isK3s = /\+k3s/.test(hints.serverGitVersion ?? '') || hints.k3sNodeArgs !== undefined;
  if (!isK3s) return undefined;
  const args = hints.k3sNodeArgs ?? [];
  if (args.includes('--disable-network-policy'))
    return { cni: 'k3s', enforces: false, evidence: 'k3s with --disable-network-policy (k3s.io/node-args)' };
  if (args.some((a) => a === '--flannel-backend=none' || a === 'none')) return undefined; // a separate CNI is installed: detected from its DaemonSet
  return { cni: 'k3s', enforces: true, evidence: 'k3s with its embedded network policy controller' };
}

export function detectCni(daemonSets: readonly DaemonSetLite[], hints: CniConfigHints = {}): CniVerdict {
  const sorted = [...daemonSets].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  const matches = sorted.flatMap((ds) => matchDaemonSet(ds, hints));
  const k3s = k3sMatch(hints);
  if (k3s) matches.push(k3s);
  if (matches.length === 0) {
    const evidence = hints.daemonSetsUnreadable
      ? ['DaemonSets could not be listed cluster-wide']
      : hints.nodesHavePodCidr
        ? ['no known CNI agent runs; nodes have spec.podCIDR (kubenet, or a CNI outside the cluster)']
        : ['no known CNI agent runs'];
    return { cni: 'unknown', enforcesNetworkPolicy: 'unknown', evidence, matches };
  }
  const names = [...new Set(matches.map((m) => m.cni))].sort();
  let enforces: Enforcement;
  if (matches.some((m) => m.enforces === true)) enforces = true;
  else if (matches.every((m) => m.enforces === false)) enforces = false;
  else enforces = 'unknown';
  return {
    cni: names.join('+'),
    enforcesNetworkPolicy: enforces,
    evidence: matches.map((m) => m.evidence),
    matches,
  };
}

/** The loud sentence every output carries while NetworkPolicies cannot be known to take effect. */
export function noEffectWarning(
  verdict: Pick<CniVerdict, 'cni' | 'enforcesNetworkPolicy'>,
): string | undefined {
  if (verdict.enforcesNetworkPolicy === true) return undefined;
  return `NetworkPolicies have no effect yet: the CNI (${verdict.cni}) ${
    verdict.enforcesNetworkPolicy === false
      ? 'does not enforce NetworkPolicy'
      : 'is not known to enforce NetworkPolicy'
  }; phase 3 (default-deny) is not done until it does`;
}
