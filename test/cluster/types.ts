/**
 * What the integration global setup hands to test files (via `project.provide('cluster', …)`, read with
 * `inject('cluster')` or, better, the helpers in `harness.ts`). Plain JSON: it crosses into the workers.
 */
export type ClusterContext = AvailableCluster | UnavailableCluster;

export interface AvailableCluster {
  available: true;
  /** `local` = the control plane started by this run; `external` = KUBE_HARDEN_TEST_KUBECONFIG. */
  kind: 'local' | 'external';
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** etcd client URL of a local control plane (absent for an external cluster). */
  etcdUrl?: string;
  /** Client-certificate user `admin` in group `system:masters` (current context `admin`). */
  adminKubeconfig: string;
  /** Static-token user without any RBAC grant (current context `limited`): deterministic 403s. */
  limitedKubeconfig: string;
  /**
   * Contexts `exec` (current; fake exec plugin printing the exec user's token) and `exec-hang` (a plugin that
   * never exits and spawns a child that ignores SIGTERM).
   */
  execKubeconfig: string;
  /** Context name → a kubeconfig file whose current-context is that context (admin, limited, exec, exec-hang, all). */
  kubeconfigs: Record<string, string>;
  /** Usernames the apiserver sees for the limited and exec contexts (`limited` / `exec-user` locally). */
  users: { admin: string; limited: string; exec: string };
  /** Path of the kubectl binary built with the control plane, or `kubectl` on PATH for an external cluster. */
  kubectl: string;
  /** Server gitVersion, e.g. `v1.36.3`. */
  version: string;
  /** Audit log of the local apiserver (Metadata level; the controller-manager's own requests are omitted). */
  auditLog?: string;
}

export interface UnavailableCluster {
  available: false;
  reason: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterContext;
  }
}
