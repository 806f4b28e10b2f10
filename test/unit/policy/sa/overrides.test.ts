/**
 * The operator's token decisions (`--sa-token-override`, the wizard's flip): parsed and checked, applied by the
 * planner over the evidence (and shown as flipped), and read back from the finding messages the wizard lists.
 */
import { describe, expect, it } from 'vitest';
import type { StepContext, StepOptions } from '../../../../src/engine/types.js';
import type { Snapshot } from '../../../../src/inventory/types.js';
import { assess } from '../../../../src/policy/assess.js';
import { flipOverride, overridesMap, parseOverrides } from '../../../../src/policy/sa/overrides.js';
import { planTokens, readEvidenceMessage } from '../../../../src/policy/sa/tokens.js';
import { saTokens } from '../../../../steps/sa-tokens.js';
import { binding, NOW, ns, sa, snapshot, workload } from '../../../fixtures/snapshots/builder.js';
import { asDefault } from '../../../support/pod-specs.js';

function shop(): Snapshot {
  return snapshot({
    namespaces: [ns('shop')],
    serviceAccounts: [sa('shop', 'default'), sa('shop', 'ledger'), sa('shop', 'ops')],
    workloads: [
      workload('Deployment', 'shop', 'cart', asDefault()),
      workload('Deployment', 'shop', 'ledger', asDefault({ serviceAccountName: 'ledger' })),
      workload('Deployment', 'shop', 'ops', asDefault({ serviceAccountName: 'ops' })),
    ],
    bindings: [
      binding(
        'RoleBinding',
        'ledger',
        { kind: 'Role', name: 'ledger-operator' },
        [{ kind: 'ServiceAccount', name: 'ledger', namespace: 'shop' }],
        'shop',
      ),
      binding(
        'RoleBinding',
        'ops',
        { kind: 'ClusterRole', name: 'view' },
        [{ kind: 'ServiceAccount', name: 'ops', namespace: 'shop' }],
        'shop',
      ),
    ],
  });
}

async function run(snap: Snapshot, overrides?: string) {
  const settings: Record<string, unknown> = {};
  if (overrides !== undefined) {
    const parsed = parseOverrides(overrides);
    if (!parsed.ok) throw new Error(parsed.error);
    settings['sa-tokens.overrides'] = parsed.value;
  }
  const options: StepOptions = { namespaces: [], exclude: [], settings, now: NOW };
  const ctx: StepContext = {
    snapshot: snap,
    assessment: assess(snap, { now: NOW }),
    reader: { capabilities: { dryRun: false, reviews: false } } as never,
    options,
    signal: new AbortController().signal,
  };
  const { facts, findings } = await saTokens.detect(ctx);
  const changes = saTokens.propose(facts, options);
  const spec = (id: string) => {
    const c = changes.find((x) => x.id === id);
    return c?.kind === 'apply'
      ? (c.desired.spec as { template: { spec: Record<string, unknown> } }).template.spec
          .automountServiceAccountToken
      : undefined;
  };
  const message = (name: string) =>
    findings.find((f) => f.control === 'KH-SA-TOKEN-EVIDENCE' && f.target.name === name)?.message ?? '';
  return { changes, findings, spec, message };
}

describe('parseOverrides', () => {
  it('normalizes kinds, sorts, and lets a later entry for a workload win', () => {
    expect(
      parseOverrides('deployment/shop/cart=keep, CronJob/ops/report=remove,Deployment/shop/cart=remove'),
    ).toEqual({
      ok: true,
      value: ['CronJob/ops/report=remove', 'Deployment/shop/cart=remove'],
    });
  });

  it('refuses what is not KIND/NS/NAME=keep|remove, kinds that cannot change in place, and nothing', () => {
    for (const bad of [
      'Deployment/shop=keep',
      'Deployment/shop/cart=yes',
      'Deployment/Shop/cart=keep',
      'x',
    ]) {
      const r = parseOverrides(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.hint).toContain('KIND/NAMESPACE/NAME=keep|remove');
    }
    const job = parseOverrides('Job/shop/once=keep');
    expect(job.ok === false && job.error).toContain("a Job's pod template cannot change in place");
    expect(parseOverrides(' , ').ok).toBe(false);
  });

  it('flipOverride: sets the opposite, and drops an override that flipped (back to the evidence)', () => {
    expect(flipOverride([], 'Deployment/shop/cart', { keeps: false, flipped: false })).toEqual([
      'Deployment/shop/cart=keep',
    ]);
    expect(
      flipOverride(['Deployment/shop/cart=keep'], 'Deployment/shop/cart', { keeps: true, flipped: true }),
    ).toEqual([]);
    // An override that changed nothing (it agreed with the evidence) is replaced by the opposite.
    expect(
      flipOverride(['Deployment/shop/a=keep', 'Deployment/shop/b=keep'], 'Deployment/shop/b', {
        keeps: true,
        flipped: false,
      }),
    ).toEqual(['Deployment/shop/a=keep', 'Deployment/shop/b=remove']);
    expect(overridesMap(['Deployment/shop/a=keep', 'garbage'])).toEqual(
      new Map([['Deployment/shop/a', 'keep']]),
    );
  });
});

