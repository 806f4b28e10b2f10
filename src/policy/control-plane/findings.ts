/**
 * Phase 6's findings (pure): one function turns the control-plane verdict of a snapshot into the KH-AUDIT-*,
 * KH-ENCRYPTION-* and KH-APISERVER-* findings and the unknowns they leave. The audit-logging and secrets-encryption
 * steps (their `detect`) and the report (`assess`) both call it: one source of truth for what phase 6 says.
 *
 * Unknown is not off: when no API server's flags can be seen, the findings say "unknown" and, on a live cluster,
 * an unknown entry makes the run incomplete (exit 7). Manifests never hold the running control plane, so offline
 * the unknown is a finding only.
 */
import type { Snapshot, UnknownEntry } from '../../inventory/types.js';
import { type Finding, makeFinding, type Target } from '../findings.js';
import {
  type ControlPlaneVerdict,
  encryptedWrites,
  evaluateControlPlane,
  invisibleReason,
  plaintextWrites,
  providersLine,
} from './evaluate.js';

/** The target of every phase-6 finding: the API server as a whole. */
export const CLUSTER_TARGET: Target = { kind: 'Cluster', name: 'kube-apiserver' };

type Input = Pick<Snapshot, 'source' | 'serverVersion' | 'controlPlaneFacts' | 'network'>;

export interface ControlPlaneFindings {
  verdict: ControlPlaneVerdict;
  /** KH-AUDIT-UNKNOWN, -OFF, -NOT-SHIPPED, -ROTATION. */
  audit: Finding[];
  /** KH-ENCRYPTION-UNKNOWN, -OFF. */
  encryption: Finding[];
  /** KH-APISERVER-PUBLIC, -ANONYMOUS, -PROFILING. */
  apiServer: Finding[];
  /** Live clusters whose API server flags cannot be seen: one entry each for audit logging and encryption. */
  unknown: { audit?: UnknownEntry; encryption?: UnknownEntry };
}

/** The unknown entry a live run records when the API server's flags cannot be seen (exit 7). */
export function invisibleUnknown(input: Input, verdict: ControlPlaneVerdict, what: string): UnknownEntry {
  return {
    resource: `kube-apiserver flags (${what})`,
    namespace: 'kube-system',
    reason: verdict.managed
      ? 'Unsupported'
      : input.controlPlaneFacts?.apiServersUnreadable
        ? 'Forbidden'
        : 'Unsupported',
    message: `${invisibleReason(input, verdict.platform)}: ${what} is unknown, not off`,
  };
}

function auditFindings(input: Input, verdict: ControlPlaneVerdict): Finding[] {
  const out: Finding[] = [];
  const a = verdict.audit;
  if (a.state === 'unknown')
    out.push(
      makeFinding(
        'KH-AUDIT-UNKNOWN',
        CLUSTER_TARGET,
        `audit logging is unknown, not off: ${invisibleReason(input, verdict.platform)}${
          verdict.managed
            ? ` (check the ${verdict.platform.toUpperCase()} setting: \`kube-harden plan --step audit-logging\` prints the provider's command)`
            : ''
        }`,
      ),
    );
  for (const off of a.off)
    out.push(
      makeFinding(
        'KH-AUDIT-OFF',
        CLUSTER_TARGET,
        `${off.instance} runs without ${off.missing.join(' and ')}: no audit events are written`,
      ),
    );
  if (a.logPath && a.shipping.state === 'none')
    out.push(
      makeFinding(
        'KH-AUDIT-NOT-SHIPPED',
        CLUSTER_TARGET,
        `the audit log (${a.logPath}) has no webhook backend and no log shipper DaemonSet was found: it stays on the control-plane nodes`,
      ),
    );
  if (a.unboundedRotation)
    out.push(
      makeFinding(
        'KH-AUDIT-ROTATION',
        CLUSTER_TARGET,
        'the audit log backend runs without --audit-log-maxage/--audit-log-maxbackup on a server before 1.36: rotated files are kept forever',
      ),
    );
  return out;
}

function encryptionFindings(input: Input, verdict: ControlPlaneVerdict): Finding[] {
  const out: Finding[] = [];
  const e = verdict.encryption;
  if (e.state === 'unknown')
    out.push(
      makeFinding(
        'KH-ENCRYPTION-UNKNOWN',
        CLUSTER_TARGET,
        `encryption at rest is unknown, not off: ${invisibleReason(input, verdict.platform)}${
          verdict.managed
            ? ` (check the ${verdict.platform.toUpperCase()} setting: \`kube-harden plan --step secrets-encryption\` prints the provider's command)`
            : ''
        }`,
      ),
    );
  for (const name of e.off)
    out.push(
      makeFinding(
        'KH-ENCRYPTION-OFF',
        CLUSTER_TARGET,
        `${name} runs without --encryption-provider-config: Secrets are stored in plaintext in etcd`,
      ),
    );
  const plaintext = plaintextWrites(e.observed);
  if (plaintext > 0) {
    const encrypted = encryptedWrites(e.observed);
    out.push(
      makeFinding(
        'KH-ENCRYPTION-IDENTITY-FIRST',
        CLUSTER_TARGET,
        `${plaintext} Secret write(s) since the API server started went to etcd in plaintext: identity is the first provider of its EncryptionConfiguration${
          encrypted && e.observed
            ? ` (${encrypted} others were encrypted with ${providersLine(e.observed.writes)}: the file changed since, or the API servers differ)`
            : ''
        }; those Secrets stay plaintext until rewritten (apiserver_storage_transformation_operations_total, transformation_type=to_storage, transformer_prefix="")`,
      ),
    );
  }
  return out;
}

/** Where the API server can be reached, anonymous access and profiling. */
function apiServerFindings(verdict: ControlPlaneVerdict): Finding[] {
  const out: Finding[] = [];
  for (const e of verdict.exposures) {
    if (e.public !== true) continue;
    out.push(
      makeFinding(
        'KH-APISERVER-PUBLIC',
        CLUSTER_TARGET,
        `${e.where} is ${e.address}, a public address: the API server is reachable from the internet unless a firewall says otherwise`,
      ),
    );
  }
  if (verdict.anonymousAuth === 'enabled')
    out.push(
      makeFinding(
        'KH-APISERVER-ANONYMOUS',
        CLUSTER_TARGET,
        'kube-apiserver runs without --anonymous-auth=false (the default lets anonymous requests reach whatever RBAC grants system:anonymous)',
      ),
    );
  if (verdict.profiling === 'enabled')
    out.push(
      makeFinding(
        'KH-APISERVER-PROFILING',
        CLUSTER_TARGET,
        'kube-apiserver runs without --profiling=false (the /debug/pprof endpoints are served)',
      ),
    );
  return out;
}

/** Everything phase 6 says about a snapshot's control plane. */
export function controlPlaneFindings(input: Input): ControlPlaneFindings {
  const verdict = evaluateControlPlane(input);
  const live = input.source.kind === 'cluster';
  const unknown: ControlPlaneFindings['unknown'] = {};
  if (live && verdict.audit.state === 'unknown')
    unknown.audit = invisibleUnknown(input, verdict, 'audit logging');
  if (live && verdict.encryption.state === 'unknown')
    unknown.encryption = invisibleUnknown(input, verdict, 'encryption at rest');
  return {
    verdict,
    audit: auditFindings(input, verdict),
    encryption: encryptionFindings(input, verdict),
    apiServer: apiServerFindings(verdict),
    unknown,
  };
}
