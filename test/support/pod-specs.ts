/** Pod specs for step tests, built on the fixtures' restricted spec. */
import type { PodSpecLite } from '../../src/inventory/types.js';
import { restrictedSpec } from '../fixtures/snapshots/builder.js';

/**
 * The restricted spec running as its namespace's `default` ServiceAccount: no serviceAccountName and no
 * automountServiceAccountToken (the account's own setting decides), plus `extra`.
 */
export function asDefault(extra: Partial<PodSpecLite> = {}): PodSpecLite {
  const { serviceAccountName: _s, automountServiceAccountToken: _a, ...spec } = restrictedSpec();
  return { ...spec, ...extra };
}
