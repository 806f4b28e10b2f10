/**
 * Sample values for every file under templates/: the unit test renders each template with them and the
 * integration test server-side dry-runs each rendered Kubernetes object. A new template needs an entry here.
 * Placeholders named `namespace` (namespaced objects) and `name` of a Namespace are replaced by a fresh namespace
 * in the integration test.
 */
import type { TemplateValues } from '../../steps/kit/templates.js';

export const TEMPLATE_SAMPLES: Readonly<Record<string, TemplateValues>> = {
  'audit/alerts-elasticsearch.txt': {},
  'audit/alerts-loki.txt': {},
  'audit/alerts-splunk.txt': {},
  'audit/apiserver-flags.txt': {
    policyPath: '/etc/kubernetes/audit-policy.yaml',
    logPath: '/var/log/kubernetes/audit/audit.log',
    logDir: '/var/log/kubernetes/audit',
  },
  'audit/fluent-bit-elasticsearch.conf': {
    logPath: '/var/log/kubernetes/audit/audit.log',
    logDir: '/var/log/kubernetes/audit',
  },
  'audit/fluent-bit-loki.conf': {
    logPath: '/var/log/kubernetes/audit/audit.log',
    logDir: '/var/log/kubernetes/audit',
  },
  'audit/fluent-bit-splunk.conf': {
    logPath: '/var/log/kubernetes/audit/audit.log',
    logDir: '/var/log/kubernetes/audit',
  },
  'audit/kubeadm-patch.yaml': {
    policyPath: '/etc/kubernetes/audit-policy.yaml',
    logPath: '/var/log/kubernetes/audit/audit.log',
    logDir: '/var/log/kubernetes/audit',
  },
  'audit/policy-forensic.yaml': {},
  'audit/policy-minimal.yaml': {},
  'audit/policy-standard.yaml': {},
  'encryption/encryption-config-aesgcm.yaml.tpl': {
    resources: 'secrets',
    keyName: 'key-20260601',
    keyPlaceholder: 'KUBE_HARDEN_KEY_PLACEHOLDER_GENERATE_ON_THE_NODE',
    keyCommand: 'head -c 32 /dev/urandom | base64',
  },
  'encryption/encryption-config-kms.yaml.tpl': {
    resources: 'secrets, configmaps',
    kmsName: 'kube-harden-kms',
    kmsEndpoint: 'unix:///var/run/kmsplugin/socket.sock',
  },
  'encryption/encryption-config-secretbox.yaml.tpl': {
    resources: 'secrets',
    keyName: 'key-20260601',
    keyPlaceholder: 'KUBE_HARDEN_KEY_PLACEHOLDER_GENERATE_ON_THE_NODE',
    keyCommand: 'head -c 32 /dev/urandom | base64',
  },
  'encryption/kubeadm-patch.yaml': {
    configPath: '/etc/kubernetes/enc/encryption-config.yaml',
    configDir: '/etc/kubernetes/enc',
  },
  'netpol/network-policy.yaml': {
    name: 'kube-harden-default-deny',
    namespace: 'shop',
    purpose: 'default-deny',
  },
  'psa/namespace-enforce.yaml': {
    name: 'shop',
    level: 'baseline',
    version: 'v1.36',
    enforcedAt: '2026-06-01',
  },
  'psa/namespace-warn-audit.yaml': {
    name: 'shop',
    warnLevel: 'restricted',
    warnVersion: 'v1.36',
    auditLevel: 'restricted',
    auditVersion: 'latest',
    since: '2026-06-01',
  },
};
