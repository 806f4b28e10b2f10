/**
 * Phase 6: API server audit logging, shipped off the node (issue 14). kube-harden cannot write the API server's
 * flags or files through the API, so every change of this step is manual: an audit policy in the chosen tier, the
 * flags, the kubeadm ClusterConfiguration patch, a Fluent Bit or Vector snippet that ships the log, and alert starting points
 * — each an artifact with instructions for the kind of cluster found (kubeadm, k3s/RKE2, managed, unknown). The
 * phase is done when detection sees the flags on every visible API server.
 *
 * Every policy this step writes is checked before it is offered: no rule may log the body of a Secret, a
 * TokenRequest's response or a TokenReview (src/policy/control-plane/audit-policy.ts `secretLeaks`).
 */
import type { Change, SettingSpec, Step, StepFinding } from '../src/engine/types.js';
import { BugError } from '../src/errors.js';
import {
  AUDIT_SHIPPERS,
  AUDIT_TIERS,
  type AuditShipper,
  type AuditTier,
  type ControlPlaneVerdict,
  checkShippingSnippet,
  omitsRequestReceived,
  secretLeaks,
  TIER_SUMMARY,
} from '../src/policy/control-plane/index.js';
import {
  detectControlPlane,
  PATHS,
  PROVIDER_AUDIT,
  PROVIDER_AUDIT_COMMAND,
  platformLine,
} from './kit/control-plane.js';
import { manualChanges } from './kit/manual.js';
import { parseChoice, settingOf } from './kit/settings.js';
import { renderTemplate, renderYamlTemplate } from './kit/templates.js';

export const AUDIT_SINKS = ['loki', 'elasticsearch', 'splunk'] as const;
export type AuditSink = (typeof AUDIT_SINKS)[number];

export const AUDIT_TIER: SettingSpec<AuditTier> = {
  key: 'audit-logging.tier',
  flag: 'audit-tier',
  type: 'TIER',
  description: `audit policy tier: ${AUDIT_TIERS.join(', ')} (standard: ${TIER_SUMMARY.standard})`,
  default: 'standard',
  choices: AUDIT_TIERS,
  parse: parseChoice(AUDIT_TIERS),
  ask: {
    title: 'Audit policy tier',
    choices: {
      minimal: 'who did what, when, from where; RBAC writes in full (smallest log)',
      standard: 'plus Secret/ConfigMap reads and token requests (no values), exec and RBAC in full (default)',
      forensic: 'plus every write with its request, discovery kept (largest log)',
    },
  },
};

export const AUDIT_SINK: SettingSpec<AuditSink> = {
  key: 'audit-logging.sink',
  flag: 'audit-sink',
  type: 'BACKEND',
  description: 'where the shipped audit log goes, for the shipping snippet and the alert queries',
  default: 'loki',
  choices: AUDIT_SINKS,
  parse: parseChoice(AUDIT_SINKS),
  ask: {
    title: 'Where the audit log is shipped (and the alert queries written for)',
    choices: {
      loki: 'Grafana Loki (LogQL alerts)',
      elasticsearch: 'Elasticsearch / OpenSearch (KQL alerts)',
      splunk: 'Splunk HTTP Event Collector (SPL alerts)',
    },
  },
};

export const AUDIT_SHIPPER: SettingSpec<AuditShipper> = {
  key: 'audit-logging.shipper',
  flag: 'audit-shipper',
  type: 'SHIPPER',
  description: 'what tails the audit log on the control-plane nodes and ships it: fluent-bit or vector',
  default: 'fluent-bit',
  choices: AUDIT_SHIPPERS,
  parse: parseChoice(AUDIT_SHIPPERS),
  ask: {
    title: 'What tails the audit log on the control-plane nodes',
    choices: {
      'fluent-bit': 'Fluent Bit (classic configuration)',
      vector: 'Vector (YAML configuration)',
    },
  },
};

