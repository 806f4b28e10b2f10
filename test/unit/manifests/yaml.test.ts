import { beforeAll, describe, expect, test } from 'vitest';
import { ExitCode, InputError } from '../../../src/errors.js';
import {
  MAX_YAML_BYTES,
  parseManifestDocuments,
  parseManifests,
  parseYamlDocuments,
} from '../../../src/k8s/yaml.js';
import { thrown } from './helpers.js';

/** The failure as the operator sees it, with its typed place. */
function inputError(fn: () => unknown): InputError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

/** Runs `fn`, returning its error and how long it took. */
/**
 * "Quickly": each refusal takes a few ms on an idle machine; the bad implementations these tests guard against
 * (expanding aliases, building millions of tokens) take seconds to minutes. The bound leaves room for a machine
 * loaded by other work, so that the test fails only on the real defect.
 */
const QUICK_MS = 500;

function timed(fn: () => unknown): { error: InputError; ms: number } {
  const start = performance.now();
  const error = thrown(fn);
  const ms = performance.now() - start;
  expect(error).toBeInstanceOf(InputError);
  return { error: error as InputError, ms };
}

/** 9 levels of 9 aliases each: 9^9 = 387 million "lol"s once expanded. */
function billionLaughs(): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: lol', 'data:'];
  lines.push(`  a0: &a0 [${Array(9).fill('"lol"').join(', ')}]`);
  for (let i = 1; i <= 9; i++)
    lines.push(
      `  a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

describe('hostile YAML (failure-modes test 23)', () => {
  // Time limits are about the parser's work, not the JIT's first compile: parse one ordinary file first.
  beforeAll(() => {
    parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warm, labels: {a: "1"}}\ndata: {k: v}\n',
      'warm.yaml',
    );
    thrown(() => parseManifests('a: 1\na: 2\n', 'warm.yaml'));
  });

  // Warm the parser once, so the timings below measure the input and not module start-up.
  parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: warm\n', 'warm.yaml');

  test('a billion-laughs file is refused quickly, at the alias over the limit', () => {
    const { error, ms } = timed(() => parseManifests(billionLaughs(), 'laughs.yaml'));
    expect(error.message).toBe(
      'laughs.yaml:8: uses aliases (*name) more than 10 times: refused as a billion-laughs attack',
    );
    expect(error.exitCode).toBe(ExitCode.input);
    expect(ms).toBeLessThan(QUICK_MS);
  });

  test('a 10,000-deep [[[…]]] is refused quickly with an InputError, not a stack overflow', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const { error, ms } = timed(() => parseManifests(deep, 'deep.yaml'));
    expect(error.message).toBe('deep.yaml:1: nests collections deeper than 64 levels');
    expect(ms).toBeLessThan(QUICK_MS);
  });

  test('3 MiB of unclosed [ is refused without building millions of tokens', () => {
    const { error, ms } = timed(() => parseManifests('['.repeat(MAX_YAML_BYTES), 'brackets.yaml'));
    expect(error.message).toContain('nests collections deeper than 64 levels');
    expect(ms).toBeLessThan(200);
  });

  test('deep block nesting is refused at the line where it gets too deep', () => {
    const text = Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    const error = inputError(() => parseManifests(text, 'blocks.yaml'));
    expect(error.line).toBe(65);
  });

  test('compact nested sequences (- - - …) count as nesting too', () => {
    const error = inputError(() => parseManifests(`${'- '.repeat(100_000)}x\n`, 'dashes.yaml'));
    expect(error.message).toContain('deeper than 64 levels');
  });

  test('64 levels are fine', () => {
    const text = `${'['.repeat(64)}${']'.repeat(64)}`;
    expect(parseYamlDocuments(text, 'ok.yaml')[0]?.value).toBeInstanceOf(Array);
  });

  test('aliases cannot nest deeper than the text shows', () => {
    const inner = `${'['.repeat(40)}1${']'.repeat(40)}`;
    const text = `a: &x ${inner}\nb: ${'['.repeat(40)}*x${']'.repeat(40)}\n`;
    const error = inputError(() => parseYamlDocuments(text, 'alias-depth.yaml'));
    expect(error.message).toContain('deeper than 64 levels');
  });

  test('many cheap aliases are refused while lexing, before the rest of the file is parsed', () => {
    const text = `a: &a 1\n${Array.from({ length: 100_000 }, (_, i) => `b${i}: *a`).join('\n')}\n`;
    const { error, ms } = timed(() => parseYamlDocuments(text, 'aliases.yaml'));
    expect(error.line).toBe(12);
    expect(ms).toBeLessThan(QUICK_MS);
  });

  test('the alias limit counts per document', () => {
    const docOf = (n: number) => `a: &a 1\n${Array.from({ length: n }, (_, i) => `b${i}: *a`).join('\n')}\n`;
    expect(parseYamlDocuments(`${docOf(8)}---\n${docOf(8)}`, 'ok.yaml')).toHaveLength(2);
    expect(thrown(() => parseYamlDocuments(docOf(11), 'no.yaml'))).toBeInstanceOf(InputError);
  });

  test('aliases that expand exponentially are refused even when there are few of them', () => {
    // 2 aliases per level: 8 aliases, 2^4 = 16 copies
    const text = 'a0: &a0 [x]\na1: &a1 [*a0, *a0]\na2: &a2 [*a1, *a1]\na3: &a3 [*a2, *a2]\na4: [*a3, *a3]\n';
    const error = inputError(() => parseYamlDocuments(text, 'grow.yaml'));
    expect(error.message).toMatch(/^grow\.yaml:2: uses aliases \(\*name\) that expand too much/);
  });

  test('duplicate-key detection is linear: 5× the keys takes about 5× the time, not 25×', () => {
    // A ratio measured in one run (best of two each), so a loaded machine slows both sizes alike.
    const parseMs = (keys: number): number => {
      const text = Array.from({ length: keys }, (_, i) => `k${i}: v`).join('\n');
      let best = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 2; round++) {
        const start = performance.now();
        expect(Object.keys(parseYamlDocuments(text, 'wide.yaml')[0]?.value as object)).toHaveLength(keys);
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const small = parseMs(10_000);
    const large = parseMs(50_000);
    expect(large / small).toBeLessThan(12);
  });

  test('a file of 3 MiB + 1 byte is refused before parsing; exactly 3 MiB is read', () => {
    const header = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: "';
    const exact = `${header}${'x'.repeat(MAX_YAML_BYTES - header.length - 2)}"\n`;
    expect(Buffer.byteLength(exact)).toBe(3_145_728);
    const parseStart = performance.now();
    expect(parseManifests(exact, 'exact.yaml')).toHaveLength(1);
    const parseMs = performance.now() - parseStart;

    const over = Buffer.from(`${exact} `);
    expect(over.byteLength).toBe(3_145_729);
    const { error, ms } = timed(() => parseManifests(over, 'big.yaml'));
    expect(error.message).toBe('big.yaml: is 3,145,729 bytes, over the 3 MiB (3,145,728 bytes) limit');
    expect(error.hint).toMatch(/split the file/);
    // Refused before parsing: a small fraction of what parsing the same bytes takes, measured in the same run (a
    // ratio, so a loaded machine slows both alike).
    expect(ms).toBeLessThan(parseMs / 5);
  });

  test('the size limit counts UTF-8 bytes, not characters', () => {
    const text = `# ${'é'.repeat(MAX_YAML_BYTES / 2)}\n`; // 2 bytes each
    expect(inputError(() => parseManifests(text, 'accents.yaml')).message).toContain('over the');
  });

  test('duplicate keys are refused at the line of the second one', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    x: "1"\n    x: "2"\n';
    const { error, ms } = timed(() => parseManifests(text, 'dup.yaml'));
    expect(error.message).toBe('dup.yaml:7: invalid YAML: Map keys must be unique ("x" appears twice)');
    expect(error.file).toBe('dup.yaml');
    expect(error.line).toBe(7);
    expect(ms).toBeLessThan(QUICK_MS);
  });

  test.each([
    ['__proto__', 'metadata:\n  name: a\n  __proto__:\n    polluted: true\n', 5],
    ['quoted __proto__', 'metadata:\n  name: a\n  labels: {"__proto__": "x"}\n', 5],
    ['constructor', 'metadata:\n  name: a\nspec:\n  constructor: x\n', 6],
    ['prototype', 'metadata:\n  name: a\nspec: [{prototype: 1}]\n', 5],
  ])('the key %s is refused before any object is built', (_name, body, line) => {
    const text = `apiVersion: v1\nkind: ConfigMap\n${body}`;
    const error = inputError(() => parseManifests(text, 'proto.yaml'));
    expect(error.message).toMatch(/uses the key "(__proto__|constructor|prototype)"/);
    expect(error.line).toBe(line);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('binary garbage is refused as not UTF-8 text', () => {
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe,
    ]);
    const error = inputError(() => parseManifests(png, 'logo.yaml'));
    expect(error.message).toBe('logo.yaml:1: is not UTF-8 text (a binary file?)');
  });

  test('control characters in valid UTF-8 are refused with their line', () => {
    const error = inputError(() =>
      parseManifests(Buffer.from('apiVersion: v1\nkind: \x00\x01\x02\n'), 'nul.yaml'),
    );
    expect(error.message).toBe(
      'nul.yaml:2: contains the control character U+0000, which YAML does not allow (a binary file?)',
    );
  });

  test('random bytes never escape as anything but an InputError', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % 256;
    };
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: 64 + (i % 64) }, random));
      expect(thrown(() => parseManifests(bytes, 'noise.yaml'))).toBeInstanceOf(InputError);
    }
  });

  test('tags beyond the YAML 1.2 core schema are refused (no !!js, !!binary, !!set)', () => {
    for (const value of ['!!js/function "x"', '!!binary aGVsbG8=', '!!set {a}', '!custom x']) {
      const error = inputError(() => parseYamlDocuments(`a: ${value}\n`, 'tags.yaml'));
      expect(error.message).toMatch(/^tags\.yaml:1: invalid YAML: Unresolved tag/);
    }
  });

  test('merge keys are plain keys; YAML 1.1 booleans are booleans, as go-yaml v2 (kubectl) reads them', () => {
    const [doc] = parseYamlDocuments(
      '%YAML 1.1\n---\nbase: &b {x: 1}\nmerged: {<<: *b}\non: yes\nn: 010\n',
      'f',
    );
    expect(doc?.value).toEqual({ base: { x: 1 }, merged: { '<<': { x: 1 } }, on: true, n: 10 });
  });

  test('non-string mapping keys (collections, aliases) are refused; scalar keys become strings', () => {
    expect(inputError(() => parseYamlDocuments('? [a, b]\n: x\n', 'k.yaml')).message).toContain(
      'keys must be',
    );
    expect(parseYamlDocuments('80: http\ntrue: y\n', 'k.yaml')[0]?.value).toEqual({ 80: 'http', true: true });
  });

  test('syntax errors name the file and line', () => {
    const error = inputError(() =>
      parseManifests('apiVersion: v1\nkind: Pod\nmetadata: {name: [\n', 'broken.yaml'),
    );
    expect(error.file).toBe('broken.yaml');
    expect(error.line).toBeGreaterThanOrEqual(3);
  });

  test('a few aliases (within the limit) are expanded into independent values', () => {
    const [doc] = parseYamlDocuments('a: &x {k: v}\nb: *x\n', 'ok.yaml');
    const value = doc?.value as { a: object; b: object };
    expect(value.b).toEqual({ k: 'v' });
    expect(value.b).not.toBe(value.a);
  });
});

