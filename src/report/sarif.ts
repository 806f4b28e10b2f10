/**
 * SARIF 2.1.0 (OASIS, https://docs.oasis-open.org/sarif/sarif/v2.1.0/) for code-scanning tools. Rules come from
 * the control catalog; a cluster has no files, so results carry logical locations `namespace/kind/name` (`kind/name`
 * for cluster-scoped objects). Excepted findings are results with an accepted external suppression; unknowns are
 * results of rule KH-UNKNOWN and also tool notifications, so they cannot be missed.
 */
import type { Assessment } from '../policy/assess.js';
import { CONTROLS, type Severity } from '../policy/controls.js';
import type { Finding, Target } from '../policy/findings.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub code scanning reads `security-severity` (0–10) to rank security results. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

export function logicalName(t: Target): string {
  const ns = t.kind === 'Namespace' ? undefined : t.namespace;
  return ns ? `${ns}/${t.kind}/${t.name}` : `${t.kind}/${t.name}`;
}

export interface SarifOptions {
  /** The version of kube-harden, for `tool.driver.version`. */
  toolVersion?: string;
  /** Record the generation time in the invocation. @default true */
  timestamps?: boolean;
}

export function toSarif(a: Assessment, options: SarifOptions = {}): Record<string, unknown> {
  const ruleIndex = new Map(CONTROLS.map((c, i) => [c.id, i]));
  const rules = CONTROLS.map((c) => ({
    id: c.id,
    name: c.id
      .replace(/^KH-/, '')
      .toLowerCase()
      .replace(/(^|-)([a-z])/g, (_, __, ch: string) => ch.toUpperCase()),
    shortDescription: { text: c.title },
    fullDescription: {
      text: `${c.title}.${c.phase !== null ? ` Fixed by kube-harden phase ${c.phase}.` : ''}`,
    },
    help: { text: c.nextStep, markdown: `**Next step:** ${c.nextStep}` },
    defaultConfiguration: { level: LEVEL[c.severity] },
    properties: {
      severity: c.severity,
      'security-severity': SECURITY_SEVERITY[c.severity],
      phase: c.phase,
      tags: ['security', 'kubernetes'],
    },
  }));
  const result = (f: Finding) => {
    const fq = logicalName(f.target);
    const r: Record<string, unknown> = {
      ruleId: f.control,
      ruleIndex: ruleIndex.get(f.control),
      level: LEVEL[f.severity],
      message: {
        text: `${fq}${f.target.container ? ` (container ${f.target.container})` : ''}: ${f.message}`,
      },
      locations: [
        {
          logicalLocations: [
            {
              name: f.target.name,
              fullyQualifiedName: fq,
              kind: f.target.kind === 'Namespace' ? 'namespace' : 'resource',
            },
          ],
        },
      ],
      partialFingerprints: {
        'khTarget/v1': `${f.control}|${fq}|${f.target.container ?? ''}|${(f.checks ?? []).join(',')}`,
      },
      properties: {
        severity: f.severity,
        target: { ...f.target },
        ...(f.checks ? { checks: [...f.checks] } : {}),
      },
    };
    if (f.excepted) {
      r.suppressions = [
        {
          kind: 'external',
          status: 'accepted',
          justification: `kube-harden exception ${(f.exceptedBy ?? []).join(', ')}`,
        },
      ];
    }
    return r;
  };
  const invocation: Record<string, unknown> = {
    executionSuccessful: true,
    toolExecutionNotifications: a.unknown.map((u) => ({
      level: 'error',
      message: {
        text: `could not read ${u.resource}${u.namespace ? ` in namespace ${u.namespace}` : ''} (${u.reason}): ${u.message}`,
      },
    })),
  };
  if (options.timestamps !== false) invocation.endTimeUtc = a.generatedAt;
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kube-harden',
            ...(options.toolVersion ? { version: options.toolVersion } : {}),
            rules,
          },
        },
        invocations: [invocation],
        results: a.findings.map(result),
        properties: {
          source: a.source.kind,
          policyVersion: a.policyVersion.resolved,
        },
      },
    ],
  };
}

export function renderSarif(a: Assessment, options: SarifOptions = {}): string {
  return `${JSON.stringify(toSarif(a, options), null, 2)}\n`;
}