export interface AuditFacts {
  verdict: ControlPlaneVerdict;
  tier: AuditTier;
  sink: AuditSink;
  shipper: AuditShipper;
  /** The policy file of the tier (checked: it logs no secret value). */
  policy: string;
}

/** The audit policy of a tier, as shipped in templates/audit/, after the secret-leak check (a leak is a bug). */
export function auditPolicy(tier: AuditTier): string {
  const file = `audit/policy-${tier}.yaml`;
  const [doc] = renderYamlTemplate(file, {});
  const leaks = secretLeaks(doc);
  if (leaks.length > 0)
    throw new BugError(`the ${tier} audit policy would log secret values: ${leaks.join('; ')}`);
  if (!omitsRequestReceived(doc))
    throw new BugError(`the ${tier} audit policy does not omit RequestReceived`);
  return renderTemplate(file, {});
}

const paths = { policyPath: PATHS.policy, logPath: PATHS.log, logDir: PATHS.logDir };

function nodeSteps(verdict: ControlPlaneVerdict): string {
  switch (verdict.platform) {
    case 'k3s':
      return `k3s: on every server node, add to /etc/rancher/k3s/config.yaml\n\n    kube-apiserver-arg:\n      - audit-policy-file=${PATHS.policy}\n      - audit-log-path=${PATHS.log}\n      - audit-log-maxage=30\n      - audit-log-maxbackup=10\n      - audit-log-maxsize=100\n\nthen restart k3s (systemctl restart k3s), one server at a time.`;
    case 'rke2':
      return `RKE2: on every server node, set in /etc/rancher/rke2/config.yaml \`audit-policy-file: ${PATHS.policy}\` and the kube-apiserver-arg entries of kube-apiserver-audit-flags.txt, then restart rke2-server, one server at a time.`;
    default:
      return `Add the flags of kube-apiserver-audit-flags.txt and the two mounts to the command of ${PATHS.manifest} on every control-plane node, one node at a time: the kubelet restarts the API server when the file changes; wait for \`kubectl get --raw /readyz\` before the next node.${
        verdict.platform === 'kubeadm' || verdict.platform === 'unknown'
          ? ' On kubeadm, also merge kubeadm-audit-patch.yaml into the ClusterConfiguration (ConfigMap kube-system/kubeadm-config) so that `kubeadm upgrade` keeps them.'
          : ''
      }`;
  }
}

const manual = manualChanges('audit-logging');

const SHIPPER_NAME: Record<AuditShipper, string> = { 'fluent-bit': 'Fluent Bit', vector: 'Vector' };

/**
 * The shipping snippet of a shipper and backend, checked: it tails exactly the file `--audit-log-path` writes
 * (PATHS.log, the one constant both use) and sends it somewhere (a snippet that fails this is a bug).
 */
export function shippingSnippet(shipper: AuditShipper, sink: AuditSink): { path: string; content: string } {
  const content =
    shipper === 'vector'
      ? renderTemplate(`audit/vector-${sink}.yaml`, { logPath: PATHS.log })
      : renderTemplate(`audit/fluent-bit-${sink}.conf`, { logPath: PATHS.log, logDir: PATHS.logDir });
  const { problems } = checkShippingSnippet(shipper, content, PATHS.log);
  if (problems.length > 0)
    throw new BugError(`the ${shipper} snippet for ${sink} is wrong: ${problems.join('; ')}`);
  return {
    path: shipper === 'vector' ? `vector-audit-${sink}.yaml` : `fluent-bit-audit-${sink}.conf`,
    content,
  };
}

