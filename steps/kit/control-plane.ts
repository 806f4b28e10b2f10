/**
 * What the two phase-6 steps (audit-logging, secrets-encryption) share: the control-plane verdict of a snapshot,
 * its findings and unknowns, the control-plane file paths kube-harden proposes, and the managed providers' own commands.
 */
import type { Snapshot } from '../../src/inventory/types.js';
import {
  type ControlPlaneFindings,
  type ControlPlaneVerdict,
  controlPlaneFindings,
  type Platform,
} from '../../src/policy/control-plane/index.js';

export const PATHS = {
  policy: '/etc/kubernetes/audit-policy.yaml',
  logDir: '/var/log/kubernetes/audit',
  log: '/var/log/kubernetes/audit/audit.log',
  encryptionDir: '/etc/kubernetes/enc',
  encryption: '/etc/kubernetes/enc/encryption-config.yaml',
  manifest: '/etc/kubernetes/manifests/kube-apiserver.yaml',
} as const;

/** The findings (and unknowns) of phase 6: the same function the report uses (src/policy/control-plane). */
export function detectControlPlane(snapshot: Snapshot): ControlPlaneFindings {
  return controlPlaneFindings(snapshot);
}

/** How the platform was recognised, for explanations. */
export function platformLine(verdict: ControlPlaneVerdict): string {
  const names: Record<Platform, string> = {
    kubeadm: 'kubeadm',
    'static-pod': 'a self-managed control plane (static pods)',
    k3s: 'k3s',
    rke2: 'RKE2',
    eks: 'Amazon EKS',
    gke: 'Google GKE',
    aks: 'Azure AKS',
    unknown: 'an unrecognised platform',
  };
  return `${names[verdict.platform]}${verdict.evidence.length ? ` (${verdict.evidence.join('; ')})` : ''}`;
}

/**
 * The managed provider's own commands (phases-3-6 reference §5, §6), checked against the providers' documentation
 * (December 2026):
 * - EKS audit: `aws eks update-cluster-config --name … --logging '{"clusterLogging":[{"types":[…"audit"…],
 *   "enabled":true}]}'` (AWS CLI examples, UpdateClusterConfig; log types api|audit|authenticator|
 *   controllerManager|scheduler, CloudFormation LoggingTypeConfig).
 * - EKS encryption: `aws eks associate-encryption-config --cluster-name … --encryption-config
 *   '[{"resources":["secrets"],"provider":{"keyArn":"…"}}]'` (AWS CLI reference; `secrets` is the only value).
 * - GKE audit: Data Access audit logs must be enabled explicitly for Kubernetes Engine (ADMIN_READ, DATA_READ,
 *   DATA_WRITE; GKE "audit logging" and "audit policy" docs). The auditConfigs YAML is the Cloud Audit Logs IAM
 *   policy shape; not re-checked line by line.
 * - GKE encryption: `gcloud container clusters update … --database-encryption-key=projects/…/cryptoKeys/…`
 *   (gcloud reference); `--location` is not re-checked here (older gcloud: --zone/--region).
 * - AKS audit: `az monitor diagnostic-settings create --name … --resource … --workspace … --logs
 *   '[{"category":"kube-audit-admin","enabled":true}]'` (Azure Monitor CLI docs; categories kube-audit,
 *   kube-audit-admin from the AKS monitoring reference).
 * - AKS encryption: `az aks update … --enable-azure-keyvault-kms --azure-keyvault-kms-key-vault-network-access
 *   Public --azure-keyvault-kms-key-id …` (AKS "use KMS etcd encryption"; AKS 1.33+ also has the newer "KMS data
 *   encryption", in preview).
 * The one command of each is also in the manual change's instructions (PROVIDER_*_COMMAND).
 */
