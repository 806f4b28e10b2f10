/**
 * Phase 6: Secrets encrypted at rest in etcd (issue 14). The EncryptionConfiguration lives on the control-plane
 * nodes, so every change is manual: the configuration (a real provider first — KMS v2 when a plugin is named,
 * else secretbox or aesgcm — and identity last), the kubeadm patch, and a runbook (rewrite every Secret, verify in
 * etcd, rotate the key every 90 days).
 *
 * kube-harden never generates a key: the configuration holds a placeholder the API server refuses to start with,
 * and the command that makes a key on the node. No key is ever in a plan, a journal or any output.
 */
import type { Change, SettingSpec, Step, StepFinding } from '../src/engine/types.js';
import { BugError } from '../src/errors.js';
import { parseYamlDocuments } from '../src/k8s/yaml.js';
import {
  type ControlPlaneVerdict,
  KEY_COMMAND,
  KEY_PLACEHOLDER,
  plaintextWrites,
  readEncryptionConfiguration,
} from '../src/policy/control-plane/index.js';
import {
  detectControlPlane,
  PATHS,
  PROVIDER_ENCRYPTION,
  PROVIDER_ENCRYPTION_COMMAND,
  platformLine,
} from './kit/control-plane.js';
import { manualChanges } from './kit/manual.js';
import { parseChoice, settingOf } from './kit/settings.js';
import { renderTemplate } from './kit/templates.js';

const LOCAL_PROVIDERS = ['secretbox', 'aesgcm'] as const;
type LocalProvider = (typeof LOCAL_PROVIDERS)[number];
const YES_NO = ['yes', 'no'] as const;

export const ENCRYPTION_PROVIDER: SettingSpec<LocalProvider> = {
  key: 'secrets-encryption.provider',
  flag: 'encryption-provider',
  type: 'PROVIDER',
  description:
    'local-key provider when no KMS plugin is named: secretbox (XSalsa20-Poly1305) or aesgcm (rotate before 200 000 writes)',
  default: 'secretbox',
  choices: LOCAL_PROVIDERS,
  parse: parseChoice(LOCAL_PROVIDERS),
};

export const KMS_ENDPOINT: SettingSpec<string> = {
  key: 'secrets-encryption.kmsEndpoint',
  flag: 'encryption-kms-endpoint',
  type: 'ENDPOINT',
  description:
    'the KMS v2 plugin socket on the control-plane nodes (unix:///…): use KMS v2 instead of a local key',
  parse: (text) =>
    /^unix:\/\/\/[\w./-]+$/.test(text)
      ? { ok: true, value: text }
      : {
          ok: false,
          error: 'is not a unix socket endpoint',
          hint: 'use e.g. unix:///var/run/kmsplugin/socket.sock',
        },
};

export const ENCRYPT_CONFIGMAPS: SettingSpec<'yes' | 'no'> = {
  key: 'secrets-encryption.configmaps',
  flag: 'encryption-configmaps',
  type: 'YES|NO',
  description: 'also encrypt ConfigMaps at rest',
  default: 'no',
  choices: YES_NO,
  parse: parseChoice(YES_NO),
};

export interface EncryptionFacts {
  verdict: ControlPlaneVerdict;
  provider: LocalProvider | 'kms';
  kmsEndpoint?: string;
  configmaps: boolean;
  /** The EncryptionConfiguration (with the key placeholder, never a key). */
  config: string;
}

const KMS_NAME = 'kube-harden-kms';
const PLACEHOLDER_PROBLEM =
  'the key placeholder is still in place: generate a key on the node and put it there';

/** The EncryptionConfiguration text, checked: a real provider first, identity last, only the placeholder missing. */
export function encryptionConfig(opts: {
  provider: LocalProvider | 'kms';
  kmsEndpoint?: string;
  configmaps: boolean;
  keyName: string;
}): string {
  const resources = opts.configmaps ? 'secrets, configmaps' : 'secrets';
  const text =
    opts.provider === 'kms'
      ? renderTemplate('encryption/encryption-config-kms.yaml.tpl', {
          resources,
          kmsName: KMS_NAME,
          kmsEndpoint: opts.kmsEndpoint ?? '',
        })
      : renderTemplate(`encryption/encryption-config-${opts.provider}.yaml.tpl`, {
          resources,
          keyName: opts.keyName,
          keyPlaceholder: KEY_PLACEHOLDER,
          keyCommand: KEY_COMMAND,
        });
  const [doc] = parseYamlDocuments(text, 'EncryptionConfiguration').map((d) => d.value);
  const reading = readEncryptionConfiguration(doc);
  const expected = opts.provider === 'kms' ? [] : [PLACEHOLDER_PROBLEM];
  const problems = reading.problems.filter((p) => !expected.includes(p));
  if (reading.secretsWriteProvider !== opts.provider || problems.length > 0)
    throw new BugError(`the generated EncryptionConfiguration is wrong: ${problems.join('; ')}`);
  return text;
}

