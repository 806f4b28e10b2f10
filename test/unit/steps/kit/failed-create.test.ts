/**
 * The FailedCreate verification shared by psa-enforce and psa-migrate: given the events a namespace holds, when a
 * step verifies its changes, then only failures since the change (and of the kind the step asks for) count, one
 * list per namespace, and events that cannot be read are a failure, never a pass.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterReader, ListOptions, Page } from '../../../../src/cluster/types.js';
import type { AppliedChange, PlannedChange, StepContext } from '../../../../src/engine/types.js';
import type { KindRef, KubeObject } from '../../../../src/k8s/types.js';
import { failedCreateSince } from '../../../../steps/kit/failed-create.js';
import { psaEnforce } from '../../../../steps/psa-enforce.js';
import { psaMigrate } from '../../../../steps/psa-migrate.js';

const APPLIED = '2026-12-01T10:00:00.600Z'; // events have second precision: 10:00:00 is the same second
const BEFORE = '2026-12-01T09:59:00Z';
const SAME_SECOND = '2026-12-01T10:00:00Z';
const AFTER = '2026-12-01T10:00:05Z';
const PSA_DENIED =
  'Error creating: pods "web-7d9-x" is forbidden: violates PodSecurity "restricted:v1.36": allowPrivilegeEscalation != false';
const QUOTA_DENIED = 'Error creating: pods "web-7d9-y" is forbidden: exceeded quota: compute';

function event(ns: string, name: string, message: string, time: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.1`, namespace: ns },
    reason: 'FailedCreate',
    involvedObject: { kind: 'ReplicaSet', namespace: ns, name },
    message,
    ...time,
  } as unknown as KubeObject;
}

/** A reader whose `list` serves events by namespace (in two pages) and records what was asked. */
function eventReader(byNamespace: Record<string, KubeObject[] | Error>) {
  const calls: ListOptions[] = [];
  const no = () => {
    throw new Error('only events are listed');
  };
  const reader = {
    source: { kind: 'cluster', context: 'test', server: 'https://127.0.0.1' },
    capabilities: { dryRun: true, reviews: true },
    list(kind: KindRef, options: ListOptions = {}): AsyncIterable<Page> {
      expect(kind.kind).toBe('Event');
      calls.push(options);
      const items = byNamespace[options.namespace ?? ''] ?? [];
      return (async function* () {
        if (items instanceof Error) throw items;
        const half = Math.ceil(items.length / 2);
        yield { items: items.slice(0, half), warnings: [], index: 1, restarted: false };
        yield { items: items.slice(half), warnings: [], index: 2, restarted: false };
      })();
    },
    get: no,
    serverVersion: no,
    dryRunApply: no,
    dryRunMergePatch: no,
    dryRunDelete: no,
    accessReview: no,
    whoAmI: no,
  } as unknown as ClusterReader;
  return { reader, calls };
}