export const PROVIDER_AUDIT: Partial<Record<Platform, string>> = {
  eks: [
    'EKS: the control-plane audit log is off by default and uses the EKS policy. Turn it on (logs go to CloudWatch',
    'Logs group /aws/eks/CLUSTER/cluster, streams kube-apiserver-audit-*):',
    '',
    `    aws eks update-cluster-config --name CLUSTER --region REGION --logging '{"clusterLogging":[{"types":["audit"],"enabled":true}]}'`,
    '',
    'then subscribe the log group to your SIEM (a CloudWatch Logs subscription filter) and set its retention.',
  ].join('\n'),
  gke: [
    'GKE: Admin Activity audit logs (writes) are always on; Data Access logs (reads) must be enabled for',
    'container.googleapis.com in the project IAM policy:',
    '',
    '    gcloud projects get-iam-policy PROJECT --format=yaml > policy.yaml',
    '    # add: auditConfigs: [{service: container.googleapis.com, auditLogConfigs: [{logType: ADMIN_READ}, {logType: DATA_READ}, {logType: DATA_WRITE}]}]',
    '    gcloud projects set-iam-policy PROJECT policy.yaml',
    '',
    'then route them off the project with a Cloud Logging sink (gcloud logging sinks create ...). The policy is GKE-managed.',
  ].join('\n'),
  aks: [
    'AKS: the audit log is an Azure Monitor diagnostic setting (category kube-audit-admin: writes; kube-audit: reads too):',
    '',
    '    az monitor diagnostic-settings create --name kube-audit \\',
    '      --resource "$(az aks show -g RESOURCE_GROUP -n CLUSTER --query id -o tsv)" \\',
    '      --workspace LOG_ANALYTICS_WORKSPACE_ID \\',
    `      --logs '[{"category":"kube-audit-admin","enabled":true}]'`,
    '',
    'Query it in the AKSAuditAdmin / AKSAudit tables. The policy is AKS-managed.',
  ].join('\n'),
};

export const PROVIDER_ENCRYPTION: Partial<Record<Platform, string>> = {
  eks: [
    'EKS ≥ 1.28 already envelope-encrypts all API data with an AWS-owned KMS key. To use your own KMS key',
    '(irreversible for the cluster):',
    '',
    `    aws eks associate-encryption-config --cluster-name CLUSTER --region REGION --encryption-config '[{"resources":["secrets"],"provider":{"keyArn":"arn:aws:kms:REGION:ACCOUNT:key/KEY_ID"}}]'`,
  ].join('\n'),
  gke: [
    'GKE: application-layer Secrets encryption with a Cloud KMS key (GKE rewrites every Secret; Secret webhooks can',
    'block that):',
    '',
    '    gcloud container clusters update CLUSTER --location LOCATION \\',
    '      --database-encryption-key projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY',
    '',
    'Check: gcloud container clusters describe CLUSTER --location LOCATION --format "value(databaseEncryption)"',
  ].join('\n'),
  aks: [
    'AKS: KMS etcd encryption with an Azure Key Vault key:',
    '',
    '    az aks update -g RESOURCE_GROUP -n CLUSTER --enable-azure-keyvault-kms \\',
    '      --azure-keyvault-kms-key-vault-network-access Public \\',
    '      --azure-keyvault-kms-key-id https://VAULT.vault.azure.net/keys/KEY/VERSION',
    '',
    'Then rewrite every Secret: kubectl get secrets -A -o json | kubectl replace -f -',
    'AKS 1.33 and later also offer "KMS data encryption" (platform- or customer-managed keys; in preview).',
  ].join('\n'),
};

/** The one command of each provider, as a single line for the manual change's instructions. */
export const PROVIDER_AUDIT_COMMAND: Partial<Record<Platform, string>> = {
  eks: `aws eks update-cluster-config --name CLUSTER --region REGION --logging '{"clusterLogging":[{"types":["audit"],"enabled":true}]}'`,
  gke: 'gcloud projects set-iam-policy PROJECT policy.yaml (with Data Access audit logs enabled for container.googleapis.com)',
  aks: `az monitor diagnostic-settings create --name kube-audit --resource CLUSTER_RESOURCE_ID --workspace LOG_ANALYTICS_WORKSPACE_ID --logs '[{"category":"kube-audit-admin","enabled":true}]'`,
};

export const PROVIDER_ENCRYPTION_COMMAND: Partial<Record<Platform, string>> = {
  eks: `aws eks associate-encryption-config --cluster-name CLUSTER --region REGION --encryption-config '[{"resources":["secrets"],"provider":{"keyArn":"arn:aws:kms:REGION:ACCOUNT:key/KEY_ID"}}]'`,
  gke: 'gcloud container clusters update CLUSTER --location LOCATION --database-encryption-key projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY',
  aks: 'az aks update -g RESOURCE_GROUP -n CLUSTER --enable-azure-keyvault-kms --azure-keyvault-kms-key-vault-network-access Public --azure-keyvault-kms-key-id https://VAULT.vault.azure.net/keys/KEY/VERSION',
};
