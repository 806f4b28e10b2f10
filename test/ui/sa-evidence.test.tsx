/**
 * Phase 4 in the wizard: the evidence column (each workload's token decision and what it rests on), flipping a
 * decision (an override setting, then the step plans again: the change is the step's own), the selection kept for
 * the changes that stay the same, and the typed confirmation before anything that touches RBAC is written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Change, PlannedChange, Step } from '../../src/engine/types.js';
import {
  carrySelection,
  decisionText,
  evidenceRows,
  flippedOverrides,
} from '../../src/ui/model/sa-evidence.js';
import { confirmKind, touchesRbac } from '../../src/ui/screens/ConfirmScreen.js';
import { saTokens } from '../../steps/sa-tokens.js';
import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

const STEPS = [saTokens] as unknown as readonly Step<never>[];

const templateToken = (c: PlannedChange | undefined) =>
  (c?.desired?.spec as { template?: { spec?: { automountServiceAccountToken?: boolean } } } | undefined)
    ?.template?.spec?.automountServiceAccountToken;

async function openEvidence(keysBefore: string[] = []) {
  const { store, cluster } = await clusterStore({ steps: STEPS });
  ui = renderWizard(store, { steps: STEPS, size: { columns: 140, rows: 40 } });
  await ui.waitFor('enter phases');
  await ui.press('enter');
  await ui.waitFor('PHASE');
  await ui.press('down', 'p');
  await ui.waitFor('Phase 4 changes', 'RISK');
  await ui.press(...keysBefore, 'e');
  await ui.waitFor('token decisions and their evidence');
  return { store, cluster };
}

describe('phase 4: the evidence column', () => {
  it('lists each workload with its decision and evidence; f flips it through an override and plans again', async () => {
    const { store, cluster } = await openEvidence(['a']);
    let frame = ui!.lastFrame();
    expect(frame).toMatch(
      /deployment\/shop\/cart +remove token +no binding, no known controller, no projected token/,
    );
    expect(frame).toMatch(
      /deployment\/legacy-batch\/legacy-importer +keep token +bound to Role legacy-batch\/batch-admin/,
    );
    const selectedBefore = [...store.getState().selected];
    const cartId = 'sa-tokens/deployment/shop/cart';
    expect(selectedBefore).toContain(cartId);
    expect(templateToken(store.getState().plan?.changes.find((c) => c.id === cartId))).toBe(false);

    const rows = evidenceRows(store.getState().plan);
    const at = rows.findIndex((r) => r.key === 'Deployment/shop/cart');
    for (let i = 0; i < at; i++) await ui!.press('down');
    await ui!.waitFor(/› deployment\/shop\/cart/);
    await ui!.press('f');
    frame = await ui!.waitFor(/deployment\/shop\/cart +keep \(true\) ⇄/, 'flipped by you');
    expect(store.getState().settings['sa-tokens.overrides']).toEqual(['Deployment/shop/cart=keep']);
    // The step's own change now keeps the token (cart runs as default, which stops mounting): an explicit true.
    const cart = store.getState().plan?.changes.find((c) => c.id === cartId);
    expect(templateToken(cart)).toBe(true);
    expect(cart?.reason).toContain("the operator's choice (--sa-token-override Deployment/shop/cart=keep)");
    // Still on the evidence screen; the selection kept where the change is the same, not the flipped one.
    expect(frame).toContain('1 flipped');
    const selectedAfter = store.getState().selected;
    expect(selectedAfter).not.toContain(cartId);
    expect([...selectedAfter].sort()).toEqual(selectedBefore.filter((id) => id !== cartId).sort());
    expect(cluster.writes).toEqual([]);

    // f again: back to what the evidence says.
    await ui!.press('f');
    await ui!.waitFor(/› deployment\/shop\/cart +remove token/);
    expect(store.getState().settings['sa-tokens.overrides']).toEqual([]);
    expect(templateToken(store.getState().plan?.changes.find((c) => c.id === cartId))).toBe(false);

    // enter shows the workload's change; Esc returns to the list.
    await ui!.press('enter');
    await ui!.waitFor('Diff');
    expect(cluster.writes).toEqual([]);
  });

  it('a Pod cannot be flipped: the notice says why, nothing is planned again', async () => {
    const { store } = await openEvidence();
    const rows = evidenceRows(store.getState().plan);
    const at = rows.findIndex((r) => r.kind === 'Pod');
    expect(at).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < at; i++) await ui!.press('down');
    const plan = store.getState().plan;
    await ui!.press('f');
    await ui!.waitFor('pod template cannot change in place');
    expect(store.getState().plan).toBe(plan);
  });
});

describe('the evidence model', () => {
  it('decisions, flips and the carried selection', () => {
    const row = {
      key: 'Deployment/shop/cart',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'cart',
      decision: 'token removed',
      keeps: false,
      flipped: false,
      evidence: 'no binding',
    };
    expect(decisionText(row)).toBe('remove token');
    expect(flippedOverrides(undefined, row)).toEqual(['Deployment/shop/cart=keep']);
    expect(flippedOverrides(['Deployment/shop/cart=keep'], { ...row, keeps: true, flipped: true })).toEqual(
      [],
    );
    expect(flippedOverrides([], { ...row, fixed: 'no' })).toBeUndefined();
    const change = (id: string, v: boolean) =>
      ({ id, kind: 'apply', desired: { spec: { v } } }) as unknown as PlannedChange;
    expect(
      carrySelection(
        [change('a', true), change('b', true), change('c', true)],
        ['a', 'b'],
        [change('a', true), change('b', false), change('c', true)],
      ),
    ).toEqual(['a']);
  });
});

describe('typed confirmation before RBAC is written', () => {
  const base: Omit<PlannedChange, 'id' | 'operation' | 'target'> = {
    step: 's',
    phase: 4,
    kind: 'apply',
    risk: 'low',
    reason: '',
    notes: [],
    baseResourceVersion: null,
    diff: { text: '', added: 0, removed: 0 },
    warnings: [],
    preview: 'ok',
  };
  const rb: PlannedChange = {
    ...base,
    id: 'rb',
    operation: 'create',
    target: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespace: 'shop', name: 'x' },
  };
  const saCreate: PlannedChange = {
    ...base,
    id: 'sa',
    operation: 'create',
    target: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'shop', name: 'cart' },
  };
  const switchSa: PlannedChange = {
    ...base,
    id: 'd',
    operation: 'update',
    target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'cart' },
    desired: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      spec: { template: { spec: { serviceAccountName: 'cart' } } },
    } as never,
  };
  const label: PlannedChange = {
    ...base,
    id: 'n',
    operation: 'update',
    target: { apiVersion: 'v1', kind: 'Namespace', name: 'shop' },
  };

  it('roles, bindings, new ServiceAccounts and switched accounts touch RBAC; a label does not', () => {
    expect([rb, saCreate, switchSa, label].map(touchesRbac)).toEqual([true, true, true, false]);
    expect(confirmKind([label], true)).toBe('yes-no');
    expect(confirmKind([label, rb], true)).toBe('typed');
    expect(confirmKind([rb], false)).toBe('yes-no');
  });

  it('the wizard asks for the context name before a low-risk RoleBinding is written', async () => {
    const change: Change = {
      kind: 'apply',
      id: 'rbac-test/rolebinding/shop/viewer',
      risk: 'low',
      reason: 'bind the viewer',
      target: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        namespace: 'shop',
        name: 'viewer',
      },
      desired: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'viewer', namespace: 'shop' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'shop' }],
      } as never,
    };
    const step = {
      id: 'rbac-test',
      phase: 4,
      title: 'A binding',
      summary: 'one low-risk RoleBinding',
      risk: 'low',
      permissions: () => [],
      targets: [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          operations: ['create'],
          anyField: true,
        },
      ],
      detect: async () => ({ facts: {}, findings: [] }),
      propose: () => [change],
      explain: () => ({ why: 'Test.', impact: 'None.', rollback: 'Undo.' }),
    } as unknown as Step<never>;
    const { store, cluster } = await clusterStore({ steps: [step] });
    ui = renderWizard(store, { steps: [step] });
    await ui.waitFor('enter phases');
    await ui.press('enter');
    await ui.waitFor('PHASE');
    await ui.press('down', 'p');
    await ui.waitFor('Phase 4 changes', 'RISK');
    await ui.press('space', 'c');
    const frame = await ui.waitFor('Type the context name "kind-test" to confirm');
    expect(frame).toContain('1 change touches RBAC');
    await ui.press('y');
    await ui.press('enter');
    await ui.waitFor('"y" is not "kind-test": nothing was applied');
    expect(cluster.writes).toEqual([]);
  });
});