describe('failedCreateSince', () => {
  it('counts FailedCreate events since the change (same second included) and names the object', async () => {
    const { reader, calls } = eventReader({
      shop: [
        event('shop', 'old', PSA_DENIED, { lastTimestamp: BEFORE }),
        event('shop', 'web-7d9', PSA_DENIED, { lastTimestamp: SAME_SECOND }),
        event('shop', 'api-5f4', QUOTA_DENIED, { lastTimestamp: AFTER }),
      ],
    });
    const r = await failedCreateSince(reader, [{ namespace: 'shop', since: APPLIED }]);
    expect(r.ok).toBe(false);
    expect(r.messages).toEqual([
      `ReplicaSet shop/web-7d9: FailedCreate: ${PSA_DENIED}`,
      `ReplicaSet shop/api-5f4: FailedCreate: ${QUOTA_DENIED}`,
    ]);
    expect(calls).toEqual([{ namespace: 'shop', fieldSelector: 'reason=FailedCreate' }]);
  });

  it('with a message filter, counts only matching events', async () => {
    const { reader } = eventReader({
      shop: [
        event('shop', 'web-7d9', PSA_DENIED, { lastTimestamp: AFTER }),
        event('shop', 'api-5f4', QUOTA_DENIED, { lastTimestamp: AFTER }),
      ],
    });
    const r = await failedCreateSince(reader, [
      { namespace: 'shop', since: APPLIED, match: /violates PodSecurity/ },
    ]);
    expect(r.messages).toEqual([`ReplicaSet shop/web-7d9: FailedCreate: ${PSA_DENIED}`]);
  });

  it('passes when every failure is older than the change', async () => {
    const { reader } = eventReader({ shop: [event('shop', 'old', PSA_DENIED, { lastTimestamp: BEFORE })] });
    expect(await failedCreateSince(reader, [{ namespace: 'shop', since: APPLIED }])).toEqual({
      ok: true,
      messages: [],
    });
  });

  it('lists each namespace once, from its earliest change', async () => {
    const { reader, calls } = eventReader({
      shop: [event('shop', 'web-7d9', PSA_DENIED, { lastTimestamp: AFTER })],
    });
    const r = await failedCreateSince(reader, [
      { namespace: 'shop', since: '2026-12-01T10:00:10.000Z' },
      { namespace: 'shop', since: APPLIED },
      { namespace: 'blog', since: APPLIED },
    ]);
    expect(calls.map((c) => c.namespace)).toEqual(['blog', 'shop']);
    expect(r.messages).toHaveLength(1);
  });

  it('reads the time of events.k8s.io-style events (series, eventTime), and reports an undated failure', async () => {
    const { reader } = eventReader({
      shop: [
        event('shop', 'series', PSA_DENIED, {
          eventTime: BEFORE,
          series: { count: 3, lastObservedTime: AFTER },
        }),
        event('shop', 'event-time', PSA_DENIED, { eventTime: AFTER, lastTimestamp: null }),
        event('shop', 'old-series', PSA_DENIED, { eventTime: BEFORE, series: { lastObservedTime: BEFORE } }),
        event('shop', 'undated', PSA_DENIED, {}),
      ],
    });
    const r = await failedCreateSince(reader, [{ namespace: 'shop', since: APPLIED }]);
    expect(r.messages.map((m) => m.split(':')[0])).toEqual([
      'ReplicaSet shop/series',
      'ReplicaSet shop/event-time',
      'ReplicaSet shop/undated',
    ]);
  });

  it('fails (unknown is not compliant) when events cannot be read, with what to check by hand', async () => {
    const { reader } = eventReader({ shop: new Error('events is forbidden') });
    const r = await failedCreateSince(reader, [{ namespace: 'shop', since: APPLIED }]);
    expect(r.ok).toBe(false);
    expect(r.messages).toEqual([
      'namespace shop: could not read events (events is forbidden); check FailedCreate events by hand (kubectl get events -n shop --field-selector reason=FailedCreate)',
    ]);
  });
});

describe('the steps verify with it', () => {
  const ctx = (reader: ClusterReader) => ({ reader, signal: new AbortController().signal }) as StepContext;
  const applied = (change: Partial<PlannedChange>): AppliedChange => ({
    change: { kind: 'apply', ...change } as PlannedChange,
    appliedAt: APPLIED,
  });
  const events = {
    shop: [
      event('shop', 'web-7d9', PSA_DENIED, { lastTimestamp: AFTER }),
      event('shop', 'api-5f4', QUOTA_DENIED, { lastTimestamp: AFTER }),
    ],
  };

  it('psa-enforce counts only Pod Security refusals in the namespaces it labelled', async () => {
    const { reader } = eventReader(events);
    const v = await psaEnforce.verify?.(ctx(reader), [
      applied({ target: { apiVersion: 'v1', kind: 'Namespace', name: 'shop' } }),
    ]);
    expect(v).toEqual({ ok: false, messages: [`ReplicaSet shop/web-7d9: FailedCreate: ${PSA_DENIED}`] });
  });

  it('psa-enforce passes, saying so, when nothing failed', async () => {
    const { reader } = eventReader({});
    const v = await psaEnforce.verify?.(ctx(reader), [
      applied({ target: { apiVersion: 'v1', kind: 'Namespace', name: 'shop' } }),
    ]);
    expect(v).toEqual({
      ok: true,
      messages: ['no FailedCreate for PodSecurity in 1 namespace(s) since the change'],
    });
  });

  it('psa-migrate counts every FailedCreate in the namespaces of the workloads it fixed', async () => {
    const { reader } = eventReader(events);
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };
    const live = {
      ...ref,
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        template: { spec: { containers: [{ name: 'app', securityContext: { runAsNonRoot: true } }] } },
      },
    } as unknown as KubeObject;
    const withGet = Object.assign(Object.create(reader), {
      get: async () => ({ value: live, warnings: [] }),
    }) as ClusterReader;
    const v = await psaMigrate.verify?.(ctx(withGet), [applied({ target: ref, desired: live })]);
    expect(v?.ok).toBe(false);
    expect(v?.messages).toEqual([
      `ReplicaSet shop/web-7d9: FailedCreate: ${PSA_DENIED}`,
      `ReplicaSet shop/api-5f4: FailedCreate: ${QUOTA_DENIED}`,
    ]);
  });
});
