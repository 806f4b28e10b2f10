import { describe, expect, test } from 'vitest';
import { assess } from '../../../src/policy/assess.js';
import { renderJson, renderJsonChunks } from '../../../src/report/json.js';
import { NOW } from '../../fixtures/snapshots/builder.js';
import { sampleExceptions, sampleSnapshot } from '../../fixtures/snapshots/sample.js';

describe('streamed JSON report', () => {
  test('the chunks are byte-for-byte the one-string rendering', () => {
    const a = assess(sampleSnapshot(), { now: NOW, exceptions: sampleExceptions() });
    const chunks = [...renderJsonChunks(a, { timestamps: false })];
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.join('')).toBe(renderJson(a, { timestamps: false }));
    expect(() => JSON.parse(chunks.join(''))).not.toThrow();
  });
});
