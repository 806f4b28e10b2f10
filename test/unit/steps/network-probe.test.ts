/**
 * verify --probe, as logic: the Pod runner (create, wait until it ends or the deadline, always delete) on a fake
 * writer, and how network-default-deny's verify reads each outcome (ok / FAILED / could not run = unknown).
 * The real API server's side (restricted admission, Pending without a scheduler, deletion) is
 * test/integration/network-probe.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../../src/cluster/errors.js';
import type { ClusterWriter } from '../../../src/cluster/types.js';
import type { AppliedChange, PodProbe, PodProbeResult, StepContext } from '../../../src/engine/types.js';
import { DEFAULT_PROBE_IMAGE, podDetail, podProbe } from '../../../src/engine/verify.js';
import type { KubeObject } from '../../../src/k8s/types.js';
import { networkDefaultDeny } from '../../../steps/network-default-deny.js';

function fakeWriter(statuses: Array<Record<string, unknown> | Error>) {
  const calls: string[] = [];
  let i = 0;
  const writer = {
    async apply(o: KubeObject) {
      calls.push(`apply ${o.metadata.namespace}/${o.metadata.name}`);
      return { object: o, warnings: [] };
    },
    async get() {
      const s = statuses[Math.min(i++, statuses.length - 1)];
      calls.push('get');
      if (s instanceof Error) throw s;
      return { value: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: s }, warnings: [] };
    },
    async delete(ref: { namespace?: string; name: string }) {
      calls.push(`delete ${ref.namespace}/${ref.name}`);
      return { value: undefined, warnings: [] };
    },
  };
  return { writer: writer as unknown as ClusterWriter, calls };
}

const POD: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace: 'shop' } };
const signal = new AbortController().signal;
let clock = 0;
const options = { image: 'img:1', timeoutMs: 3000, pollMs: 1, now: () => (clock += 1000) };

describe('podProbe: the probe Pod runner', () => {
  it('Succeeded: done; the Pod is deleted', async () => {
    const { writer, calls } = fakeWriter([{ phase: 'Pending' }, { phase: 'Succeeded' }]);
    const r = await podProbe(writer, options).run(POD, signal);
    expect(r).toMatchObject({ phase: 'Succeeded', deleted: true });
    expect(calls[0]).toBe('apply shop/probe');
    expect(calls.at(-1)).toBe('delete shop/probe');
  });

  it('Failed: the termination message (FallbackToLogsOnError) says what failed', async () => {
    const { writer } = fakeWriter([
      {
        phase: 'Failed',
        containerStatuses: [
          {
            state: {
              terminated: {
                exitCode: 1,
                reason: 'Error',
                message:
                  'DNS over udp: kubernetes.default -> 10.96.0.1\nDNS over tcp: no answer (dig exit 9)\n',
              },
            },
          },
        ],
      },
    ]);
    const r = await podProbe(writer, options).run(POD, signal);
    expect(r).toEqual({
      phase: 'Failed',
      detail:
        'exit code 1 (Error): DNS over udp: kubernetes.default -> 10.96.0.1 | DNS over tcp: no answer (dig exit 9)',
      deleted: true,
    });
  });

  it('still Pending at the deadline: says why (not scheduled), and deletes it', async () => {
    const { writer, calls } = fakeWriter([{ phase: 'Pending' }]);
    const r = await podProbe(writer, options).run(POD, signal);
    expect(r).toEqual({
      phase: 'Pending',
      detail: 'not scheduled: no scheduler has placed it on a node',
      deleted: true,
    });
    expect(calls.filter((c) => c === 'get').length).toBeGreaterThanOrEqual(2);
    expect(calls.at(-1)).toBe('delete shop/probe');
  });

  it('cannot be read: unknown, and still deleted', async () => {
    const { writer, calls } = fakeWriter([
      new ClusterError('pods "probe" is forbidden', { reason: 'Forbidden' }),
    ]);
    const r = await podProbe(writer, options).run(POD, signal);
    expect(r.phase).toBe('Unknown');
    expect(r.detail).toContain('could not read it');
    expect(calls.at(-1)).toBe('delete shop/probe');
  });

  it('podDetail: an unschedulable Pod, an image that cannot be pulled', () => {
    expect(
      podDetail({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/3 nodes are available',
            },
          ],
        },
      }).detail,
    ).toBe('not scheduled: Unschedulable: 0/3 nodes are available');
    expect(
      podDetail({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        status: {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'True' }],
          containerStatuses: [{ state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } }],
        },
      }).detail,
    ).toBe('container waiting: ImagePullBackOff: not found');
  });
});

describe('network-default-deny verify', () => {
  const applied = ['shop', 'web'].map(
    (namespace) =>
      ({
        change: {
          id: `network-default-deny/${namespace}/kube-harden-default-deny`,
          kind: 'apply',
          target: {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            namespace,
            name: 'kube-harden-default-deny',
          },
        },
        appliedAt: '2026-06-01T12:00:00Z',
      }) as unknown as AppliedChange,
  );
  const ctx = (probe?: PodProbe) => ({ signal, ...(probe ? { probe } : {}) }) as unknown as StepContext;
  const probeOf = (results: Record<string, Omit<PodProbeResult, 'deleted'>>) => {
    const pods: KubeObject[] = [];
    const probe: PodProbe = {
      image: DEFAULT_PROBE_IMAGE,
      timeoutMs: 60_000,
      async run(pod) {
        pods.push(pod);
        return { ...(results[pod.metadata.namespace as string] as PodProbeResult), deleted: true };
      },
    };
    return { probe, pods };
  };

  it('without --probe: ok, and says plainly DNS was not probed', async () => {
    const v = await networkDefaultDeny.verify?.(ctx(), applied);
    expect(v?.ok).toBe(true);
    expect(v?.messages.join(' ')).toContain('DNS was not probed (use --probe)');
  });

  it('one restricted probe Pod per changed namespace, from the template, with the chosen image', async () => {
    const { probe, pods } = probeOf({
      shop: { phase: 'Succeeded', detail: '' },
      web: { phase: 'Succeeded', detail: '' },
    });
    const v = await networkDefaultDeny.verify?.(ctx(probe), applied);
    expect(v).toMatchObject({ ok: true });
    expect(v?.unknown).toBeUndefined();
    expect(pods.map((p) => p.metadata.namespace)).toEqual(['shop', 'web']);
    // biome-ignore lint/suspicious/noExplicitAny: reading the rendered Pod in a test
    const spec = pods[0]?.spec as Record<string, any>;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.containers[0]).toMatchObject({
      image: DEFAULT_PROBE_IMAGE,
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
    expect(spec.containers[0].args[0]).toContain('+tcp');
    expect(spec.activeDeadlineSeconds).toBe(60);
  });

  it('a failed probe is a problem; one that could not run is unknown (not ok, not a failure)', async () => {
    const failed = probeOf({
      shop: { phase: 'Failed', detail: 'exit code 1: DNS over tcp: no answer' },
      web: { phase: 'Pending', detail: 'not scheduled' },
    });
    const v1 = await networkDefaultDeny.verify?.(ctx(failed.probe), applied);
    expect(v1).toMatchObject({ ok: false });
    expect(v1?.unknown).toBeUndefined();
    expect(v1?.messages.join('\n')).toMatch(/shop: probe Pod .*: DNS FAILED: exit code 1/);

    const pending = probeOf({
      shop: { phase: 'Succeeded', detail: '' },
      web: { phase: 'Pending', detail: 'not scheduled: no scheduler has placed it on a node' },
    });
    const v2 = await networkDefaultDeny.verify?.(ctx(pending.probe), applied);
    expect(v2).toMatchObject({ ok: false, unknown: true });
    expect(v2?.messages.join('\n')).toMatch(
      /web: probe Pod .*: probe could not run \(Pending: not scheduled: no scheduler/,
    );
  });
});
