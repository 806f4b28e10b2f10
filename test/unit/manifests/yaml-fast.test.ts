/**
 * The YAML fast path (src/k8s/yaml-fast.ts) against the full loader: on every YAML file of the repository and on
 * edge cases, the same documents, values, lines and `lineOf` of every path, the same ranges, the same errors.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseYamlDocuments, type YamlDocument } from '../../../src/k8s/yaml.js';
import { parseFast } from '../../../src/k8s/yaml-fast.js';
import { repoRoot } from '../../support/cli.js';

/** Every path to a node of `value` (keys and indexes from the root), plus a few that do not exist. */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      pathsOf(v, [...prefix, i], out);
    });
    out.push([...prefix, value.length], [...prefix, 'x']);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
    out.push([...prefix, 'no-such-key'], [...prefix, 0]);
  }
  return out;
}

type Outcome =
  | { error: string; line: number | undefined }
  | {
      docs: {
        index: number;
        value: unknown;
        line: number;
        range: YamlDocument['range'];
        lines: (number | undefined)[];
      }[];
    };

function outcome(text: string, fastPath: boolean): Outcome {
  let docs: YamlDocument[];
  try {
    docs = parseYamlDocuments(text, 'f.yaml', { fastPath });
  } catch (error) {
    const e = error as Error & { line?: number };
    return { error: e.message, line: e.line };
  }
  return {
    docs: docs.map((d) => ({
      index: d.index,
      value: d.value,
      line: d.line,
      range: d.range,
      lines: pathsOf(d.value).map((p) => d.lineOf(p)),
    })),
  };
}

function expectSame(text: string): void {
  expect(outcome(text, true)).toStrictEqual(outcome(text, false));
}

