/**
 * Phase 4's evidence column (EvidenceScreen): per workload, the token decision of `sa-tokens` and its evidence, read
 * from the plan (the step's `KH-SA-TOKEN-EVIDENCE` findings and its changes), and what flipping it sets (the
 * `sa-tokens.overrides` setting; the phase is then planned again). Pure.
 */
import { withoutBookkeeping } from '../../engine/bookkeeping.js';
import type { Plan, PlannedChange } from '../../engine/types.js';
import { flipOverride, OVERRIDE_KINDS } from '../../policy/sa/overrides.js';
import { DECISIONS, readEvidenceMessage } from '../../policy/sa/tokens.js';

export const EVIDENCE_STEP = 'sa-tokens';
export const OVERRIDES_KEY = 'sa-tokens.overrides';

export interface EvidenceRow {
  /** `Deployment/shop/cart`: the override key. */
  key: string;
  kind: string;
  namespace: string;
  name: string;
  /** As the finding says it: `token removed`, `token kept (explicit true)`, `token kept`, `no change`. */
  decision: string;
  /** Its pods keep (or get) a token once the plan is applied. */
  keeps: boolean;
  /** The operator's override changed the decision the evidence leads to. */
  flipped: boolean;
  evidence: string;
  /** Why nothing changes, for decisions without a change of their own. */
  why?: string;
  /** The change of this workload in the plan, if any. */
  changeId?: string;
  /** Why it cannot be flipped (undefined: it can). */
  fixed?: string;
}

/** The rows of the evidence column, in the step's order (namespace, then workload). */
export function evidenceRows(plan: Plan | undefined): EvidenceRow[] {
  const step = plan?.steps.find((s) => s.id === EVIDENCE_STEP);
  if (!plan || !step) return [];
  const changes = new Map(plan.changes.filter((c) => c.step === EVIDENCE_STEP).map((c) => [c.id, c]));
  const rows: EvidenceRow[] = [];
  for (const f of step.findings) {
    if (f.control !== 'KH-SA-TOKEN-EVIDENCE' || f.target.kind === 'ServiceAccount' || !f.target.namespace)
      continue;
    const read = readEvidenceMessage(f.message);
    if (!read) continue;
    const { kind, namespace, name } = f.target;
    const changeId = `${EVIDENCE_STEP}/${kind.toLowerCase()}/${namespace}/${name}`;
    const keeps = read.decision !== DECISIONS.remove && read.decision !== DECISIONS.none;
    const row: EvidenceRow = {
      key: `${kind}/${namespace}/${name}`,
      kind,
      namespace,
      name,
      decision: read.decision,
      keeps,
      flipped: read.flipped,
      evidence: read.evidence,
      ...(read.why ? { why: read.why } : {}),
      ...(changes.has(changeId) ? { changeId } : {}),
    };
    if (!OVERRIDE_KINDS.includes(kind))
      row.fixed = `a ${kind}'s pod template cannot change in place: change it in its manifest`;
    else if (read.decision === DECISIONS.none && !read.flipped)
      row.fixed =
        'its pods get no token once the plan applies (or have none today): nothing to keep or remove';
    rows.push(row);
  }
  return rows;
}

/** What flipping a row sets `sa-tokens.overrides` to (undefined: it cannot be flipped). */
export function flippedOverrides(current: unknown, row: EvidenceRow): string[] | undefined {
  if (row.fixed) return undefined;
  const list = Array.isArray(current) ? current.filter((x): x is string => typeof x === 'string') : [];
  return flipOverride(list, row.key, { keeps: row.keeps, flipped: row.flipped });
}

/** The row's decision as the evidence column shows it, with the flip marked. */
export function decisionText(row: EvidenceRow): string {
  const short =
    row.decision === DECISIONS.remove
      ? 'remove token'
      : row.decision === DECISIONS.none
        ? 'no change'
        : row.decision === DECISIONS.keepExplicit
          ? 'keep (true)'
          : 'keep token';
  return row.flipped ? `${short} ⇄` : short;
}

/** The same desired object, apart from kube-harden's bookkeeping (each plan stamps its own run id). */
function same(a: PlannedChange['desired'], b: PlannedChange['desired']): boolean {
  const strip = (o: PlannedChange['desired']) =>
    JSON.stringify(o ? withoutBookkeeping(o as unknown as Record<string, unknown>) : null);
  return strip(a) === strip(b);
}

/**
 * After planning again (a flip), keep the operator's selection where the change is the same: a change with the
 * same id and the same desired object stays selected; a new or different one (the flipped workload's) is not.
 */
export function carrySelection(
  before: readonly PlannedChange[],
  selected: readonly string[],
  after: readonly PlannedChange[],
): string[] {
  const was = new Map(before.filter((c) => selected.includes(c.id)).map((c) => [c.id, c]));
  return after
    .filter((c) => {
      const old = was.get(c.id);
      return old !== undefined && old.kind === c.kind && same(old.desired, c.desired);
    })
    .map((c) => c.id);
}