describe('parseYamlDocuments', () => {
  test('reports each document with its index, line and lines of paths', () => {
    const text = '# head\na: 1\n---\n---\nb:\n  c: [x, y]\n';
    const docs = parseYamlDocuments(text, 'f.yaml');
    expect(docs.map((d) => [d.index, d.value, d.line])).toEqual([
      [0, { a: 1 }, 2],
      [1, null, 3],
      [2, { b: { c: ['x', true] } }, 5],
    ]);
    expect(docs[2]?.lineOf(['b', 'c', 1])).toBe(6);
    expect(docs[2]?.lineOf(['b', 'missing'])).toBe(6);
    expect(docs[2]?.lineOf([])).toBe(5);
  });

  test('document ranges tile the text: separators and trailing comments stay with their document', () => {
    const text = 'a: 1 # one\n# about b\n---\nb: 2\n';
    const [a, b] = parseYamlDocuments(text, 'f.yaml');
    expect(text.slice(a!.range.start, a!.range.contentEnd)).toBe('a: 1 # one\n');
    expect(text.slice(a!.range.contentEnd, a!.range.end)).toBe('# about b\n');
    expect(text.slice(b!.range.start, b!.range.contentStart)).toBe('---\n');
    expect(b!.range.end).toBe(text.length);
  });

  test('JSON is YAML', () => {
    expect(parseYamlDocuments('{"a": [1, {"b": null}]}', 'f.json')[0]?.value).toEqual({
      a: [1, { b: null }],
    });
  });

  test('a byte-order mark is accepted', () => {
    expect(parseYamlDocuments(Buffer.from('\uFEFFa: 1\n'), 'bom.yaml')[0]?.value).toEqual({ a: 1 });
  });
});

