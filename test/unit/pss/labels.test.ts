/**
 * Namespace label parsing, ported from upstream api/helpers_test.go (TestParseVersion, TestPolicyToEvaluate), with
 * upstream's field error messages.
 */
import { describe, expect, it } from 'vitest';
import {
  compareLevels,
  type LevelVersion,
  type PsaPolicy,
  parseLevel,
  parsePsaLabels,
  parseVersion,
} from '../../../src/policy/pss/index.js';

/** upstream makeLabels: prefixes keys with pod-security.kubernetes.io/ and adds an unrelated label. */
function makeLabels(...kvs: string[]): Record<string, string> {
  const labels: Record<string, string> = { 'other-label': 'foo-bar' };
  for (let i = 0; i < kvs.length; i += 2)
    labels[`pod-security.kubernetes.io/${kvs[i]}`] = kvs[i + 1] as string;
  return labels;
}

function levels(policy: PsaPolicy): Record<'enforce' | 'audit' | 'warn', LevelVersion> {
  const lv = ({ level, version }: LevelVersion) => ({ level, version });
  return { enforce: lv(policy.enforce), audit: lv(policy.audit), warn: lv(policy.warn) };
}

const privileged: LevelVersion = { level: 'privileged', version: 'latest' };

describe('parseVersion / parseLevel', () => {
  it.each([
    ['latest', 'latest'],
    ['v1.0', 'v1.0'],
    ['v1.1', 'v1.1'],
    ['v1.20', 'v1.20'],
    ['v1.10000', 'v1.10000'],
  ])('accepts %s', (value, version) => {
    expect(parseVersion(value)).toMatchObject({ version });
    expect(parseVersion(value).error).toBeUndefined();
  });

  it.each(['foo', '', 'v2.0', 'v1', '1.1', 'v1.05', 'v1.30.1', 'v1.99999999999999999999'])(
    'rejects %j as latest',
    (value) => {
      expect(parseVersion(value)).toEqual({ version: 'latest', error: 'must be "latest" or "v1.x"' });
    },
  );

  it('rejects unknown levels as restricted', () => {
    expect(parseLevel('baseline')).toEqual({ level: 'baseline' });
    expect(parseLevel('Baseline')).toEqual({
      level: 'restricted',
      error: 'must be one of privileged, baseline, restricted',
    });
  });

  it('compares levels by strictness', () => {
    expect(compareLevels('privileged', 'baseline')).toBeLessThan(0);
    expect(compareLevels('restricted', 'baseline')).toBeGreaterThan(0);
    expect(compareLevels('baseline', 'restricted')).toBeLessThan(0);
    expect(compareLevels('baseline', 'privileged')).toBeGreaterThan(0);
    expect(compareLevels('baseline', 'baseline')).toBe(0);
  });
});

