/**
 * Typed step settings: each step declares its settings once (flag, type, default, description, parser); the
 * command line offers them as flags, validates them in one place (a bad value is a usage error, exit 2, naming
 * the flag), and `--help` and the wizard show them from the same declaration.
 */
import { describe, expect, it } from 'vitest';
import { parseSettingFlags, renderHelp, settingFlags } from '../../../src/cli/args.js';
import { migrate } from '../../../src/commands/migrate.js';
import { plan } from '../../../src/commands/plan.js';
import type { SettingSpec } from '../../../src/engine/types.js';
import { ExitCode, UsageError } from '../../../src/errors.js';
import { STEPS, stepSettings } from '../../../steps/index.js';
import { describeSettings, parseChoice, parseDays, settingOf } from '../../../steps/kit/settings.js';
import { STALE_AFTER } from '../../../steps/psa-enforce.js';
import { TARGET } from '../../../steps/psa-migrate.js';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('no usage error');
}

describe('the declarations', () => {
  const all = stepSettings();

  it('every registered setting is keyed by its step, has a valid default, and a flag no other setting uses', () => {
    expect(all.map((s) => s.key)).toEqual([
      'psa-enforce.staleAfterDays',
      'network-default-deny.sameNamespace',
      'network-default-deny.includeInfrastructure',
      'network-default-deny.forceSystemNamespaces',
      'sa-tokens.auditLog',
      'sa-tokens.overrides',
      'registries-warn.allow',
      'registries-warn.includeSystemNamespaces',
      'registries-warn.engine',
      'registries-enforce.soak',
      'registries-signatures.subject',
      'registries-signatures.issuer',
      'registries-signatures.images',
      'audit-logging.tier',
      'audit-logging.sink',
      'audit-logging.shipper',
      'secrets-encryption.provider',
      'secrets-encryption.kmsEndpoint',
      'secrets-encryption.configmaps',
      'exceptions-review.within',
      'psa-migrate.target',
      'psa-migrate.runAsUser',
    ]);
    for (const step of STEPS) {
      for (const spec of step.settings ?? []) {
        expect(spec.key.startsWith(`${step.id}.`)).toBe(true);
        if (spec.default !== undefined) expect(spec.parse(spec.default).ok).toBe(true);
        for (const c of spec.choices ?? []) expect(spec.parse(c)).toEqual({ ok: true, value: c });
      }
    }
    expect(new Set(all.map((s) => s.flag)).size).toBe(all.length);
  });

  it('a flag declared twice is a bug, not a silent override', () => {
    const twice = [
      { id: 'a', settings: [STALE_AFTER] },
      { id: 'b', settings: [{ ...STALE_AFTER, key: 'b.other' }] },
    ] as unknown as typeof STEPS;
    expect(() => stepSettings(undefined, twice)).toThrow(/--audit-only-max-age .* declared twice/);
  });

  it('plan --help shows every step setting and migrate --help its own, from the declarations', () => {
    const planHelp = renderHelp(plan.spec, ['plan']);
    for (const s of all) {
      expect(planHelp).toMatch(
        new RegExp(
          `--${s.flag} ${s.type.replace(/[[\]]/g, '\\$&')} +${s.description.replace(/[()]/g, '\\$&')}`,
        ),
      );
    }
    expect(planHelp).toContain('(default 30d)');
    const migrateHelp = renderHelp(migrate.spec, ['migrate']);
    expect(migrateHelp).toMatch(
      /--target LEVEL +the level to migrate to .*\[step psa-migrate\] \(one of: baseline, restricted\)/,
    );
    expect(migrateHelp).not.toContain('--audit-only-max-age');
  });
});

