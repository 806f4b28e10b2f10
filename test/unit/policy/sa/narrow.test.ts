/** Narrowed RBAC from audit operations (audit2rbac's algorithm, kept per namespace). */
import { describe, expect, it } from 'vitest';
import type { AuditOperation } from '../../../../src/policy/sa/audit-log.js';
import { MAX_NAMES, narrowRules } from '../../../../src/policy/sa/narrow.js';

const op = (o: Partial<AuditOperation> & { verb: string }): AuditOperation => ({ count: 1, ...o });

describe('narrowRules', () => {
  it('verbs × resources per namespace, expanded like audit2rbac, compacted per group and verbs', () => {
    const r = narrowRules([
      op({ verb: 'list', apiGroup: '', resource: 'pods', namespace: 'shop' }),
      op({ verb: 'watch', apiGroup: '', resource: 'services', namespace: 'shop' }),
      op({ verb: 'patch', apiGroup: 'apps', resource: 'deployments', namespace: 'shop', name: 'web' }),
      op({ verb: 'create', apiGroup: '', resource: 'events', namespace: 'shop', name: 'x.123' }),
      op({
        verb: 'get',
        apiGroup: '',
        resource: 'pods',
        subresource: 'log',
        namespace: 'data',
        name: 'pg-0',
      }),
    ]);
    expect(r.namespaced).toEqual({
      data: [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'], resourceNames: ['pg-0'] }],
      shop: [
        { apiGroups: [''], resources: ['events'], verbs: ['create'] },
        { apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] },
        {
          apiGroups: ['apps'],
          resources: ['deployments'],
          verbs: ['get', 'patch', 'update'],
          resourceNames: ['web'],
        },
      ],
    });
    expect(r.cluster).toEqual([]);
  });

  it('cluster-scoped and all-namespace requests go to the ClusterRole; discovery needs no rule', () => {
    const r = narrowRules([
      op({ verb: 'list', apiGroup: '', resource: 'pods' }),
      op({ verb: 'get', apiGroup: '', resource: 'nodes', name: 'n1' }),
      op({ verb: 'get', path: '/metrics' }),
      op({ verb: 'get', path: '/apis/apps/v1', count: 7 }),
      op({ verb: 'get', path: '/version' }),
    ]);
    expect(r.cluster).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'], resourceNames: ['n1'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { nonResourceURLs: ['/metrics'], verbs: ['get'] },
    ]);
    expect(r.discovery).toBe(8);
  });

  it('names are dropped when unnamed requests of the same verb exist, or there are too many', () => {
    const many = Array.from({ length: MAX_NAMES + 1 }, (_, i) =>
      op({ verb: 'get', apiGroup: '', resource: 'configmaps', namespace: 'a', name: `c${i}` }),
    );
    expect(narrowRules(many).namespaced.a).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    ]);
    const mixed = narrowRules([
      op({ verb: 'get', apiGroup: '', resource: 'secrets', namespace: 'a', name: 'tls' }),
      op({ verb: 'list', apiGroup: '', resource: 'secrets', namespace: 'a' }),
    ]);
    expect(mixed.namespaced.a).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
    ]);
  });
});