describe('parsePsaLabels (PolicyToEvaluate)', () => {
  it.each<[string, Record<string, string>, Record<'enforce' | 'audit' | 'warn', LevelVersion>, boolean]>([
    [
      'simple enforce',
      makeLabels('enforce', 'baseline'),
      {
        enforce: { level: 'baseline', version: 'latest' },
        warn: { level: 'baseline', version: 'latest' },
        audit: privileged,
      },
      false,
    ],
    [
      'simple warn',
      makeLabels('warn', 'restricted'),
      { enforce: privileged, warn: { level: 'restricted', version: 'latest' }, audit: privileged },
      false,
    ],
    [
      'simple audit',
      makeLabels('audit', 'baseline'),
      { enforce: privileged, warn: privileged, audit: { level: 'baseline', version: 'latest' } },
      false,
    ],
    [
      'enforce & warn',
      makeLabels('enforce', 'baseline', 'warn', 'restricted'),
      {
        enforce: { level: 'baseline', version: 'latest' },
        warn: { level: 'restricted', version: 'latest' },
        audit: privileged,
      },
      false,
    ],
    [
      'enforce version',
      makeLabels('enforce', 'baseline', 'enforce-version', 'v1.22'),
      {
        enforce: { level: 'baseline', version: 'v1.22' },
        warn: { level: 'baseline', version: 'v1.22' },
        audit: privileged,
      },
      false,
    ],
    [
      'enforce version & warn-version',
      makeLabels('enforce', 'baseline', 'enforce-version', 'v1.22', 'warn-version', 'latest'),
      {
        enforce: { level: 'baseline', version: 'v1.22' },
        warn: { level: 'baseline', version: 'latest' },
        audit: privileged,
      },
      false,
    ],
    [
      'enforce & warn-version',
      makeLabels('enforce', 'baseline', 'warn-version', 'v1.23'),
      {
        enforce: { level: 'baseline', version: 'latest' },
        warn: { level: 'baseline', version: 'v1.23' },
        audit: privileged,
      },
      false,
    ],
    [
      'fully specd',
      makeLabels(
        ...['enforce', 'baseline', 'enforce-version', 'v1.20'],
        ...['warn', 'restricted', 'warn-version', 'v1.21'],
        ...['audit', 'restricted', 'audit-version', 'v1.22'],
      ),
      {
        enforce: { level: 'baseline', version: 'v1.20' },
        warn: { level: 'restricted', version: 'v1.21' },
        audit: { level: 'restricted', version: 'v1.22' },
      },
      false,
    ],
    [
      'enforce no warn',
      makeLabels('enforce', 'baseline', 'warn', 'privileged'),
      { enforce: { level: 'baseline', version: 'latest' }, warn: privileged, audit: privileged },
      false,
    ],
    [
      'enforce warn error',
      makeLabels('enforce', 'baseline', 'warn', 'foo'),
      { enforce: { level: 'baseline', version: 'latest' }, warn: privileged, audit: privileged },
      true,
    ],
    [
      'enforce error',
      makeLabels('enforce', 'foo'),
      { enforce: { level: 'restricted', version: 'latest' }, warn: privileged, audit: privileged },
      true,
    ],
  ])('%s', (_name, labels, expected, expectErr) => {
    const policy = parsePsaLabels(labels);
    expect(levels(policy)).toEqual(expected);
    expect(policy.error !== undefined).toBe(expectErr);
  });

  it('uses the defaults for missing labels, privileged:latest by default', () => {
    expect(levels(parsePsaLabels(undefined))).toEqual({
      enforce: privileged,
      audit: privileged,
      warn: privileged,
    });
    const defaults = { enforce: 'baseline', 'enforce-version': 'v1.30', audit: 'restricted' } as const;
    expect(levels(parsePsaLabels({}, defaults))).toEqual({
      enforce: { level: 'baseline', version: 'v1.30' },
      audit: { level: 'restricted', version: 'latest' },
      warn: privileged,
    });
    // Warn only inherits from an enforce label, never from the enforce default.
    expect(parsePsaLabels({}, defaults).warn.fromEnforce).toBe(false);
  });

  it('warn inherits enforce only when enforce is stricter than the (default) warn level', () => {
    const inherited = parsePsaLabels(makeLabels('enforce', 'restricted', 'enforce-version', 'v1.25'));
    expect(inherited.warn).toMatchObject({
      level: 'restricted',
      version: 'v1.25',
      fromEnforce: true,
      explicit: false,
    });
    const warnDefault = parsePsaLabels(makeLabels('enforce', 'baseline'), {
      warn: 'restricted',
      'warn-version': 'v1.30',
    });
    expect(warnDefault.warn).toMatchObject({ level: 'restricted', version: 'v1.30', fromEnforce: false });
  });

  it('fails closed for enforce, open for audit and warn, to latest for versions, with upstream messages', () => {
    const policy = parsePsaLabels(
      makeLabels(
        ...['enforce', 'strict', 'enforce-version', 'v1.30.1'],
        ...['audit', 'everything', 'audit-version', 'v1.2'],
        ...['warn', 'Restricted'],
      ),
    );
    expect(levels(policy)).toEqual({
      enforce: { level: 'restricted', version: 'latest' },
      audit: { level: 'privileged', version: 'v1.2' },
      warn: privileged,
    });
    expect(policy.errors).toEqual([
      'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
      'metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "v1.30.1": must be "latest" or "v1.x"',
      'metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "everything": must be one of privileged, baseline, restricted',
      'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "Restricted": must be one of privileged, baseline, restricted',
    ]);
    expect(policy.enforce).toMatchObject({ valid: false, explicit: true, explicitVersion: true });
    expect(policy.enforce.error).toBe(`[${policy.errors.slice(0, 2).join(', ')}]`);
    expect(policy.audit).toMatchObject({ valid: false, error: policy.errors[2] });
    expect(policy.warn).toMatchObject({
      valid: false,
      explicit: true,
      fromEnforce: false,
      error: policy.errors[3],
    });
    expect(policy.error).toBe(`[${policy.errors.join(', ')}]`);
  });

  it('reports valid, explicit modes without errors', () => {
    const policy = parsePsaLabels(makeLabels('audit', 'baseline'));
    expect(policy.audit).toEqual({
      level: 'baseline',
      version: 'latest',
      valid: true,
      explicit: true,
      explicitVersion: false,
      fromEnforce: false,
    });
    expect(policy.errors).toEqual([]);
    expect(policy.error).toBeUndefined();
  });
});