function shippingChanges(facts: AuditFacts): Change[] {
  const snippet = shippingSnippet(facts.shipper, facts.sink);
  const name = SHIPPER_NAME[facts.shipper];
  const alerts = renderTemplate(`audit/alerts-${facts.sink}.txt`, {});
  return [
    manual(
      'shipping',
      snippet.path,
      snippet.content,
      `Ship the audit log off the control-plane nodes to ${facts.sink} (${name}): a log that stays on the node can be edited or deleted by whoever takes the node.`,
      [
        `1. Set the ${facts.sink} host, the cluster label and TLS in the snippet; credentials come from the environment, never from the file${
          facts.shipper === 'vector'
            ? ' (Vector 0.57 and later expand environment variables in the file only with --dangerously-allow-env-var-interpolation: pass it, or render the file with envsubst)'
            : ''
        }.`,
        `2. Run ${name} on every control-plane node with ${PATHS.logDir} mounted read-only (a DaemonSet with a control-plane toleration and nodeSelector, or the ${facts.shipper} package on the node)${
          facts.shipper === 'vector' ? '; check the file first with `vector validate`' : ''
        }.`,
        `3. Check that events arrive in ${facts.sink} (e.g. a \`kubectl get secret -n default\` shows up as a Secret read within a minute).`,
        'Alternative: --audit-webhook-config-file sends events from the API server itself (see kube-apiserver-audit-flags.txt).',
      ].join('\n'),
    ),
    manual(
      'alerts',
      `audit-alerts-${facts.sink}.txt`,
      alerts,
      `Alert starting points for ${facts.sink}: Secret reads by unexpected identities, human exec into production, RBAC changes outside a sync window, unusual token requests.`,
      'Starting points, not finished rules: replace the allow-lists (controllers, CI and GitOps identities, production namespace pattern) with yours, run each query over a week of logs, and only then make it page someone.',
    ),
  ];
}

function flagChanges(facts: AuditFacts): Change[] {
  const { verdict, tier } = facts;
  const changes: Change[] = [
    manual(
      'policy',
      'audit-policy.yaml',
      facts.policy,
      `Audit policy, tier ${tier}: ${TIER_SUMMARY[tier]}. No rule logs a Secret value, an issued token or a TokenReview (checked); no RequestReceived events.`,
      [
        `1. On every control-plane node: \`sudo install -D -m 600 -o root -g root audit-policy.yaml ${PATHS.policy}\` and \`sudo mkdir -p -m 700 ${PATHS.logDir}\`.`,
        `2. ${nodeSteps(verdict)}`,
        `3. Check on the node: \`sudo tail -n 3 ${PATHS.log}\` shows JSON events; then \`kube-harden plan --step audit-logging\` sees the flags on every API server.`,
        'The policy is read at start-up only: after changing it, restart the API servers again.',
      ].join('\n'),
    ),
    manual(
      'flags',
      'kube-apiserver-audit-flags.txt',
      renderTemplate('audit/apiserver-flags.txt', paths),
      'The kube-apiserver flags that turn the log backend on with the policy, bounded rotation (30 days, 10 files of 100 MB) and JSON lines, and the static-pod mounts they need.',
      'Add them to the kube-apiserver command on every control-plane node (see audit-policy.yaml). A typo stops the API server from starting: keep a copy of the manifest outside /etc/kubernetes/manifests/ to restore it.',
    ),
  ];
  if (verdict.platform === 'kubeadm' || verdict.platform === 'unknown')
    changes.push(
      manual(
        'kubeadm',
        'kubeadm-audit-patch.yaml',
        renderTemplate('audit/kubeadm-patch.yaml', paths),
        'The same flags and mounts in kubeadm ClusterConfiguration (v1beta4), so that `kubeadm upgrade` regenerates the manifest with them.',
        [
          '1. `kubectl -n kube-system get configmap kubeadm-config -o jsonpath="{.data.ClusterConfiguration}" > cluster-config.yaml`',
          '2. Merge apiServer.extraArgs and apiServer.extraVolumes of this file into it (v1beta3 uses a map for extraArgs).',
          '3. `kubeadm init phase upload-config kubeadm --config cluster-config.yaml` (stores it); on each control-plane node `kubeadm init phase control-plane apiserver --config cluster-config.yaml` rewrites the manifest.',
        ].join('\n'),
      ),
    );
  return changes;
}

