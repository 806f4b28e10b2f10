/**
 * Ask the API server what its admission chain says about objects, without writing anything: each probe is sent
 * as a server-side apply with `dryRun=All` (ClusterReader.dryRunApply), and what comes back — the `Warning`
 * headers of an admitted request, or the message of a refused one — is returned as text for the caller to read.
 * The same mechanism psa-enforce uses with the namespace label (the Pod Security "existing pods … violate"
 * warnings): here generalised to a list of probes, at most `concurrency` in flight (the transport's rate limit
 * and concurrency gate still apply to each request).
 *
 * Used by registries-enforce to cross-check kube-harden's evaluation with the admission policy in place
 * (src/policy/registries/xcheck.ts). A request that fails for any other reason is returned as `error`: the
 * caller decides (unknown is not compliant).
 */
import { isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import type { KubeObject } from '../k8s/types.js';

export type DryRunAnswer =
  /** Admitted: the `Warning` headers. */
  | { admitted: true; warnings: string[] }
  /** Refused by admission (403/422 with a message) or failed: the server's message and any warnings. */
  | { admitted: false; message: string; warnings: string[]; reason: string };

/** Default in-flight probes: a cross-check must not crowd out the rest of a run on a shared API server. */
export const PROBE_CONCURRENCY = 4;

/** Dry-run each probe (field manager kube-harden, never forced); answers in the order of `probes`. */
export async function dryRunProbes(
  reader: ClusterReader,
  probes: readonly KubeObject[],
  options: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<DryRunAnswer[]> {
  const answers: DryRunAnswer[] = new Array(probes.length);
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const i = next++;
      const probe = probes[i] as KubeObject;
      try {
        const res = await reader.dryRunApply(probe, {
          fieldManager: 'kube-harden',
          ...(options.signal ? { signal: options.signal } : {}),
        });
        answers[i] = { admitted: true, warnings: res.warnings };
      } catch (error) {
        if (!isClusterError(error)) throw error;
        answers[i] = {
          admitted: false,
          message: error.serverMessage ?? error.message,
          warnings: error.warnings,
          reason: error.reason,
        };
      }
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? PROBE_CONCURRENCY, probes.length));
  await Promise.all(Array.from({ length: n }, worker));
  return answers;
}
