/**
 * The operator's token decisions (phase 4): `--sa-token-override KIND/NS/NAME=keep|remove` (repeatable), also what
 * the wizard sets when the operator flips a decision. A list of entries, one per workload, sorted — a plain value
 * that a plan, `describeSettings` and the wizard show as typed. Pure.
 */
import type { TokenOverride } from './tokens.js';

/** Workload kinds whose pod template can change in place: the only ones an override can act on. */
export const OVERRIDE_KINDS: readonly string[] = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'CronJob',
];

export type OverrideParse = { ok: true; value: string[] } | { ok: false; error: string; hint?: string };

const HINT =
  'use KIND/NAMESPACE/NAME=keep|remove, e.g. Deployment/shop/cart=keep (kinds: Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, CronJob)';

/** `Deployment/shop/cart=keep,CronJob/ops/report=remove` → the entries, checked; a later entry for a workload wins. */
export function parseOverrides(text: string): OverrideParse {
  const byKey = new Map<string, TokenOverride>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m =
      /^([A-Za-z]+)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)=(keep|remove)$/.exec(
        item,
      );
    if (!m) return { ok: false, error: `"${item}" is not KIND/NAMESPACE/NAME=keep|remove`, hint: HINT };
    const kind = OVERRIDE_KINDS.find((k) => k.toLowerCase() === (m[1] as string).toLowerCase());
    if (!kind)
      return {
        ok: false,
        error: `"${item}": a ${m[1]}'s pod template cannot change in place`,
        hint: HINT,
      };
    byKey.set(`${kind}/${m[2]}/${m[4]}`, m[6] as TokenOverride);
  }
  if (byKey.size === 0) return { ok: false, error: 'is empty', hint: HINT };
  return { ok: true, value: entries(byKey) };
}

function entries(map: ReadonlyMap<string, TokenOverride>): string[] {
  return [...map].map(([k, v]) => `${k}=${v}`).sort();
}

/** The entries as a map by workload key (`Deployment/shop/cart`). */
export function overridesMap(list: readonly string[] | undefined): Map<string, TokenOverride> {
  const map = new Map<string, TokenOverride>();
  for (const e of list ?? []) {
    const at = e.lastIndexOf('=');
    const v = e.slice(at + 1);
    if (at > 0 && (v === 'keep' || v === 'remove')) map.set(e.slice(0, at), v);
  }
  return map;
}

/**
 * Flip one workload's decision: with an override that changed its decision (`flipped`), drop it (back to what the
 * evidence says); otherwise set the opposite of what the plan decides now (`keeps`: its pods keep a token).
 */
export function flipOverride(
  list: readonly string[] | undefined,
  key: string,
  now: { keeps: boolean; flipped: boolean },
): string[] {
  const map = overridesMap(list);
  if (map.has(key) && now.flipped) map.delete(key);
  else map.set(key, now.keeps ? 'remove' : 'keep');
  return entries(map);
}
