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
  'audit/vector-elasticsearch.yaml': { logPath: '/var/log/kubernetes/audit/audit.log' },
  'audit/vector-loki.yaml': { logPath: '/var/log/kubernetes/audit/audit.log' },
  'audit/vector-splunk.yaml': { logPath: '/var/log/kubernetes/audit/audit.log' },
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
  'netpol/dns-probe-pod.yaml': {
    name: 'kube-harden-dns-probe-sample',
    namespace: 'shop',
    image: 'registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7',
    lookup: 'kubernetes.default',
    deadlineSeconds: 60,
  },
  'netpol/network-policy.yaml': {
    name: 'kube-harden-default-deny',
    namespace: 'shop',
    purpose: 'default-deny',
  },
  'rbac/narrowed-clusterrole.yaml': {
    name: 'kube-harden-narrowed:shop:cart',
    subject: 'system:serviceaccount:shop:cart',
    window: '2026-06-01T10:00:00Z/2026-06-02T10:00:00Z',
  },
  'rbac/narrowed-clusterrolebinding.yaml': {
    name: 'kube-harden-narrowed:shop:cart',
    subject: 'system:serviceaccount:shop:cart',
  },
  'rbac/narrowed-role.yaml': {
    name: 'kube-harden-narrowed:shop:cart',
    namespace: 'shop',
    subject: 'system:serviceaccount:shop:cart',
    window: '2026-06-01T10:00:00Z/2026-06-02T10:00:00Z',
  },
  'rbac/narrowed-rolebinding.yaml': {
    name: 'kube-harden-narrowed:shop:cart',
    namespace: 'shop',
    subject: 'system:serviceaccount:shop:cart',
  },
  // sa-dedicated (phase 4): a workload's own account and the copies of default's bindings.
  'sa/dedicated-serviceaccount.yaml': {
    name: 'cart',
    namespace: 'shop',
    workload: 'Deployment/cart',
    automount: false,
  },
  'rbac/dedicated-rolebinding.yaml': {
    name: 'ledger-cart',
    namespace: 'shop',
    copiedFrom: 'RoleBinding shop/ledger',
    workload: 'Deployment/cart',
    roleKind: 'Role',
    roleName: 'ledger-operator',
    account: 'cart',
  },
  'rbac/dedicated-clusterrolebinding.yaml': {
    name: 'kube-harden-sample-readers-shop-cart',
    namespace: 'shop',
    copiedFrom: 'ClusterRoleBinding readers',
    workload: 'Deployment/cart',
    roleName: 'view',
    account: 'cart',
  },
  'psa/namespace-enforce.yaml': {
    name: 'shop',
    level: 'baseline',
    version: 'v1.36',
    enforcedAt: '2026-06-01',
  },
  'psa/namespace-privileged.yaml': {
    name: 'shop-privileged',
    version: 'v1.36',
    enforcedAt: '2026-06-01',
    source: 'shop',
  },
  'registries/binding.yaml': {
    name: 'kube-harden-allowed-registries',
    policyName: 'kube-harden-allowed-registries',
    action: 'Warn',
  },
  'registries/policy.yaml': {
    name: 'kube-harden-allowed-registries',
    allowed: "['ghcr.io/acme', 'docker.io/library', 'registry.example.com:5000']",
  },
  // Phase 5 with Kyverno or Gatekeeper installed (their CRDs are not served by the test control plane: the
  // integration test registries-native.test.ts installs them and applies these).
  'registries/kyverno-clusterpolicy.yaml': {
    name: 'kube-harden-allowed-registries',
    action: 'Audit',
    allowed: "['ghcr.io/acme', 'docker.io/library', 'registry.example.com:5000']",
  },
  'registries/gatekeeper-template.yaml': {},
  'registries/kyverno-verify-images.yaml': {
    name: 'kube-harden-verify-images',
    subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    issuer: 'https://token.actions.githubusercontent.com',
  },
  'registries/gatekeeper-constraint.yaml': { name: 'kube-harden-allowed-registries', action: 'warn' },
  'psa/namespace-warn-audit.yaml': {
    name: 'shop',
    warnLevel: 'restricted',
    warnVersion: 'v1.36',
    auditLevel: 'restricted',
    auditVersion: 'latest',
    since: '2026-06-01',
  },
  // kube-harden schedule (src/commands/schedule.ts).
  'schedule/namespace.yaml': { name: 'kube-harden' },
  'schedule/serviceaccount.yaml': { name: 'kube-harden-review', namespace: 'kube-harden' },
  'schedule/clusterrole.yaml': { name: 'kube-harden-review-sample' },
  'schedule/clusterrolebinding.yaml': {
    name: 'kube-harden-review-sample',
    role: 'kube-harden-review-sample',
    serviceAccount: 'kube-harden-review',
    namespace: 'kube-harden',
  },
  'schedule/kubeconfig-configmap.yaml': { name: 'kube-harden-review-kubeconfig', namespace: 'kube-harden' },
  'schedule/exceptions-configmap.yaml': { name: 'kube-harden-review-exceptions', namespace: 'kube-harden' },
  'schedule/cronjob.yaml': {
    name: 'kube-harden-review',
    namespace: 'kube-harden',
    schedule: '0 6 * * 1',
    serviceAccount: 'kube-harden-review',
    image: 'ghcr.io/example/kube-harden:0.1.0',
    kubeconfigMap: 'kube-harden-review-kubeconfig',
    exceptionsMap: 'kube-harden-review-exceptions',
  },
  'schedule/github-actions.yml': {
    cron: '0 6 * * 1',
    version: '0.1.0',
    exceptions: 'kube-harden-exceptions.yaml',
    within: '30d',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not JavaScript
    kubeconfigSecret: '${{ secrets.KUBE_HARDEN_KUBECONFIG }}',
  },
  'schedule/gitlab-ci.yml': { version: '0.1.0', exceptions: 'kube-harden-exceptions.yaml', within: '30d' },
  // Step resource-limits (phase 2, opt-in).
  'resources/limitrange.yaml': {
    name: 'kube-harden-defaults',
    namespace: 'shop',
    defaultRequestCpu: '100m',
    defaultRequestMemory: '128Mi',
    defaultLimitMemory: '512Mi',
  },
  'resources/resourcequota.yaml': {
    name: 'kube-harden-quota',
    namespace: 'shop',
    requestsCpu: '1500m',
    requestsMemory: '768Mi',
    limitsMemory: '1536Mi',
    pods: '6',
  },
};
