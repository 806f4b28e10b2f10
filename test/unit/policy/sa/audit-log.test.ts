/** The audit log reader: counting per user, stages, impersonation, bad lines, gzip, and what is never kept. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../../src/errors.js';
import { readAuditLog, serviceAccountOf, summarizeAuditLines } from '../../../../src/policy/sa/audit-log.js';

const SA = 'system:serviceaccount:payments:ledger';

function event(extra: Record<string, unknown> = {}, stage = 'ResponseComplete'): string {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: 'x',
    stage,
    requestURI: '/api/v1/namespaces/payments/configmaps/ledger?watch=false',
    verb: 'get',
    user: { username: SA, groups: ['system:serviceaccounts'] },
    objectRef: { resource: 'configmaps', namespace: 'payments', name: 'ledger', apiVersion: 'v1' },
    requestReceivedTimestamp: '2026-06-01T10:00:00.000000Z',
    ...extra,
  });
}

describe('summarizeAuditLines', () => {
  it('counts one request per completed event, per user, with its operations', () => {
    const s = summarizeAuditLines([
      event({}, 'RequestReceived'),
      event(),
      event({ verb: 'list', objectRef: { resource: 'pods', namespace: 'payments', apiVersion: 'v1' } }),
      event({ requestReceivedTimestamp: '2026-06-01T11:00:00Z' }),
      event({
        user: { username: 'alice' },
        verb: 'get',
        objectRef: undefined,
        requestURI: '/healthz?verbose',
      }),
    ]);
    expect(s.events).toBe(5);
    expect(s.badLines).toBe(0);
    const a = s.users.get(SA);
    expect(a?.requests).toBe(3);
    const ops = [...(a?.operations.values() ?? [])];
    expect(ops).toContainEqual({
      verb: 'get',
      apiGroup: '',
      resource: 'configmaps',
      namespace: 'payments',
      name: 'ledger',
      count: 2,
    });
    expect(ops).toContainEqual({
      verb: 'list',
      apiGroup: '',
      resource: 'pods',
      namespace: 'payments',
      count: 1,
    });
    expect([...(s.users.get('alice')?.operations.values() ?? [])]).toEqual([
      { verb: 'get', path: '/healthz', count: 1 },
    ]);
    expect(s.from).toBe('2026-06-01T10:00:00.000000Z');
    expect(s.to).toBe('2026-06-01T11:00:00Z');
  });

  it('counts requests of a log that keeps only RequestReceived', () => {
    const s = summarizeAuditLines([event({}, 'RequestReceived'), event({}, 'RequestReceived')]);
    expect(s.users.get(SA)?.requests).toBe(2);
  });

  it('attributes an impersonated request to the impersonated user (audit2rbac)', () => {
    const s = summarizeAuditLines([
      event({ user: { username: 'admin' }, impersonatedUser: { username: SA } }),
    ]);
    expect(s.users.get(SA)?.requests).toBe(1);
    expect(s.users.has('admin')).toBe(false);
  });

  it('counts bad lines by number, never keeping their content', () => {
    const s = summarizeAuditLines([
      'not json password=hunter2',
      '{"kind":"List"}',
      '',
      event(),
      '{"kind":"Event","verb":"get"}',
    ]);
    expect(s.badLines).toBe(3);
    expect(s.badLineNumbers).toEqual([1, 2, 5]);
    expect(JSON.stringify([...s.users.values()].map((u) => [...u.operations.values()]))).not.toContain(
      'hunter2',
    );
  });

  it('parses ServiceAccount usernames', () => {
    expect(serviceAccountOf(SA)).toEqual({ namespace: 'payments', name: 'ledger' });
    expect(serviceAccountOf('system:serviceaccount:x')).toBeUndefined();
    expect(serviceAccountOf('alice')).toBeUndefined();
  });
});

describe('readAuditLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-audit-'));

  it('reads plain and gzipped logs the same way', async () => {
    const text = `${[event(), 'garbage', event()].join('\n')}\n`;
    writeFileSync(join(dir, 'plain.log'), text);
    writeFileSync(join(dir, 'gz.log.gz'), gzipSync(text));
    const plain = await readAuditLog(join(dir, 'plain.log'));
    const gz = await readAuditLog(join(dir, 'gz.log.gz'));
    expect(plain.gzipped).toBe(false);
    expect(gz.gzipped).toBe(true);
    for (const s of [plain, gz]) {
      expect(s.users.get(SA)?.requests).toBe(2);
      expect(s.badLines).toBe(1);
      expect(s.lines).toBe(3);
    }
  });

  it('a line without a final newline is read', async () => {
    writeFileSync(join(dir, 'nonl.log'), `${event()}\n${event()}`);
    expect((await readAuditLog(join(dir, 'nonl.log'))).users.get(SA)?.requests).toBe(2);
  });

  it('a missing file, a broken gzip, or a file with no event is an input error', async () => {
    await expect(readAuditLog(join(dir, 'missing.log'))).rejects.toThrow(InputError);
    await expect(readAuditLog(join(dir, 'missing.log'))).rejects.toThrow(/does not exist/);
    writeFileSync(join(dir, 'broken.gz'), Buffer.concat([gzipSync(event()).subarray(0, 12)]));
    await expect(readAuditLog(join(dir, 'broken.gz'))).rejects.toThrow(InputError);
    writeFileSync(join(dir, 'notes.txt'), 'hello\nworld\n');
    await expect(readAuditLog(join(dir, 'notes.txt'))).rejects.toThrow(/not an audit log/);
  });
});