describe('parseManifests', () => {
  test('reads multi-document files, skipping empty documents', () => {
    const text = [
      '---',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a',
      '---',
      '# nothing here',
      '---',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: x',
      '...',
      '',
    ].join('\n');
    expect(parseManifests(text, 'multi.yaml').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/a',
      'Deployment/b',
    ]);
  });

  test('expands kind: List into its items', () => {
    const text = `apiVersion: v1
kind: List
metadata: {}
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
  - {apiVersion: v1, kind: Secret, metadata: {name: b}}
`;
    expect(parseManifests(text, 'list.yaml').map((o) => o.kind)).toEqual(['ConfigMap', 'Secret']);
  });

  test('expands typed lists (PodList) and fills in the kind their items omit', () => {
    const text = `apiVersion: v1
kind: PodList
metadata: {resourceVersion: "12"}
items:
  - metadata: {name: p1, namespace: default}
  - metadata: {name: p2, namespace: default}
`;
    const objects = parseManifests(text, 'pods.yaml');
    expect(objects.map((o) => [o.apiVersion, o.kind, o.metadata.name])).toEqual([
      ['v1', 'Pod', 'p1'],
      ['v1', 'Pod', 'p2'],
    ]);
  });

  test('a kind ending in List that is a named object is not a list', () => {
    const text = 'apiVersion: example.com/v1\nkind: AllowList\nmetadata:\n  name: a\nitems: [x]\n';
    expect(parseManifests(text, 'f.yaml').map((o) => o.kind)).toEqual(['AllowList']);
  });

  test('keeps where each object came from', () => {
    const text =
      'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n';
    const [doc] = parseManifestDocuments(text, 'f.yaml');
    expect(doc?.list).toBe(true);
    expect(doc?.objects[0]).toMatchObject({ item: 0, line: 4 });
  });

  test.each([
    [
      'a mapping without kind',
      'apiVersion: v1\nmetadata:\n  name: a\n',
      'not a Kubernetes object: missing kind',
      1,
    ],
    ['no apiVersion', 'kind: Pod\nmetadata:\n  name: a\n', 'not a Kubernetes object: missing apiVersion', 1],
    ['a string', 'hello world\n', 'not a Kubernetes object: the document is a string, not a mapping', 1],
    ['a list', '- a\n- b\n', 'not a Kubernetes object: the document is a list, not a mapping', 1],
    [
      'kind not a string',
      'apiVersion: v1\nkind: [Pod]\nmetadata:\n  name: a\n',
      'kind must be a non-empty string',
      2,
    ],
    ['no metadata', 'apiVersion: v1\nkind: Pod\n', 'Pod: missing metadata', 1],
    ['no name', 'apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: x\n', 'Pod: missing metadata.name', 4],
    [
      'generateName',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: web-\n',
      'Pod: metadata.generateName is not supported offline',
      4,
    ],
    [
      'a number as name',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: 42\n',
      'Pod: metadata.name must be a non-empty string',
      4,
    ],
    [
      'an unquoted boolean label',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    on: true\n',
      'Pod a: metadata.labels.on must be a string',
      6,
    ],
  ])('refuses %s, naming the file and line', (_what, body, message, line) => {
    const text = `# leading comment\n${body}`;
    const error = inputError(() => parseManifests(text, 'dir/bad.yaml'));
    expect(error.message).toBe(`dir/bad.yaml:${line + 1}: ${message}`);
    expect(error.line).toBe(line + 1);
    expect(error.hint).toBeTruthy();
  });

  test('a bad List item names its position', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {}\n';
    const error = inputError(() => parseManifests(text, 'l.yaml'));
    expect(error.message).toBe('l.yaml:6: items.0: Pod: missing metadata.name');
  });
});

describe('YAML 1.1 booleans, as kubectl reads them', () => {
  test('reads yes/on/True as true and keeps quoted strings', () => {
    const [pod] = parseManifests(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {quoted: "yes"}}\nspec: {hostNetwork: yes, hostPID: On, hostIPC: n, containers: []}\n',
      'pod.yaml',
    );
    expect(pod?.spec).toMatchObject({ hostNetwork: true, hostPID: true, hostIPC: false });
    expect(pod?.metadata.labels?.quoted).toBe('yes');
  });
});