const manual = manualChanges('secrets-encryption');

const REWRITE = 'kubectl get secrets --all-namespaces -o json | kubectl replace -f -';
const ETCD_CHECK = `sudo ETCDCTL_API=3 etcdctl --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key get /registry/secrets/default/SOME_SECRET | hexdump -C | head`;

function runbook(facts: EncryptionFacts): string {
  const kms = facts.provider === 'kms';
  const lines = [
    '# Encryption at rest: put in place, rewrite, verify, rotate',
    '',
    '## Put in place (every control-plane node, one at a time)',
    '',
    `1. \`sudo install -D -m 600 -o root -g root encryption-config.yaml ${PATHS.encryption}\``,
    kms
      ? `2. Make sure the KMS v2 plugin runs on the node and listens on ${facts.kmsEndpoint}.`
      : `2. Only on the FIRST node: \`KEY=$(${KEY_COMMAND}); sudo sed -i "s|${KEY_PLACEHOLDER}|$KEY|" ${PATHS.encryption}; unset KEY\`. Copy the finished file (not the key alone) to the other nodes over a secure channel; every API server must use the same file.`,
    `3. Add \`--encryption-provider-config=${PATHS.encryption}\` and \`--encryption-provider-config-automatic-reload=true\` to the kube-apiserver command, and mount ${PATHS.encryptionDir} read-only (static pod: a hostPath volume; kubeadm: encryption-kubeadm-patch.yaml).`,
    '4. Wait for `kubectl get --raw /readyz` before the next node.',
    '',
    '## Rewrite the existing Secrets (once every API server runs with the file)',
    '',
    `    ${REWRITE}`,
    '',
    'Secrets written before the change stay in plaintext until rewritten. A Secret webhook can refuse some of them: rerun for those.',
    '',
    '## Verify on a control-plane node',
    '',
    `    ${ETCD_CHECK}`,
    '',
    `The value must start with \`k8s:enc:${kms ? `kms:v2:${KMS_NAME}` : `${facts.provider}:v1:`}\`, never with the plain object (\`k8s\\x00\`).`,
    '',
  ];
  if (kms) {
    lines.push(
      '## Rotation',
      '',
      'Rotate the key encryption key in the KMS (the plugin picks it up; KMS v2 re-wraps data keys on its own); rewrite the Secrets afterwards if your KMS policy asks for it.',
    );
  } else {
    lines.push(
      '## Rotate the key every 90 days',
      '',
      `1. Generate a new key on a node (\`${KEY_COMMAND}\`) and add it as the SECOND key of the ${facts.provider} provider on every node (the old key stays first); wait for the automatic reload (or restart every API server).`,
      '2. Make the new key FIRST on every node; wait for the reload again.',
      `3. Rewrite every Secret: \`${REWRITE}\`.`,
      '4. Take an etcd backup, then remove the old key from the file on every node.',
      ...(facts.provider === 'aesgcm'
        ? ['aesgcm: rotate before 200 000 writes with one key; on busy clusters that is sooner than 90 days.']
        : []),
      '',
      'Keep the file out of etcd backups and out of Git: whoever has both can read every Secret. A lost key leaves the Secrets unreadable.',
    );
  }
  return `${lines.join('\n')}\n`;
}