describe('the planner with overrides', () => {
  it('without overrides: the evidence decides (the baseline the flips below change)', async () => {
    const { spec, message } = await run(shop());
    expect(spec('sa-tokens/deployment/shop/cart')).toBe(false);
    expect(spec('sa-tokens/deployment/shop/ledger')).toBeUndefined();
    expect(spec('sa-tokens/deployment/shop/ops')).toBeUndefined();
    expect(readEvidenceMessage(message('cart'))).toEqual({
      decision: 'token removed',
      flipped: false,
      evidence: 'no binding, no known controller, no projected token',
    });
    expect(readEvidenceMessage(message('ledger'))).toMatchObject({
      decision: 'token kept',
      evidence: 'bound to Role shop/ledger-operator (RoleBinding shop/ledger)',
    });
    expect(readEvidenceMessage(message('ops'))).toMatchObject({
      decision: 'token kept',
      evidence: 'bound to ClusterRole view in namespace shop (RoleBinding shop/ops)',
    });
    expect(readEvidenceMessage(message('ops'))?.why).toContain('it keeps its token');
  });

  it('keep on a workload without evidence: an explicit true under default, shown as flipped', async () => {
    const { spec, message } = await run(shop(), 'Deployment/shop/cart=keep');
    expect(spec('sa-tokens/deployment/shop/cart')).toBe(true);
    expect(readEvidenceMessage(message('cart'))).toMatchObject({
      decision: 'token kept (explicit true)',
      flipped: true,
    });
  });

  it('remove on workloads with evidence: false on the template, whatever account they run as', async () => {
    const { spec, message, changes } = await run(
      shop(),
      'Deployment/shop/ledger=remove,Deployment/shop/ops=remove',
    );
    expect(spec('sa-tokens/deployment/shop/ledger')).toBe(false);
    expect(spec('sa-tokens/deployment/shop/ops')).toBe(false);
    expect(readEvidenceMessage(message('ops'))).toMatchObject({ decision: 'token removed', flipped: true });
    expect(changes.find((c) => c.id === 'sa-tokens/deployment/shop/ops')?.reason).toContain(
      "the operator's choice (--sa-token-override Deployment/shop/ops=remove) removes its token",
    );
  });

  it('an override that agrees with the evidence is not a flip; one naming no workload is a finding', async () => {
    const { message, findings } = await run(
      shop(),
      'Deployment/shop/ledger=keep,Deployment/shop/gone=remove',
    );
    expect(readEvidenceMessage(message('ledger'))).toMatchObject({ flipped: false });
    expect(findings.find((f) => f.target.name === 'gone')?.message).toContain('names no workload');
  });

  it('the planner: mountsAfter follows the decision', () => {
    const plans = planTokens({
      snapshot: shop(),
      namespaces: ['shop'],
      overrides: new Map([['Deployment/shop/cart', 'keep']]),
    })[0]?.workloads;
    const by = (n: string) => plans?.find((p) => p.workload.name === n);
    expect(by('cart')).toMatchObject({ choice: 'keep-explicit', flipped: true, mountsAfter: true });
    expect(by('ops')).toMatchObject({ choice: 'none', mountsAfter: true });
    expect(by('ledger')).toMatchObject({ choice: 'none', flipped: false, mountsAfter: true });
  });

  it('a workload that cannot change in place: an override is ignored, and says so', () => {
    const snap = shop();
    snap.bindings = [];
    snap.workloads.push(workload('Job', 'shop', 'once', asDefault()));
    const once = planTokens({
      snapshot: snap,
      namespaces: ['shop'],
      overrides: new Map([['Job/shop/once', 'keep']]),
    })[0]?.workloads.find((p) => p.workload.name === 'once');
    expect(once).toMatchObject({ choice: 'none', flipped: false, mountsAfter: false });
    expect(once?.why).toContain('is ignored: its pod template cannot change in place');
  });

  it('readEvidenceMessage: other messages are not decisions', () => {
    expect(readEvidenceMessage('ServiceAccount shop/default stops mounting tokens')).toBeUndefined();
  });
});
