/**
 * The off-node shipping snippets (issue 14): Fluent Bit and Vector, for Loki, Elasticsearch and Splunk, chosen by
 * `--audit-shipper` and `--audit-sink`. Each parses (Vector: YAML; Fluent Bit: its classic sections), tails exactly
 * the file the `--audit-log-path` flag of the generated flags and kubeadm patch writes (one constant), sends it to
 * the chosen backend, and holds no credential.
 */
import { describe, expect, it } from 'vitest';
import { parseYamlDocuments } from '../../../src/k8s/yaml.js';
import { AUDIT_SHIPPERS, checkShippingSnippet } from '../../../src/policy/control-plane/index.js';
import { AUDIT_SINKS, shippingSnippet } from '../../../steps/audit-logging.js';
import { PATHS } from '../../../steps/kit/control-plane.js';
import { renderTemplate } from '../../../steps/kit/templates.js';

const OUTPUT: Record<string, Record<string, string>> = {
  'fluent-bit': { loki: 'loki', elasticsearch: 'es', splunk: 'splunk' },
  vector: { loki: 'loki', elasticsearch: 'elasticsearch', splunk: 'splunk_hec_logs' },
};

describe('shipping snippets', () => {
  it('the flags and the kubeadm patch write the log where every snippet reads it', () => {
    const flags = renderTemplate('audit/apiserver-flags.txt', {
      policyPath: PATHS.policy,
      logPath: PATHS.log,
      logDir: PATHS.logDir,
    });
    expect(flags).toContain(`--audit-log-path=${PATHS.log}\n`);
    const [patch] = parseYamlDocuments(
      renderTemplate('audit/kubeadm-patch.yaml', {
        policyPath: PATHS.policy,
        logPath: PATHS.log,
        logDir: PATHS.logDir,
      }),
      'patch',
    ).map((d) => d.value as { apiServer: { extraArgs: Array<{ name: string; value: string }> } });
    expect(patch?.apiServer.extraArgs.find((a) => a.name === 'audit-log-path')?.value).toBe(PATHS.log);
  });

  for (const shipper of AUDIT_SHIPPERS)
    for (const sink of AUDIT_SINKS)
      it(`${shipper} → ${sink}: parses, tails ${PATHS.log}, sends to ${sink}, no credential in the file`, () => {
        const s = shippingSnippet(shipper, sink);
        expect(s.path).toBe(
          shipper === 'vector' ? `vector-audit-${sink}.yaml` : `fluent-bit-audit-${sink}.conf`,
        );
        const r = checkShippingSnippet(shipper, s.content, PATHS.log);
        expect(r.problems).toEqual([]);
        expect(r.paths).toEqual([PATHS.log]);
        expect(r.outputs).toEqual([OUTPUT[shipper]?.[sink]]);
        if (shipper === 'vector') {
          const [doc] = parseYamlDocuments(s.content, s.path);
          expect(doc?.value).toMatchObject({
            sources: { kube_audit: { type: 'file', include: [PATHS.log] } },
          });
        }
        // Credentials come from the environment: a placeholder reference, never a value.
        const config = s.content
          .split('\n')
          .filter((l) => !l.trimStart().startsWith('#'))
          .join('\n');
        expect(config).toMatch(/password|token|passwd|loki/i);
        for (const m of config.matchAll(/(password|token|passwd)\S*[:\s]+(\S+)/gi))
          if (!/^(On|Off|kube:)/.test(m[2] ?? '')) expect(m[2], m[0]).toMatch(/^\$\{[A-Z_]+\}$/);
      });

  it('a snippet that tails another file, does not parse, or sends nowhere is refused (the check can fail)', () => {
    const good = shippingSnippet('vector', 'loki').content;
    expect(checkShippingSnippet('vector', good, '/var/log/other.log').problems).toEqual([
      `it tails ${PATHS.log}, not the audit log /var/log/other.log (--audit-log-path)`,
    ]);
    expect(checkShippingSnippet('vector', 'sources: [', PATHS.log).problems[0]).toMatch(/does not parse/);
    expect(
      checkShippingSnippet('vector', good.replace('inputs: [kube_audit_events]', 'inputs: [typo]'), PATHS.log)
        .problems,
    ).toEqual(['sink loki reads typo, which is not defined']);
    const fb = shippingSnippet('fluent-bit', 'splunk').content;
    expect(
      checkShippingSnippet('fluent-bit', fb.replace(PATHS.log, '/var/log/audit.log'), PATHS.log).problems,
    ).toEqual([`it tails /var/log/audit.log, not the audit log ${PATHS.log} (--audit-log-path)`]);
    expect(
      checkShippingSnippet('fluent-bit', fb.replace(/\[OUTPUT\][\s\S]*/, ''), PATHS.log).problems,
    ).toEqual(['it has an output without a type']);
  });
});
