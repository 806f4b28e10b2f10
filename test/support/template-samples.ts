/**
 * Sample values for every file under templates/: the unit test renders each template with them and the
 * integration test server-side dry-runs each rendered Kubernetes object. A new template needs an entry here.
 * Placeholders named `namespace` (namespaced objects) and `name` of a Namespace are replaced by a fresh namespace
 * in the integration test.
 */
import type { TemplateValues } from '../../steps/kit/templates.js';

export const TEMPLATE_SAMPLES: Readonly<Record<string, TemplateValues>> = {
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