export const auditLogging: Step<AuditFacts> = {
  id: 'audit-logging',
  phase: 6,
  title: 'Audit logging shipped off-cluster',
  summary:
    'an audit policy that never logs secret values, the API server flags, and shipping the log off the node',
  risk: 'manual',
  settings: [AUDIT_TIER, AUDIT_SINK, AUDIT_SHIPPER],
  targets: [{ manual: true }],

  permissions() {
    return [];
  },

  async detect(ctx) {
    const { verdict, audit, apiServer, unknown } = detectControlPlane(ctx.snapshot);
    const tier = settingOf(AUDIT_TIER, ctx.options) as AuditTier;
    const sink = settingOf(AUDIT_SINK, ctx.options) as AuditSink;
    const shipper = settingOf(AUDIT_SHIPPER, ctx.options) as AuditShipper;
    // The API server findings are shown once, here (secrets-encryption shares the verdict, not the findings).
    const findings: StepFinding[] = [...audit, ...apiServer];
    return {
      facts: { verdict, tier, sink, shipper, policy: auditPolicy(tier) },
      findings,
      ...(unknown.audit ? { unknown: [unknown.audit] } : {}),
    };
  },

  propose(facts) {
    const { verdict } = facts;
    const provider = PROVIDER_AUDIT[verdict.platform];
    if (verdict.managed && provider && verdict.audit.state === 'unknown') {
      return [
        manual(
          'provider',
          `managed-audit-${verdict.platform}.md`,
          `${provider}\n`,
          `The control plane is managed by ${verdict.platform.toUpperCase()}: its audit log is a provider setting, not an API server flag kube-harden could see.`,
          `Run the provider's command (or check the setting in the console): \`${PROVIDER_AUDIT_COMMAND[verdict.platform] ?? ''}\`; then ship the provider log to your SIEM. The alert starting points below apply to the shipped events.`,
        ),
        ...shippingChanges(facts).filter((c) => c.id === 'audit-logging/alerts'),
      ];
    }
    if (verdict.audit.state === 'on')
      return verdict.audit.shipping.state === 'none' ? shippingChanges(facts) : [];
    return [...flagChanges(facts), ...shippingChanges(facts)];
  },

  explain(facts, changes) {
    const { verdict } = facts;
    const a = verdict.audit;
    const state =
      a.state === 'on'
        ? `Audit logging is on (${a.policyFile ?? 'policy'} → ${a.webhookConfigFile ? 'webhook' : (a.logPath ?? 'log')})${
            a.shipping.state === 'shipper'
              ? `; a log shipper runs (${a.shipping.shipper}): check that it tails the audit log`
              : a.shipping.state === 'webhook'
                ? '; events leave through the webhook backend'
                : ''
          }.`
        : a.state === 'off'
          ? `Audit logging is off on ${a.off.map((o) => o.instance).join(', ')}.`
          : 'Whether audit logging is on is unknown (the API server flags are not visible): unknown is not compliant.';
    return {
      why: `Without an audit log nobody can tell who read a Secret, exec'd into a pod or changed RBAC. Platform: ${platformLine(verdict)}. ${state} ${[...a.notes].join(' ')}`.trim(),
      impact: changes.length
        ? `${changes.length} file(s) to put in place by hand (kube-harden never applies them). The API servers restart once per node; the log grows by roughly 1–5 GB/day on a busy cluster at tier ${facts.tier} (bounded by the rotation flags).`
        : 'Nothing to do: the flags are in place on every visible API server.',
      rollback: `Remove the flags (and mounts) from the kube-apiserver manifest and the kubeadm ClusterConfiguration; the API server restarts without auditing. Keep the log files for your retention period.`,
    };
  },
};
