/**
 * Seeding many pods fast (bench/inventory/seed.ts's realistic pods, created with kube-harden's own client) and
 * reading the LIST requests kube-harden made from the control plane's audit log — for the pagination contract:
 * every list carries a `limit`, and never `resourceVersion=0` with it (failure-modes F9: with a limit, `rv=0`
 * is served from the watch cache unpaginated on older servers, the whole collection in one response).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { benchPod, pool } from '../../bench/inventory/seed.js';
import type { LiveCluster } from '../../src/cluster/live.js';

export async function seedPods(
  cluster: LiveCluster,
  namespaces: string[],
  perNamespace: number,
  opts: { concurrency?: number; log?: (line: string) => void } = {},
): Promise<number> {
  const pods = namespaces.flatMap((ns, n) =>
    Array.from({ length: perNamespace }, (_, i) => benchPod(ns, n * perNamespace + i)),
  );
  let done = 0;
  let last = Date.now();
  await pool(pods, opts.concurrency ?? 16, async (pod) => {
    await cluster.apply(pod, { fieldManager: 'kube-harden-test-seed' });
    done++;
    if (opts.log && Date.now() - last > 15_000) {
      last = Date.now();
      opts.log(`seeded ${done}/${pods.length} pods`);
    }
  });
  return pods.length;
}

export interface ListRequest {
  /** `pods`, `deployments.apps`. */
  resource: string;
  namespace?: string;
  query: URLSearchParams;
  userAgent: string;
  at: string;
}

/**
 * The LIST requests (or those of another `verb`) in the audit log received at or after `since`, from user agents
 * starting with `userAgent`.
 */
export async function auditedLists(
  auditLog: string,
  since: Date,
  userAgent: string,
  verb = 'list',
): Promise<ListRequest[]> {
  const out: ListRequest[] = [];
  const lines = createInterface({
    input: createReadStream(auditLog, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line.includes(`"verb":"${verb}"`)) continue;
    const e = JSON.parse(line) as {
      stage: string;
      verb: string;
      requestURI: string;
      userAgent?: string;
      requestReceivedTimestamp: string;
      objectRef?: { resource?: string; apiGroup?: string; namespace?: string };
    };
    if (e.stage !== 'ResponseComplete' || e.verb !== verb) continue;
    if (!(e.userAgent ?? '').startsWith(userAgent)) continue;
    if (new Date(e.requestReceivedTimestamp) < since) continue;
    const ref = e.objectRef ?? {};
    out.push({
      resource: ref.apiGroup ? `${ref.resource}.${ref.apiGroup}` : (ref.resource ?? ''),
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      query: new URL(e.requestURI, 'https://x').searchParams,
      userAgent: e.userAgent ?? '',
      at: e.requestReceivedTimestamp,
    });
  }
  return out;
}

/** Lists that break the contract: no `limit`, or `resourceVersion=0` (with a limit, the issue's case). */
export function unpaginated(lists: ListRequest[]): string[] {
  return lists
    .filter((l) => !l.query.has('limit') || l.query.get('resourceVersion') === '0')
    .map((l) => `${l.resource}${l.namespace ? ` -n ${l.namespace}` : ''} ?${l.query.toString()}`);
}