describe('parsing', () => {
  it('days: 30, 30d, 2w; anything else says what to type', () => {
    expect(parseDays('30')).toEqual({ ok: true, value: 30 });
    expect(parseDays('14d')).toEqual({ ok: true, value: 14 });
    expect(parseDays('2w')).toEqual({ ok: true, value: 14 });
    for (const bad of ['', '3x', '-1', '1.5d', '12345', 'd']) {
      expect(parseDays(bad)).toEqual({
        ok: false,
        error: 'is not a number of days',
        hint: 'use e.g. 14d or 2w',
      });
    }
  });

  it('choices: only the listed values', () => {
    const level = parseChoice(['baseline', 'restricted'] as const);
    expect(level('baseline')).toEqual({ ok: true, value: 'baseline' });
    expect(level('privileged')).toEqual({
      ok: false,
      error: 'is not allowed',
      hint: 'use one of: baseline, restricted',
    });
  });

  it('flags → settings: given values parsed, absent ones take their defaults, no default leaves it unset', () => {
    const specs = stepSettings();
    const netpol = {
      'network-default-deny.sameNamespace': 'namespace',
      'network-default-deny.includeInfrastructure': 'no',
      'network-default-deny.forceSystemNamespaces': 'no',
      'audit-logging.tier': 'standard',
      'audit-logging.sink': 'loki',
      'audit-logging.shipper': 'fluent-bit',
      'secrets-encryption.provider': 'secretbox',
      'secrets-encryption.configmaps': 'no',
      'registries-warn.includeSystemNamespaces': 'no',
      'registries-enforce.soak': 7,
    };
    expect(parseSettingFlags({}, specs)).toEqual({
      'psa-enforce.staleAfterDays': 30,
      ...netpol,
      'exceptions-review.within': 30,
    });
    expect(parseSettingFlags({ 'audit-only-max-age': '2w', target: 'baseline' }, specs)).toEqual({
      ...netpol,
      'exceptions-review.within': 30,
      'psa-enforce.staleAfterDays': 14,
      'psa-migrate.target': 'baseline',
    });
  });

  it('a repeatable setting: repeated flags and comma lists are joined, then parsed', () => {
    const specs = stepSettings(['registries-warn']);
    expect(
      parseSettingFlags({ 'allow-registry': ['ghcr.io/acme', 'quay.io,docker.io/library'] }, specs),
    ).toEqual({
      'registries-warn.allow': ['docker.io/library', 'ghcr.io/acme', 'quay.io'],
      'registries-warn.includeSystemNamespaces': 'no',
    });
    expect(() => parseSettingFlags({ 'allow-registry': ['ghcr.io', 'nginx'] }, specs)).toThrow(
      /invalid value "ghcr.io,nginx" for --allow-registry: "nginx" does not start with a registry host/,
    );
    expect(settingFlags(specs)[0]).toMatchObject({ name: 'allow-registry', multiple: true });
  });

  it('a bad value is a usage error (exit 2) that names the flag and what to type', () => {
    const e = usageError(() => parseSettingFlags({ 'audit-only-max-age': 'soon' }, stepSettings()));
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('invalid value "soon" for --audit-only-max-age: is not a number of days');
    expect(e.hint).toBe('use e.g. 14d or 2w');
  });

  it('settingOf: the parsed value, else the parsed default, else undefined', () => {
    expect(settingOf(STALE_AFTER, { settings: {} })).toBe(30);
    expect(settingOf(STALE_AFTER, { settings: { [STALE_AFTER.key]: 7 } })).toBe(7);
    expect(settingOf(TARGET, { settings: {} })).toBeUndefined();
    const broken: SettingSpec<number> = { ...STALE_AFTER, default: 'soon' };
    expect(() => settingOf(broken, { settings: {} })).toThrow(/bug: the default "soon"/);
  });

  it('settingFlags: one string flag per setting, with its placeholder, choices and default', () => {
    expect(settingFlags([STALE_AFTER, TARGET])).toEqual([
      {
        name: 'audit-only-max-age',
        type: 'string',
        arg: 'DAYS',
        description: `${STALE_AFTER.description} [step psa-enforce]`,
        default: '30d',
      },
      {
        name: 'target',
        type: 'string',
        arg: 'LEVEL',
        description: `${TARGET.description} [step psa-migrate]`,
        choices: ['baseline', 'restricted'],
      },
    ]);
  });
});

describe('the wizard line', () => {
  it("shows a phase's settings and the values in effect; nothing for a phase without settings", () => {
    const phase2 = STEPS.filter((s) => s.phase === 2);
    expect(describeSettings(phase2)).toBe(
      'settings: --audit-only-max-age 30d (psa-enforce) · --target not set (psa-migrate) · --run-as-user not set (psa-migrate)',
    );
    expect(describeSettings(phase2, { 'psa-migrate.target': 'baseline' })).toContain(
      '--target baseline (psa-migrate)',
    );
    expect(describeSettings(STEPS.filter((s) => s.phase === 1))).toBe('');
  });
});
