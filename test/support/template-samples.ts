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
  'registries/binding.yaml': {
    name: 'kube-harden-allowed-registries',
    policyName: 'kube-harden-allowed-registries',
    action: 'Warn',
  },
  'registries/policy.yaml': {
    name: 'kube-harden-allowed-registries',
    allowed: "['ghcr.io/acme', 'docker.io/library', 'registry.example.com:5000']",
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
