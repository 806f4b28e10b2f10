/**
 * Phase 6 in `kube-harden report` (pure): the same findings the audit-logging and secrets-encryption steps show
 * (`controlPlaneFindings`), the unknown that makes a live report incomplete (exit 7), and a short summary the
 * renderers print as the report's control-plane section.
 *
 * Exit 7 means in a report what it means everywhere in it: a read failed (a refusal, a timeout), and more rights
 * or another try would show more. So the report is incomplete when the kube-system pods (where the kube-apiserver
 * static pods are) could not be listed. When every read succeeded and there is simply no API server to see (a
 * managed control plane, an API server run outside Kubernetes), no read can ever show it: the findings say
 * "unknown, not off" (KH-AUDIT-UNKNOWN, KH-ENCRYPTION-UNKNOWN: high, open, never excepted) without making every
 * report of such a cluster incomplete forever. A plan of the phase-6 steps (`kube-harden plan`) exits 7 in both
 * cases: it cannot say what to change.
 */
import type { Snapshot, UnknownEntry } from '../../inventory/types.js';
import type { Finding } from '../findings.js';
import type { AuditVerdict, Exposure, Platform, State } from './evaluate.js';
import { controlPlaneFindings } from './findings.js';

/** The report's control-plane section (JSON `controlPlane`; see docs/report-schema.md). */
export interface ControlPlaneSummary {
  platform: Platform;
  managed: boolean;
  /** How the platform was recognised. */
  evidence: string[];
  /** The flags of at least one API server are visible (static pod, kubeadm ClusterConfiguration, k3s node args). */
  visible: boolean;
  /** Where the flags were read: `kube-apiserver-node1 (static pod)`. */
  instances: string[];
  audit: {
    state: State;
    policyFile?: string;
    logPath?: string;
    webhookConfigFile?: string;
    shipping: AuditVerdict['shipping']['state'];
    shipper?: string;
  };
  encryption: {
    state: State;
    configFile?: string;
    /** Secret writes since the API server that answered started, by provider (`identity`: plaintext); from its metrics. */
    writes?: Record<string, number>;
  };
  anonymousAuth: 'enabled' | 'disabled' | 'unknown';
  profiling: 'enabled' | 'disabled' | 'unknown';
  exposures: Exposure[];
}

export interface ControlPlaneReport {
  findings: Finding[];
  unknown: UnknownEntry[];
  summary?: ControlPlaneSummary;
}

/**
 * Whether the snapshot already records that kube-system's pods could not be listed: the report is incomplete for
 * that reason already, and a second entry would say the same twice.
 */
function podsAlreadyUnknown(snapshot: Pick<Snapshot, 'unknown'>): boolean {
  return snapshot.unknown.some(
    (u) => u.resource === 'pods' && (u.namespace === undefined || u.namespace === 'kube-system'),
  );
}

/** The unknown of a live report whose kube-system pods could not be listed (undefined: nothing failed). */
function unreadable(
  snapshot: Pick<Snapshot, 'source' | 'controlPlaneFacts' | 'unknown'>,
): UnknownEntry | undefined {
  const f = snapshot.controlPlaneFacts;
  if (snapshot.source.kind !== 'cluster' || !f?.apiServersUnreadable || podsAlreadyUnknown(snapshot))
    return undefined;
  return {
    resource: 'pods',
    namespace: 'kube-system',
    reason: f.apiServersError?.reason ?? 'Error',
    message: `${f.apiServersError?.message ?? 'the list failed'} (the kube-apiserver static pods: audit logging and encryption at rest are unknown)`,
  };
}

export function controlPlaneReport(
  snapshot: Pick<Snapshot, 'source' | 'serverVersion' | 'controlPlaneFacts' | 'network' | 'unknown'>,
): ControlPlaneReport {
  // A snapshot built without control-plane facts (before phase 6, or a hand-made fixture) says nothing about it.
  if (!snapshot.controlPlaneFacts) return { findings: [], unknown: [] };
  const r = controlPlaneFindings(snapshot);
  const v = r.verdict;
  const a = v.audit;
  const failed = unreadable(snapshot);
  const unknown = failed ? [failed] : [];
  return {
    findings: [...r.audit, ...r.encryption, ...r.apiServer],
    unknown,
    summary: {
      platform: v.platform,
      managed: v.managed,
      evidence: v.evidence,
      visible: v.visible,
      instances: v.instances.map((i) => `${i.name} (${i.source})`),
      audit: {
        state: a.state,
        ...(a.policyFile ? { policyFile: a.policyFile } : {}),
        ...(a.logPath ? { logPath: a.logPath } : {}),
        ...(a.webhookConfigFile ? { webhookConfigFile: a.webhookConfigFile } : {}),
        shipping: a.shipping.state,
        ...(a.shipping.shipper ? { shipper: a.shipping.shipper } : {}),
      },
      encryption: {
        state: v.encryption.state,
        ...(v.encryption.configFile ? { configFile: v.encryption.configFile } : {}),
        ...(v.encryption.observed && Object.keys(v.encryption.observed.writes).length
          ? { writes: v.encryption.observed.writes }
          : {}),
      },
      anonymousAuth: v.anonymousAuth,
      profiling: v.profiling,
      exposures: v.exposures,
    },
  };
}