export const secretsEncryption: Step<EncryptionFacts> = {
  id: 'secrets-encryption',
  phase: 6,
  title: 'Secrets encrypted at rest',
  summary:
    'an EncryptionConfiguration with a real provider first and identity last, the rewrite and a 90-day rotation',
  risk: 'manual',
  settings: [ENCRYPTION_PROVIDER, KMS_ENDPOINT, ENCRYPT_CONFIGMAPS],
  targets: [{ manual: true }],

  permissions() {
    return [];
  },

  async detect(ctx) {
    const { verdict, encryption, unknown } = detectControlPlane(ctx.snapshot);
    const kmsEndpoint = settingOf(KMS_ENDPOINT, ctx.options);
    const provider = kmsEndpoint ? 'kms' : (settingOf(ENCRYPTION_PROVIDER, ctx.options) as LocalProvider);
    const configmaps = settingOf(ENCRYPT_CONFIGMAPS, ctx.options) === 'yes';
    const findings: StepFinding[] = [...encryption];
    const keyName = `key-${ctx.options.now.toISOString().slice(0, 10).replaceAll('-', '')}`;
    return {
      facts: {
        verdict,
        provider,
        ...(kmsEndpoint ? { kmsEndpoint } : {}),
        configmaps,
        config: encryptionConfig({ provider, ...(kmsEndpoint ? { kmsEndpoint } : {}), configmaps, keyName }),
      },
      findings,
      ...(unknown.encryption ? { unknown: [unknown.encryption] } : {}),
    };
  },

  propose(facts) {
    const { verdict } = facts;
    const provider = PROVIDER_ENCRYPTION[verdict.platform];
    if (verdict.managed && provider && verdict.encryption.state === 'unknown')
      return [
        manual(
          'provider',
          `managed-encryption-${verdict.platform}.md`,
          `${provider}\n`,
          `The control plane is managed by ${verdict.platform.toUpperCase()}: envelope encryption is a provider setting, not an API server file kube-harden could see.`,
          `Check the provider setting; if it is off, turn it on: \`${PROVIDER_ENCRYPTION_COMMAND[verdict.platform] ?? ''}\`; then rewrite the Secrets if the provider does not.`,
        ),
      ];
    // In place, unless the API server's metrics show Secrets written in plaintext (identity first): then the
    // same file, with a real provider first, is the fix.
    if (verdict.encryption.state === 'on' && plaintextWrites(verdict.encryption.observed) === 0) return [];
    const what = facts.provider === 'kms' ? `KMS v2 (${facts.kmsEndpoint})` : facts.provider;
    const changes: Change[] = [
      manual(
        'config',
        'encryption-config.yaml',
        facts.config,
        `EncryptionConfiguration: ${facts.configmaps ? 'Secrets and ConfigMaps' : 'Secrets'} written with ${what}, identity last so existing plaintext stays readable until rewritten.${
          facts.provider === 'kms' ? '' : ' The key is not in the file: a placeholder marks where it goes.'
        }`,
        `Follow encryption-runbook.md: install the file on every control-plane node${
          facts.provider === 'kms'
            ? ''
            : `, generate the key on the node (\`${KEY_COMMAND}\`) in place of ${KEY_PLACEHOLDER}`
        }, add the flag, restart the API servers one at a time, rewrite the Secrets (${REWRITE}) and verify in etcd.`,
      ),
      manual(
        'runbook',
        'encryption-runbook.md',
        runbook(facts),
        'The runbook: put the configuration in place, rewrite the existing Secrets, verify in etcd, rotate the key every 90 days.',
        'Keep it with the change ticket; schedule the 90-day rotation now.',
      ),
    ];
    if (verdict.platform === 'kubeadm' || verdict.platform === 'unknown')
      changes.push(
        manual(
          'kubeadm',
          'encryption-kubeadm-patch.yaml',
          renderTemplate('encryption/kubeadm-patch.yaml', {
            configPath: PATHS.encryption,
            configDir: PATHS.encryptionDir,
          }),
          'The encryption flag and its mount in kubeadm ClusterConfiguration (v1beta4), so that `kubeadm upgrade` keeps them.',
          'Merge apiServer.extraArgs and apiServer.extraVolumes into the ClusterConfiguration of ConfigMap kube-system/kubeadm-config (v1beta3: extraArgs is a map), as for the audit flags.',
        ),
      );
    return changes;
  },

  explain(facts, changes) {
    const e = facts.verdict.encryption;
    const plaintext = plaintextWrites(e.observed);
    const state =
      e.state === 'on' && plaintext > 0
        ? `The API servers run with an EncryptionConfiguration (${e.configFile ?? 'a file'}) whose first provider is identity: ${plaintext} Secret write(s) since the API server started went to etcd in plaintext. ${e.notes.join(' ')}`
        : e.state === 'on'
          ? `The API servers run with --encryption-provider-config (${e.configFile ?? 'a file'}). ${e.notes.join(' ')}`
          : e.state === 'off'
            ? `Secrets are stored in plaintext in etcd (${e.off.join(', ')} run without --encryption-provider-config).`
            : 'Whether Secrets are encrypted at rest is unknown (the API server flags are not visible): unknown is not compliant.';
    return {
      why: `Anyone who reads etcd or its backups reads every Secret unless they are encrypted at rest. Platform: ${platformLine(facts.verdict)}. ${state}`,
      impact: changes.length
        ? `${changes.length} file(s) to put in place by hand (kube-harden never applies them, and never generates the key). Each API server restarts once; rewriting the Secrets writes each of them once.`
        : 'Nothing to do: the flag is in place on every visible API server.',
      rollback:
        'Put identity FIRST (keep the real provider after it so encrypted Secrets stay readable), restart every API server, rewrite every Secret, then remove the flag. Never remove the key while any Secret is still encrypted with it.',
    };
  },
};
