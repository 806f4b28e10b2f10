import { describe, expect, test } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { configuredTier, matchesGlob, parseConfig } from '../../../src/policy/config.js';
import { classifyNamespace, TIER_TARGET_LEVEL } from '../../../src/policy/tiers.js';
import { ns } from '../../fixtures/snapshots/builder.js';

const CONFIG = `apiVersion: kube-harden.io/v1alpha1
kind: Config
tiers:
  system: [kube-system, "platform-*"]
  infrastructure:
    - monitoring-?
    - "team-*-tools"
  application:
    - monitoring
    - platform-apps
`;

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('tiers: built-in recognition', () => {
  test.each([
    ['kube-system', 'system'],
    ['kube-public', 'system'],
    ['kube-node-lease', 'system'],
    ['calico-system', 'system'],
    ['openshift-etcd', 'system'],
    ['ingress-nginx', 'infrastructure'],
    ['monitoring', 'infrastructure'],
    ['logging', 'infrastructure'],
    ['cert-manager', 'infrastructure'],
    ['istio-system', 'infrastructure'],
    ['longhorn-system', 'infrastructure'],
    ['gatekeeper-system', 'infrastructure'],
    ['shop', 'application'],
    ['payments', 'application'],
  ])('%s is %s', (name, tier) => {
    expect(classifyNamespace(ns(name)).tier).toBe(tier);
  });

  test('an infrastructure product named in app.kubernetes.io labels', () => {
    const d = classifyNamespace(ns('edge', { 'app.kubernetes.io/name': 'traefik' }));
    expect(d).toEqual({
      tier: 'infrastructure',
      source: 'builtin',
      reason: 'label app.kubernetes.io/name=traefik',
    });
  });

  test('namespaces running the CNI or control plane are system', () => {
    expect(classifyNamespace(ns('net-agents'), { systemNamespaces: new Set(['net-agents']) }).tier).toBe(
      'system',
    );
  });

  test('tier targets: system=privileged, infrastructure=baseline, application=restricted', () => {
    expect(TIER_TARGET_LEVEL).toEqual({
      system: 'privileged',
      infrastructure: 'baseline',
      application: 'restricted',
    });
  });
});

describe('tiers: overrides', () => {
  test('the kube-harden.io/tier label overrides the built-in guess', () => {
    const d = classifyNamespace(ns('monitoring', { 'kube-harden.io/tier': 'application' }));
    expect(d).toMatchObject({ tier: 'application', source: 'label' });
  });

  test('an invalid label value is ignored, and the reason says so', () => {
    const d = classifyNamespace(ns('shop', { 'kube-harden.io/tier': 'gold' }));
    expect(d.tier).toBe('application');
    expect(d.reason).toContain('kube-harden.io/tier="gold" ignored');
  });

  test('the config file wins over the label and the built-ins', () => {
    const config = parseConfig(CONFIG, 'kh.yaml');
    const d = classifyNamespace(ns('monitoring', { 'kube-harden.io/tier': 'infrastructure' }), { config });
    expect(d).toEqual({ tier: 'application', source: 'config', reason: 'kh.yaml:9 (monitoring)' });
    expect(classifyNamespace(ns('platform-dns'), { config }).tier).toBe('system');
    expect(classifyNamespace(ns('monitoring-2'), { config }).tier).toBe('infrastructure');
    expect(classifyNamespace(ns('team-a-tools'), { config }).tier).toBe('infrastructure');
  });

  test('an exact name beats a glob; the most specific glob wins; a tie goes to the stricter tier', () => {
    const config = parseConfig(CONFIG, 'kh.yaml');
    expect(configuredTier(config, 'platform-apps')?.tier).toBe('application'); // exact beats platform-*
    const tie = parseConfig(
      'apiVersion: kube-harden.io/v1alpha1\nkind: Config\ntiers:\n  system: ["a-*"]\n  application: ["*-b"]\n',
      't.yaml',
    );
    expect(configuredTier(tie, 'a-b')?.tier).toBe('application');
    const specific = parseConfig(
      'apiVersion: kube-harden.io/v1alpha1\nkind: Config\ntiers:\n  system: ["kube-*"]\n  application: ["*"]\n',
      's.yaml',
    );
    expect(configuredTier(specific, 'kube-x')?.tier).toBe('system');
    expect(configuredTier(specific, 'shop')?.tier).toBe('application');
  });

  test('globs: * and ? only, anchored', () => {
    expect(matchesGlob('team-*', 'team-a')).toBe(true);
    expect(matchesGlob('team-*', 'xteam-a')).toBe(false);
    expect(matchesGlob('a?c', 'abc')).toBe(true);
    expect(matchesGlob('a?c', 'abbc')).toBe(false);
    expect(matchesGlob('a.c', 'abc')).toBe(false);
  });
});

describe('config file errors name the file and line', () => {
  test.each([
    ['apiVersion: v1\nkind: Config\n', 1, 'apiVersion must be kube-harden.io/v1alpha1'],
    ['apiVersion: kube-harden.io/v1alpha1\nkind: Konfig\n', 2, 'kind must be Config'],
    ['apiVersion: kube-harden.io/v1alpha1\nkind: Config\ntier: {}\n', 3, 'unknown field "tier"'],
    ['apiVersion: kube-harden.io/v1alpha1\nkind: Config\ntiers:\n  apps: [x]\n', 4, 'unknown field "apps"'],
    [
      'apiVersion: kube-harden.io/v1alpha1\nkind: Config\ntiers:\n  system: kube-system\n',
      4,
      'must be a list',
    ],
    [
      'apiVersion: kube-harden.io/v1alpha1\nkind: Config\ntiers:\n  system:\n    - ok\n    - Bad_Name\n',
      6,
      'must be a namespace name or glob',
    ],
    [
      'apiVersion: kube-harden.io/v1alpha1\nkind: Config\ntiers:\n  system: [a]\n  application:\n    - a\n',
      6,
      'listed under system (line 4) and application',
    ],
    [
      'apiVersion: kube-harden.io/v1alpha1\nkind: Config\ntiers:\n  system: [a, a]\n',
      4,
      'listed under system',
    ],
    ['apiVersion: kube-harden.io/v1alpha1\nkind: Config\nkind: Config\n', 3, 'invalid YAML'],
    ['- a\n- b\n', 1, 'must be a mapping'],
    [
      'apiVersion: kube-harden.io/v1alpha1\nkind: Config\n---\nkind: Config\n',
      4,
      'more than one YAML document',
    ],
  ])('%j → line %i', (text, line, message) => {
    const e = inputError(() => parseConfig(text, 'kh.yaml'));
    expect(e.file).toBe('kh.yaml');
    expect(e.line).toBe(line);
    expect(e.message).toContain(message);
    expect(e.message.startsWith(`kh.yaml:${line}: `)).toBe(true);
  });

  test('an empty file is an error without a line', () => {
    const e = inputError(() => parseConfig('# nothing\n', 'kh.yaml'));
    expect(e.message).toBe('kh.yaml: is empty: expected a Config');
  });

  test('a config without tiers is valid and overrides nothing', () => {
    expect(parseConfig('apiVersion: kube-harden.io/v1alpha1\nkind: Config\n', 'kh.yaml').tiers).toEqual([]);
  });
});
