/** Turning flags into a source (live cluster or manifests) and a namespace scope. Shared by every command. */

import { connect, type LiveCluster } from '../cluster/live.js';
import { UsageError } from '../errors.js';
import type { Scope } from '../inventory/scope.js';
import { type FlagValues, parseDuration, parsePositiveNumber, stringList } from './args.js';

export function scopeFrom(flags: FlagValues): Scope {
  const namespaces = stringList(flags, 'namespace');
  if (flags['all-namespaces'] && namespaces.length > 0) {
    throw new UsageError('-n/--namespace and -A/--all-namespaces cannot be used together', 'pick one');
  }
  return { namespaces, exclude: stringList(flags, 'exclude-namespace') };
}

export function connectFromFlags(flags: FlagValues, options: { interactive?: boolean } = {}): LiveCluster {
  const execTimeout = process.env.KUBE_HARDEN_EXEC_TIMEOUT;
  return connect({
    ...(typeof flags.kubeconfig === 'string' ? { kubeconfig: flags.kubeconfig } : {}),
    ...(typeof flags.context === 'string' ? { context: flags.context } : {}),
    requestTimeoutMs: parseDuration(
      typeof flags['request-timeout'] === 'string' ? flags['request-timeout'] : '30s',
      'request-timeout',
    ),
    qps: parsePositiveNumber(typeof flags.qps === 'string' ? flags.qps : '20', 'qps'),
    burst: parsePositiveNumber(typeof flags.burst === 'string' ? flags.burst : '40', 'burst'),
    ...(execTimeout
      ? { execTimeoutMs: parsePositiveNumber(execTimeout, 'KUBE_HARDEN_EXEC_TIMEOUT') * 1000 }
      : {}),
    interactive: options.interactive ?? false,
  });
}
