/** Mirrors `policy/check_sysctls.go` (baseline; allow-lists v1.0, v1.27, v1.29, v1.32, v1.37). */
import { append, arr, item, rec, str } from '../helpers.js';
import type { Check, CheckPodFn } from '../types.js';

const SYSCTLS_ALLOWED_V1_0: readonly string[] = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];
const SYSCTLS_ALLOWED_V1_27 = [...SYSCTLS_ALLOWED_V1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_ALLOWED_V1_29 = [
  ...SYSCTLS_ALLOWED_V1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SYSCTLS_ALLOWED_V1_32 = [...SYSCTLS_ALLOWED_V1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];
const SYSCTLS_ALLOWED_V1_37 = [
  ...SYSCTLS_ALLOWED_V1_32,
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
];

/** The allow-list of each versioned implementation, by its MinimumVersion. */
export const SYSCTLS_ALLOWED: ReadonlyMap<number, ReadonlySet<string>> = new Map([
  [0, new Set(SYSCTLS_ALLOWED_V1_0)],
  [27, new Set(SYSCTLS_ALLOWED_V1_27)],
  [29, new Set(SYSCTLS_ALLOWED_V1_29)],
  [32, new Set(SYSCTLS_ALLOWED_V1_32)],
  [37, new Set(SYSCTLS_ALLOWED_V1_37)],
]);

// Port of `sysctls`: forbidden names in spec order (not sorted, not deduplicated).
function sysctlsCheck(allowed: ReadonlySet<string>): CheckPodFn {
  return (_meta, spec) => {
    const sc = rec(spec.securityContext);
    if (!sc) return undefined;
    let forbidden: string[] | undefined;
    for (const raw of arr(sc.sysctls)) {
      const name = str(item(raw).name);
      if (!allowed.has(name)) forbidden = append(forbidden, name);
    }
    if (!forbidden) return undefined;
    return { reason: 'forbidden sysctls', detail: forbidden.join(', ') };
  };
}

export const checkSysctls: Check = {
  id: 'sysctls',
  level: 'baseline',
  versions: [...SYSCTLS_ALLOWED].map(([minimumVersion, allowed]) => ({
    minimumVersion,
    checkPod: sysctlsCheck(allowed),
  })),
};
