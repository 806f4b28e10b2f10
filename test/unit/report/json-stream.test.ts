import { describe, expect, test } from 'vitest';
import { assess } from '../../../src/policy/assess.js';
import { renderJson, renderJsonChunks } from '../../../src/report/json.js';
import { container, NOW, ns, restrictedSpec, snapshot, workload } from '../../fixtures/snapshots/builder.js';
import { sampleExceptions, sampleSnapshot } from '../../fixtures/snapshots/sample.js';

describe('streamed JSON report', () => {
  test('the chunks are byte-for-byte the one-string rendering', () => {
    const a = assess(sampleSnapshot(), { now: NOW, exceptions: sampleExceptions() });
    const chunks = [...renderJsonChunks(a, { timestamps: false })];
    expect(chunks.join('')).toBe(renderJson(a, { timestamps: false }));
    expect(() => JSON.parse(chunks.join(''))).not.toThrow();
  });

  test('a big report: many batches of items and ~64 KB chunks, still byte-for-byte the one-string rendering', () => {
    // 700 workloads (3 batches of 256 with a partial last one) with several findings each, names that JSON must
    // escape (quotes, backslash, newline, non-ASCII), so a cut one character off would show.
    const workloads = Array.from({ length: 700 }, (_, i) =>
      workload(
        'Deployment',
        `ns-${i % 7}`,
        `app-${String(i).padStart(4, '0')}-"q"\\\n-ü`,
        restrictedSpec({
          hostNetwork: i % 2 === 0,
          containers: [container('app', { securityContext: { privileged: i % 3 === 0 } })],
        }),
        { pods: 1 },
      ),
    );
    const a = assess(
      snapshot({ namespaces: Array.from({ length: 7 }, (_, i) => ns(`ns-${i}`)), workloads }),
      { now: NOW },
    );
    expect(a.findings.length).toBeGreaterThan(2 * 256);
    const chunks = [...renderJsonChunks(a, { timestamps: false })];
    const whole = renderJson(a, { timestamps: false });
    expect(chunks.join('')).toBe(whole);
    // Few, large chunks (one write each): every one but the last at least 64 KB.
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(whole.length / (64 * 1024)));
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeGreaterThanOrEqual(64 * 1024);
  });
});
