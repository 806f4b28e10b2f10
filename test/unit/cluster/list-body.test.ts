import { describe, expect, test } from 'vitest';
import { splitList } from '../../../src/cluster/list-body.js';

const buf = (text: string) => Buffer.from(text, 'utf8');

/** What JSON.parse gives: the envelope without items, and the items. */
function expected(text: string) {
  const whole = JSON.parse(text) as { items: unknown[] };
  return { envelope: { ...whole, items: [] }, items: whole.items };
}

function expectSplitLikeParse(text: string) {
  const split = splitList(buf(text));
  expect(split).toBeDefined();
  const want = expected(text);
  expect(split?.envelope).toEqual(want.envelope);
  expect(split?.items.length).toBe(want.items.length);
  expect([...(split?.items ?? [])]).toEqual(want.items);
}

/** A small seeded generator (mulberry32), so a failure names its seed. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY = [
  '',
  'items',
  '"items":[',
  '\\',
  '\\"',
  '}]',
  '{[',
  'ü',
  '日本',
  '😀',
  '\n\t',
  'a"b',
  '\\\\"',
  ' , ',
];

function value(r: () => number, depth: number): unknown {
  const k = r();
  if (depth > 3 || k < 0.3) {
    const s = r();
    if (s < 0.4) return TRICKY[Math.floor(r() * TRICKY.length)] + String(Math.floor(r() * 100));
    if (s < 0.6) return Math.floor(r() * 1e6) - 5e5;
    if (s < 0.7) return r() * 10;
    if (s < 0.8) return r() < 0.5;
    return null;
  }
  if (k < 0.6) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--)
    o[TRICKY[Math.floor(r() * TRICKY.length)] + String(i)] = value(r, depth + 1);
  return o;
}

describe('splitList: a list body read item by item', () => {
  test('an API server page: the envelope (with the continue token) and each item, as JSON.parse gives them', () => {
    const page = {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '10890', continue: 'eyJ2Ijo', remainingItemCount: 9500 },
      items: Array.from({ length: 5 }, (_, i) => ({
        metadata: { name: `p-${i}`, namespace: 'ns', labels: { app: 'a' }, annotations: { note: 'x"}]{[' } },
        spec: { containers: [{ name: 'c', image: 'i', args: ['--items=[1]', 'ü'] }], volumes: [] },
        status: { phase: 'Running' },
      })),
    };
    expectSplitLikeParse(JSON.stringify(page));
    const split = splitList(buf(JSON.stringify(page)));
    expect(split?.envelope.metadata).toMatchObject({ continue: 'eyJ2Ijo' });
  });

  test('whitespace and indentation (a proxy may pretty-print), an empty list, a key "items" deeper down', () => {
    expectSplitLikeParse(
      JSON.stringify({ kind: 'L', metadata: { items: [1, 2] }, items: [{ a: 1 }, { items: [{}] }] }, null, 2),
    );
    expectSplitLikeParse('\n {"kind" : "items" , "items" : [ ] , "metadata" : {}}\n');
    expectSplitLikeParse('{"items":[{"a":"\\\\"},{"b":"\\\\\\""}],"after":{"items":[]}}');
  });

  test('random lists with strings that look like structure: every split matches JSON.parse', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const list = {
        kind: value(r, 2),
        metadata: value(r, 1),
        items: Array.from({ length: Math.floor(r() * 6) }, () => {
          const v = value(r, 0);
          return v && typeof v === 'object' && !Array.isArray(v) ? v : { v };
        }),
        tail: value(r, 1),
      };
      const text = JSON.stringify(list, null, seed % 3 === 0 ? 1 : undefined);
      try {
        expectSplitLikeParse(text);
      } catch (error) {
        throw new Error(`seed ${seed}: ${(error as Error).message}\n${text}`);
      }
    }
  });

  test('bodies not shaped like a list of objects are not split (the caller parses them whole)', () => {
    for (const text of [
      '[{"a":1}]',
      '"items"',
      '{"kind":"Status","status":"Failure"}',
      '{"items":null}',
      '{"items":{"a":1}}',
      '{"items":[1,2]}',
      '{"items":[{"a":1},null]}',
      '{"items":[{"a":1}],"items":[{"b":2}]}',
      '{"\\u0069tems":[{"a":1}]}',
      '{"items":[{"a":1}]',
      '{"items":[{"a":"1}]}',
      '{"items":[{"a":1}]} trailing',
      '{"items":[{"a":1}]}}',
      '{"kind":tru,"items":[{"a":1}]}',
      '',
      '   ',
    ]) {
      expect(splitList(buf(text)), text).toBeUndefined();
    }
  });

  test('an item that is balanced but not valid JSON throws when reached, as the caller words it', () => {
    const split = splitList(buf('{"items":[{"a":1},{"b":tru},{"c":3}]}'));
    expect(split?.items.length).toBe(3);
    const items = split?.items.onInvalid((index, error) => new Error(`item ${index + 1}: ${error.name}`));
    const seen: unknown[] = [];
    expect(() => {
      for (const item of items ?? []) seen.push(item);
    }).toThrow('item 2: SyntaxError');
    expect(seen).toEqual([{ a: 1 }]);
  });

  test('map applies to each item as it is reached; the items can be read once', () => {
    const split = splitList(buf('{"items":[{"a":1},{"a":2}]}'));
    const mapped = split?.items.map((item) => ({ ...(item as object), kind: 'K' }));
    expect([...(mapped ?? [])]).toEqual([
      { a: 1, kind: 'K' },
      { a: 2, kind: 'K' },
    ]);
    expect(mapped?.length).toBe(2);
    // A second pass (through this or any other view of the page) is a programming error, not an empty page.
    expect(() => [...(mapped ?? [])]).toThrow('can be read once');
    expect(() => [...(split?.items ?? [])]).toThrow('can be read once');
  });

  test("a large page's memory is given back once its items are read, or when the reader stops early", () => {
    const page = (n: number) => {
      const text = JSON.stringify({
        kind: 'L',
        items: Array.from({ length: n }, (_, i) => ({ i, pad: 'x'.repeat(1000) })),
      });
      // As the transport receives a large body: its own buffer, not a slice of Node's pool.
      const body = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
      body.write(text);
      return body;
    };
    const whole = page(400);
    const items = splitList(whole)?.items;
    expect(whole.byteLength).toBeGreaterThan(256 * 1024);
    let count = 0;
    for (const item of items ?? []) {
      expect((item as { i: number }).i).toBe(count++);
      expect(whole.byteLength).toBeGreaterThan(0); // still there while the page is read
    }
    expect(count).toBe(400);
    expect(whole.byteLength).toBe(0); // detached: the bytes are released

    const early = page(400);
    for (const item of splitList(early)?.items ?? []) if ((item as { i: number }).i === 3) break;
    expect(early.byteLength).toBe(0);

    // A small page (under 256 KB) is left to the GC.
    const small = Buffer.from('{"items":[{"a":1}]}');
    expect([...(splitList(small)?.items ?? [])]).toEqual([{ a: 1 }]);
    expect(small.byteLength).toBeGreaterThan(0);
  });

  test('withoutFieldsV1: each fieldsV1 object is read as {}, everything else as JSON.parse gives it', () => {
    /** The reference: every `fieldsV1` key whose value is an object, at any depth, with `{}` instead. */
    const strip = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(strip)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v).map(([k, x]) => [
                k,
                k === 'fieldsV1' && x && typeof x === 'object' && !Array.isArray(x) ? {} : strip(x),
              ]),
            )
          : v;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const entry = () => ({
        manager: TRICKY[Math.floor(r() * TRICKY.length)],
        operation: 'Update',
        // Field sets whose keys look like structure, a nested key "fieldsV1", and a value that is not an object.
        ...(r() < 0.85
          ? { fieldsV1: { 'f:metadata': value(r, 1), '"fieldsV1":{': { fieldsV1: value(r, 2) } } }
          : {}),
        ...(r() < 0.1 ? { fieldsV1: TRICKY[Math.floor(r() * TRICKY.length)] } : {}),
      });
      const items = Array.from({ length: Math.floor(r() * 5) }, () => ({
        metadata: {
          name: String(value(r, 3)),
          annotations: { note: '"fieldsV1":{"x":{}}' },
          ...(r() < 0.8 ? { managedFields: Array.from({ length: 1 + Math.floor(r() * 3) }, entry) } : {}),
        },
        spec: value(r, 1),
      }));
      const text = JSON.stringify({ kind: 'PodList', metadata: {}, items });
      try {
        const got = [...(splitList(buf(text))?.items.withoutFieldsV1() ?? [])];
        expect(got).toEqual(strip(JSON.parse(text).items));
      } catch (error) {
        throw new Error(`seed ${seed}: ${(error as Error).message}\n${text}`);
      }
    }
  });

  test('withoutFieldsV1 reads only the compact form, keeps map and onInvalid, and still reads each item once', () => {
    const item = { metadata: { managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': {} } }] } };
    // Indented (not as the API server writes it): parsed as it is.
    const pretty = JSON.stringify({ items: [item] }, null, 1);
    expect([...(splitList(buf(pretty))?.items.withoutFieldsV1() ?? [])]).toEqual([item]);
    const compact = splitList(buf(JSON.stringify({ items: [item] }).replace(/\]\}$/, ',{"b":tru}]}')));
    const view = compact?.items
      .map((x) => ({ ...(x as object), kind: 'K' }))
      .onInvalid((index, error) => new Error(`item ${index + 1}: ${error.name}`))
      .withoutFieldsV1();
    const seen: unknown[] = [];
    expect(() => {
      for (const x of view ?? []) seen.push(x);
    }).toThrow('item 2: SyntaxError');
    expect(seen).toEqual([{ metadata: { managedFields: [{ manager: 'm', fieldsV1: {} }] }, kind: 'K' }]);
    expect(() => [...(compact?.items ?? [])]).toThrow('can be read once');
  });
});
