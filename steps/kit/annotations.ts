/**
 * The annotations the steps themselves put on the objects they change, to remember when something happened.
 * kube-harden's run marks (the `app.kubernetes.io/managed-by` label and the run/step annotations of DESIGN safety
 * rule 5) are not here: the engine stamps them on every write (src/engine/bookkeeping.ts, their one definition),
 * so a step never sets them itself.
 */

/** On a Namespace: the day (YYYY-MM-DD) warn/audit labels were first applied; kept on later runs. */
export const WARN_AUDIT_SINCE = 'kube-harden.io/psa-warn-audit-since';
/** On a Namespace: the day (YYYY-MM-DD) kube-harden last set its enforce level. */
export const ENFORCED_AT = 'kube-harden.io/psa-enforced-at';

/** What a NetworkPolicy written by network-default-deny is for (`PolicyPurpose`). */
export const NETPOL_PURPOSE = 'kube-harden.io/netpol-purpose';