const EDGE_CASES: Record<string, string> = {
  'plain mapping': 'a: 1\nb: two\n',
  'comments and document markers': '# head\n---\na: 1 # c\n# mid\n---\n---\nb: [x, "y", \'z\']\n---\n',
  'content before the first marker': 'a: 1\n---\nb: 2',
  'comment-only file': '# nothing\n\n',
  'empty text': '',
  'only a marker': '---\n',
  'compact sequences': 'a:\n- 1\n- b: 2\n  c: 3\n-\n  d: 4\n- \n- [ ]\nx: y\n',
  'nested sequences': 'a:\n  -\n    - 1\n  - - 2\n',
  'empty values': 'a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: {}\ng: []\n- x\n',
  'empty values only': 'a:\nb:\n  # comment\nc: 1\n',
  'booleans 1.1': 'a: yes\nb: No\nc: ON\nd: off\ne: y\nf: N\ng: True\nh: FALSE\ni: yES\n',
  numbers:
    'a: 1\nb: -2\nc: +3\nd: 007\ne: 0x1F\nf: 0o17\ng: 1.5\nh: .5\ni: 1e3\nj: .inf\nk: .NaN\nl: 1_000\nm: 12345678901234567890\nn: 100m\no: 1Gi\np: 10.0.0.0/8\n',
  'special keys': 'true: 1\nnull: 2\n1: 3\ny: 4\n0x10: 5\na.b/c-d: 6\n',
  'quoted scalars': `a: "x y"\nb: 'it''s'\nc: "with # hash"\nd: ''\ne: ""\nf: "a\\nb"\ng: "x" # c\nh: 'a' 'b'\ni: "a"b\n`,
  'plain scalars with indicators':
    'a: b#c\nb: b # c\nc: http://x:80/y\nd: --flag=[x]:1\ne: -x\nf: :x\ng: ?x\nh: a: b\ni: a:\n',
  'flow sequences':
    'a: ["sh", "-c", "echo a, b"]\nb: [a, b , c]\nc: [--x]\nd: [a: 1]\ne: [[1]]\nf: [1, 2,]\ng: ["a\\"b"]\nh: [x] # c\ni: [y]z\n',
  'flow mappings': 'a: {}\nb: { }\nc: {x: 1}\n',
  literals: 'a: |\n  x\n\n  y\n\n\nb: |-\n   z\n    w\n\nc: |\n    only\nd: 1\ne: |  # c\n  q\n',
  'literal edge cases':
    'a: |\n\n  x\nb: |\n      \n  y\nc: |+\n  z\n\nd: >\n  f\n  g\ne: |2\n   h\nf: |\ng: 1\n',
  'literal in a sequence':
    'a:\n- |\n  x\n- |-\n  y\n- name: n\n  script: |\n    echo 1\n\n    echo 2\n  after: 1\n',
  'multi-line plain scalar': 'a: b\n  c\nd: 1\n',
  'multi-line quoted scalar': 'a: "b\n  c"\n',
  anchors: 'a: &x 1\nb: *x\n',
  tags: 'a: !!str 1\nb: !foo x\n',
  'merge keys': 'a: &x {b: 1}\nc:\n  <<: *x\n',
  directives: '%YAML 1.2\n---\na: 1\n',
  'document end': 'a: 1\n...\n',
  tabs: 'a:\t1\n',
  'CRLF line ends': 'a: 1\r\nb: 2\r\n',
  BOM: '\uFEFFa: 1\n',
  'duplicate keys': 'a: 1\nb: 2\na: 3\n',
  'forbidden keys': 'a:\n  __proto__: 1\n',
  'constructor key': 'constructor: 1\n',
  'bad indentation': 'a:\n    b: 1\n  c: 2\n',
  'more indented key': 'a: 1\n  b: 2\n',
  'sequence under a scalar': 'a: 1\n- b\n',
  'root sequence': '- a\n- b: 1\n',
  'root scalar': 'just text\n',
  'key with spaces before the colon': 'a : 1\n',
  'quoted keys': '"a": 1\n',
  'long key': `${'k'.repeat(1100)}: 1\n`,
  'marker with content': '--- a: 1\n',
  'deep nesting': `${Array.from({ length: 70 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n')} 1\n`,
  'nesting at the limit': `${Array.from({ length: 64 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n')} 1\n`,
  'nesting over the limit by a flow sequence': `${Array.from({ length: 64 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n')} [1]\n`,
  'unicode spaces are content': 'a: x\u00a0\nb: \u3000y\u3000 # c\nc: [\u00a0z]\nd: |\n  \u00a0w\n',
  'a unicode space before a key': '\u00a0e: 1\n',
  'unicode line breaks': 'a: x\u2028y\nb: x\u0085y\nc: x\u2029\n',
  'non-ASCII keys and values': 'ключ: значение\nk: 値 # コメント\n',
  'list kind in block style':
    'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n-\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n  data:\n    k:\n',
  'list kind':
    'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n-\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n',
};

describe('the YAML fast path', () => {
  test.each(Object.entries(EDGE_CASES))('%s: the same outcome as the full loader', (_name, text) => {
    expectSame(text);
  });

  test('every YAML file of the repository: the same outcome as the full loader', () => {
    const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: repoRoot, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(files.length).toBeGreaterThan(50);
    let fast = 0;
    for (const file of files) {
      const text = readFileSync(join(repoRoot, file), 'utf8');
      try {
        expectSame(text);
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}`);
      }
      if (parseFast(text, 64)) fast++;
    }
    // The example manifests are what the fast path is for: it must take most of them.
    expect(fast).toBeGreaterThan(files.length / 2);
  });

  test('the example manifests all take the fast path', () => {
    const files = execFileSync('git', ['ls-files', 'examples/legacy-cluster/*.yaml'], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    expect(files.length).toBeGreaterThan(20);
    const slow = files.filter((f) => !parseFast(readFileSync(join(repoRoot, f), 'utf8'), 64));
    expect(slow).toEqual([]);
  });

  test('leaves what it does not handle to the full loader', () => {
    for (const name of ['anchors', 'tags', 'tabs', 'duplicate keys', 'forbidden keys', 'deep nesting'])
      expect(parseFast(EDGE_CASES[name] as string, 64), name).toBeUndefined();
    // …and takes what it handles (else the comparisons above would compare the full loader with itself).
    for (const name of [
      'plain mapping',
      'compact sequences',
      'literals',
      'unicode spaces are content',
      'literal in a sequence',
      'list kind in block style',
    ])
      expect(parseFast(EDGE_CASES[name] as string, 64), name).toBeDefined();
  });
});
