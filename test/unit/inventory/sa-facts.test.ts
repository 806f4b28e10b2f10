/** Legacy token Secrets: metadata only (the token never leaves the page), refusals are `unreadable`, not fatal. */
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../../src/cluster/errors.js';
import type { ClusterReader, ListOptions } from '../../../src/cluster/types.js';
import { collectServiceAccountFacts } from '../../../src/inventory/sa-facts.js';

const SECRET_VALUE = 'ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNkluTmxZM0psZENKOS5jYW5hcnk=';

function reader(fail?: string): { reader: ClusterReader; calls: ListOptions[] } {
  const calls: ListOptions[] = [];
  const r = {
    async *list(_kind: unknown, options: ListOptions = {}) {
      calls.push(options);
      if (fail && options.namespace === fail)
        throw new ClusterError('secrets is forbidden', { reason: 'Forbidden', status: 403 });
      yield {
        index: 1,
        restarted: false,
        warnings: [],
        items: [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            type: 'kubernetes.io/service-account-token',
            metadata: {
              name: 'ci-token',
              namespace: options.namespace ?? 'ci',
              creationTimestamp: '2023-01-02T03:04:05Z',
              labels: { 'kubernetes.io/legacy-token-last-used': '2026-05-30' },
              annotations: { 'kubernetes.io/service-account.name': 'ci-deployer' },
            },
            data: { token: SECRET_VALUE },
          },
        ],
      };
    },
  } as unknown as ClusterReader;
  return { reader: r, calls };
}

describe('collectServiceAccountFacts', () => {
  it('lists by type, keeps metadata only', async () => {
    const { reader: r, calls } = reader();
    const facts = await collectServiceAccountFacts({ reader: r, only: new Set() });
    expect(calls[0]?.fieldSelector).toBe('type=kubernetes.io/service-account-token');
    expect(facts.legacyTokens).toEqual([
      {
        namespace: 'ci',
        name: 'ci-token',
        serviceAccount: 'ci-deployer',
        created: '2023-01-02T03:04:05Z',
        lastUsed: '2026-05-30',
      },
    ]);
    expect(JSON.stringify(facts)).not.toContain(SECRET_VALUE);
  });

  it('a refused namespace is unreadable; the others are still read', async () => {
    const { reader: r } = reader('hidden');
    const facts = await collectServiceAccountFacts({ reader: r, only: new Set(['ci', 'hidden']) });
    expect(facts.unreadable).toEqual({ namespaces: ['hidden'], reason: 'Forbidden' });
    expect(facts.legacyTokens.map((t) => t.namespace)).toEqual(['ci']);
  });
});
