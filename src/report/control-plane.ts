/**
 * The report's control-plane section (phase 6): what the API shows of the API server's audit logging, encryption at
 * rest and exposure. Lines only; text.ts and markdown.ts place them. The findings themselves are in the findings
 * list like every other control's.
 */
import { providersLine } from '../policy/control-plane/evaluate.js';
import type { ControlPlaneSummary } from '../policy/control-plane/report.js';

/** One `label: value` pair per line, in a fixed order. */
export function controlPlaneLines(cp: ControlPlaneSummary): Array<[string, string]> {
  const a = cp.audit;
  const audit =
    a.state === 'on'
      ? `on (policy ${a.policyFile ?? '?'}, ${a.webhookConfigFile ? `webhook ${a.webhookConfigFile}` : `log ${a.logPath ?? '?'}`})`
      : a.state;
  const shipping =
    a.state === 'off'
      ? 'none (no audit log)'
      : a.shipping === 'shipper'
        ? `a log shipper runs (${a.shipper ?? '?'}): check that it tails the audit log`
        : a.shipping === 'webhook'
          ? 'webhook backend'
          : a.shipping === 'none'
            ? 'none seen: the log stays on the control-plane nodes'
            : 'unknown';
  const writes = providersLine(cp.encryption.writes ?? {}, 'identity (PLAINTEXT)');
  const enc =
    cp.encryption.state === 'on'
      ? `on (${cp.encryption.configFile ?? 'file not visible'}; ${
          writes
            ? `Secret writes since the API server started, by provider: ${writes}`
            : 'the providers are not visible through the API'
        })`
      : cp.encryption.state === 'off'
        ? 'off: Secrets are stored in plaintext in etcd'
        : cp.encryption.state;
  const exposed = cp.exposures.map(
    (e) =>
      `${e.where} ${e.address} (${e.public === true ? 'PUBLIC' : e.public === false ? 'private' : 'unknown'})`,
  );
  return [
    ['platform', `${cp.platform}${cp.evidence.length ? ` (${cp.evidence.join('; ')})` : ''}`],
    [
      'flags seen',
      cp.visible
        ? cp.instances.join(', ')
        : 'none: the API server flags are not visible through the API, so the rest is unknown, not off',
    ],
    ['audit logging', audit],
    ['off-cluster shipping', shipping],
    ['encryption at rest', enc],
    ['anonymous auth', cp.anonymousAuth],
    ['profiling', cp.profiling],
    ['endpoints', exposed.length ? exposed.join('; ') : 'none seen'],
  ];
}
