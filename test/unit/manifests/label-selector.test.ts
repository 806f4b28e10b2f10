import { describe, expect, test } from 'vitest';
import { matchesLabelSelector, parseLabelSelector } from '../../../src/cluster/manifests.js';
import { UsageError } from '../../../src/errors.js';

const web = { app: 'web', tier: 'frontend', 'example.com/owner': 'team-a', replicas: '3' };
const matches = (selector: string, labels: Record<string, string> | undefined = web) =>
  matchesLabelSelector(parseLabelSelector(selector), labels);

describe('label selectors, as the API server reads them', () => {
  test.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app = web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['! app', false],
    ['tier in (frontend, backend)', true],
    ['tier in (backend)', false],
    ['tier notin (backend)', true],
    ['tier notin (frontend,backend)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['example.com/owner=team-a', true],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
    ['app=web, tier in (frontend), !legacy', true],
    ['replicas>2', true],
    ['replicas<2', false],
    ['app=', false],
  ])('%j → %s', (selector, expected) => {
    expect(matches(selector)).toBe(expected);
  });

  test('an empty value matches an empty label', () => {
    expect(matches('app=', { app: '' })).toBe(true);
  });

  test('objects without labels match only negative requirements', () => {
    const bare = (selector: string) => matchesLabelSelector(parseLabelSelector(selector), undefined);
    expect(bare('!app')).toBe(true);
    expect(bare('app!=web')).toBe(true);
    expect(bare('app notin (web)')).toBe(true);
    expect(bare('app')).toBe(false);
    expect(bare('')).toBe(true);
  });

  test('parses into requirements', () => {
    expect(parseLabelSelector('a=b,c notin (d,e),!f')).toEqual([
      { key: 'a', operator: 'equals', values: ['b'] },
      { key: 'c', operator: 'notIn', values: ['d', 'e'] },
      { key: 'f', operator: 'notExists', values: [] },
    ]);
  });

  test.each(['a=b=c', 'a in b', 'a in ()', ',', 'a=b,', '=b', 'a in (x', 'a=(b)', 'a b', 'a in (x y)'])(
    'refuses %j with a UsageError and an example',
    (selector) => {
      expect(() => parseLabelSelector(selector)).toThrow(UsageError);
      try {
        parseLabelSelector(selector);
      } catch (error) {
        expect((error as UsageError).message).toContain(`invalid label selector "${selector}"`);
        expect((error as UsageError).hint).toMatch(/Example/);
      }
    },
  );
});
