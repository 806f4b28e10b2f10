/** Which answers cannot come from a Kubernetes API server (and which must not be mistaken for that). */
import { describe, expect, it } from 'vitest';
import { foreignAnswer } from '../../../src/cluster/transport.js';

const answer = (
  status: number,
  type: string | undefined,
  body: string,
  extra: Record<string, string> = {},
) => ({
  status,
  headers: { ...(type ? { 'content-type': type } : {}), ...extra },
  body: Buffer.from(body),
});

describe('foreignAnswer', () => {
  it('names an HTML page, broken JSON, JSON that is not an object, and a redirect', () => {
    expect(foreignAnswer(answer(200, 'text/html; charset=utf-8', '<html></html>'))).toBe(
      'an HTML page (HTTP 200, text/html)',
    );
    // Served as text/plain, still a page.
    expect(foreignAnswer(answer(404, 'text/plain', '  <!DOCTYPE html><html>'))).toBe(
      'an HTML page (HTTP 404, text/plain)',
    );
    expect(foreignAnswer(answer(200, 'application/json', '{"major": "1'))).toBe(
      'a body that is not valid JSON (HTTP 200, application/json, 12 bytes)',
    );
    expect(foreignAnswer(answer(200, 'application/json', 'null'))).toBe(
      'JSON that is not an object (HTTP 200)',
    );
    expect(foreignAnswer(answer(200, 'application/json', '[1]'))).toBe(
      'JSON that is not an object (HTTP 200)',
    );
    expect(
      foreignAnswer(answer(302, undefined, '', { location: 'https://sso.example.com/login?state=s3cr3t#x' })),
    ).toBe('a redirect (302) to https://sso.example.com/login');
  });

  it('leaves what an API server (or a proxy in front of one) really sends alone', () => {
    const status = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 });
    expect(foreignAnswer(answer(200, 'application/json', '{"major":"1","minor":"36"}'))).toBeUndefined();
    expect(foreignAnswer(answer(404, 'application/json', status))).toBeUndefined();
    // The API server's own answer for an unknown non-resource path.
    expect(foreignAnswer(answer(404, 'text/plain; charset=utf-8', '404 page not found\n'))).toBeUndefined();
    // An empty success (DELETE of a collection) and a proxy's error page (5xx are retried or reported as such).
    expect(foreignAnswer(answer(200, undefined, ''))).toBeUndefined();
    expect(foreignAnswer(answer(502, 'text/html', '<html>Bad Gateway</html>'))).toBeUndefined();
  });
});
