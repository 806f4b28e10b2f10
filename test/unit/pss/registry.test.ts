/**
 * The check registry, ported from upstream policy/registry_test.go: synthetic checks whose "reason" names the
 * implementation (`id:version`) show which implementation runs at each level and version.
 */
import { describe, expect, it } from 'vitest';
import { type Check, createRegistry, type Level } from '../../../src/policy/pss/index.js';
import { validateChecks } from '../../../src/policy/pss/registry.js';

function generateCheck(id: string, level: Check['level'], versions: number[], overrides?: string[]): Check {
  return {
    id,
    level,
    versions: versions.map((minimumVersion) => ({
      minimumVersion,
      checkPod: () => ({ reason: `${id}:v1.${minimumVersion}`, detail: '' }),
      overrideCheckIds: overrides,
    })),
  };
}

type Case = [Level, number | 'latest', string[]];

function reasons(
  checks: Check[],
  level: Level,
  version: number | 'latest',
  emulationMinor?: number,
): string[] {
  const registry = createRegistry(checks, emulationMinor);
  const minor = version === 'latest' || version > registry.maxMinor ? registry.maxMinor : version;
  return registry.checksAt(level, minor).map((c) => c.checkPod(undefined, {}, [])?.reason ?? '');
}

describe('check registry (registry_test.go)', () => {
  const multiOverride: Check = {
    id: 'i',
    level: 'restricted',
    versions: [
      { ...generateCheck('i', 'restricted', [10]).versions[0]!, overrideCheckIds: ['c'] },
      { ...generateCheck('i', 'restricted', [21]).versions[0]!, overrideCheckIds: ['d'] },
    ],
  };
  const checks = [
    generateCheck('a', 'baseline', [0]),
    generateCheck('b', 'baseline', [10]),
    generateCheck('c', 'baseline', [0, 5, 10]),
    generateCheck('d', 'baseline', [11, 15, 20]),
    generateCheck('e', 'restricted', [0]),
    generateCheck('f', 'restricted', [12, 16, 21]),
    generateCheck('g', 'restricted', [10], ['a']),
    generateCheck('h', 'restricted', [0], ['b']),
    multiOverride,
  ];

  it.each<Case>([
    ['privileged', 0, []],
    ['privileged', 'latest', []],
    ['baseline', 0, ['a:v1.0', 'c:v1.0']],
    ['baseline', 4, ['a:v1.0', 'c:v1.0']],
    ['baseline', 5, ['a:v1.0', 'c:v1.5']],
    ['baseline', 10, ['a:v1.0', 'b:v1.10', 'c:v1.10']],
    ['baseline', 11, ['a:v1.0', 'b:v1.10', 'c:v1.10', 'd:v1.11']],
    ['baseline', 'latest', ['a:v1.0', 'b:v1.10', 'c:v1.10', 'd:v1.20']],
    ['restricted', 0, ['a:v1.0', 'c:v1.0', 'e:v1.0', 'h:v1.0']],
    ['restricted', 4, ['a:v1.0', 'c:v1.0', 'e:v1.0', 'h:v1.0']],
    ['restricted', 5, ['a:v1.0', 'c:v1.5', 'e:v1.0', 'h:v1.0']],
    ['restricted', 10, ['e:v1.0', 'g:v1.10', 'h:v1.0', 'i:v1.10']],
    ['restricted', 11, ['d:v1.11', 'e:v1.0', 'g:v1.10', 'h:v1.0', 'i:v1.10']],
    ['restricted', 'latest', ['c:v1.10', 'e:v1.0', 'f:v1.21', 'g:v1.10', 'h:v1.0', 'i:v1.21']],
    ['restricted', 10000, ['c:v1.10', 'e:v1.0', 'f:v1.21', 'g:v1.10', 'h:v1.0', 'i:v1.21']],
  ])('%s:%s', (level, version, expected) => {
    expect(reasons(checks, level, version)).toEqual(expected);
  });

  it('without baseline checks', () => {
    const only = checks.filter((c) => c.level === 'restricted' && c.id !== 'i');
    expect(reasons(only, 'baseline', 'latest')).toEqual([]);
    expect(reasons(only, 'restricted', 0)).toEqual(['e:v1.0', 'h:v1.0']);
    expect(reasons(only, 'restricted', 10)).toEqual(['e:v1.0', 'g:v1.10', 'h:v1.0']);
    expect(reasons(only, 'restricted', 'latest')).toEqual(['e:v1.0', 'f:v1.21', 'g:v1.10', 'h:v1.0']);
  });

  it('without restricted checks, restricted equals baseline', () => {
    const only = checks.filter((c) => c.level === 'baseline');
    for (const v of [0, 4, 5, 10, 11, 'latest'] as const) {
      expect(reasons(only, 'restricted', v)).toEqual(reasons(only, 'baseline', v));
    }
  });

  it('empty', () => {
    expect(createRegistry([]).maxMinor).toBe(-1);
    expect(reasons([], 'restricted', 'latest')).toEqual([]);
  });

  it('an emulation version lowers the newest evaluated version', () => {
    expect(createRegistry(checks, 11).maxMinor).toBe(11);
    expect(createRegistry(checks, 50).maxMinor).toBe(21);
    expect(reasons(checks, 'baseline', 'latest', 11)).toEqual(['a:v1.0', 'b:v1.10', 'c:v1.10', 'd:v1.11']);
  });
});

describe('validateChecks (registry.go)', () => {
  it.each<[string, Check[], string]>([
    [
      'duplicate IDs',
      [generateCheck('a', 'baseline', [0]), generateCheck('a', 'baseline', [1])],
      'multiple checks registered for ID a',
    ],
    [
      'invalid level',
      [generateCheck('a', 'privileged' as 'baseline', [0])],
      'check a: invalid level privileged',
    ],
    ['no versions', [generateCheck('a', 'baseline', [])], 'check a: empty'],
    ['duplicate version', [generateCheck('a', 'baseline', [3, 3])], 'check a: duplicate version v1.3'],
    [
      'decreasing versions',
      [generateCheck('a', 'baseline', [3, 2])],
      'check a: versions must be strictly increasing',
    ],
    [
      'baseline override',
      [generateCheck('a', 'baseline', [0], ['b'])],
      'check a: only restricted checks may set overrides',
    ],
    [
      'overriding a restricted check',
      [generateCheck('a', 'restricted', [0], ['b']), generateCheck('b', 'restricted', [0])],
      'check a: overrides restricted check b',
    ],
  ])('rejects %s', (_name, checks, message) => {
    expect(() => validateChecks(checks)).toThrow(message);
  });
});
