/**
 * The remediated copy edits manifests in place: a pull request with it reads as exactly the security fix. The
 * corpus (test/fixtures/manifests/gitops) has comments (own-line and inline), blank lines, quoting, flow style,
 * anchors and aliases, multi-document files with `---` comments and `...`, a List; CRLF copies are made here.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { diffLines } from 'diff';
import { describe, expect, test } from 'vitest';
import { type ManifestChange, toYaml, writeRemediatedCopy } from '../../../src/cluster/manifest-writer.js';
import { ManifestSource } from '../../../src/cluster/manifests.js';
import { mergeApply } from '../../../src/engine/fields.js';
import type { KubeObject, ObjectRef } from '../../../src/k8s/types.js';
import { parseYamlNodes } from '../../../src/k8s/yaml.js';
import { YamlTextEditor } from '../../../src/k8s/yaml-edit.js';
import { workloadConfig } from '../../../steps/kit/workloads.js';
import { fixtureCopy, tempDir, tree } from './helpers.js';

const SHOP = 'shop';
const ref = (apiVersion: string, kind: string, name: string, namespace?: string): ObjectRef => ({
  apiVersion,
  kind,
  name,
  ...(namespace ? { namespace } : {}),
});
const STOREFRONT = ref('apps/v1', 'Deployment', 'storefront', SHOP);
const AGENT = ref('apps/v1', 'DaemonSet', 'agent', SHOP);
const DB = ref('apps/v1', 'StatefulSet', 'db', SHOP);
const MIGRATE = ref('batch/v1', 'Job', 'migrate', SHOP);
const NIGHTLY = ref('batch/v1', 'CronJob', 'nightly', SHOP);
const NAMESPACE = ref('v1', 'Namespace', SHOP);

/** The restricted fix psa-migrate proposes, as the apply configuration of one workload. */
function restrictedFix(target: ObjectRef, containers: string[]): KubeObject {
  return workloadConfig(target, target.kind as 'Deployment', {
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: containers.map((name) => ({
        name,
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      })),
    },
  });
}

async function changed(source: ManifestSource, target: ObjectRef, overlay: unknown): Promise<ManifestChange> {
  const object = (await source.get(target)).value;
  if (!object) throw new Error(`no ${target.name}`);
  return { ref: target, object: mergeApply(structuredClone(object), overlay) as KubeObject };
}

/** The corpus's fixes: workloads get the restricted fix, the namespace its Pod Security labels. */
async function corpusChanges(source: ManifestSource): Promise<ManifestChange[]> {
  return [
    await changed(source, STOREFRONT, restrictedFix(STOREFRONT, ['app', 'logs'])),
    await changed(source, AGENT, restrictedFix(AGENT, ['agent'])),
    await changed(source, DB, restrictedFix(DB, ['db'])),
    await changed(source, MIGRATE, restrictedFix(MIGRATE, ['migrate'])),
    await changed(source, NIGHTLY, {
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                containers: [{ name: 'report', securityContext: { allowPrivilegeEscalation: false } }],
              },
            },
          },
        },
      },
    }),
    await changed(source, NAMESPACE, {
      metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    }),
  ];
}

/** Lines removed from and added to `before` (line ends kept), by a line diff. */
function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  for (const part of diffLines(before, after)) {
    const lines = part.value.split(/(?<=\n)/).filter((l) => l !== '');
    if (part.added) added.push(...lines);
    else if (part.removed) removed.push(...lines);
  }
  return { removed, added };
}

async function objectsOf(dir: string): Promise<unknown[]> {
  const source = await ManifestSource.load(dir);
  const out: unknown[] = [];
  for (const file of source.layout().files)
    for (const doc of file.documents)
      for (const entry of doc.entries) out.push((await source.get(entry.ref)).value);
  return out;
}

async function write(dir: string, options: { reserialize?: boolean } = {}): Promise<string> {
  const source = await ManifestSource.load(dir);
  const out = path.join(await tempDir(), 'hardened');
  await writeRemediatedCopy(source, out, await corpusChanges(source), options);
  return out;
}

const read = (dir: string, rel: string) => fs.readFile(path.join(dir, rel), 'utf8');

/** What the fix adds, per file, exactly (indentation included): nothing else is added, nothing removed. */
const ADDED: Record<string, string[]> = {
  'comments.yaml': [
    '        securityContext:',
    '          allowPrivilegeEscalation: false',
    '          capabilities:',
    '            drop:',
    '            - ALL',
    // the sidecar's securityContext is joined, after its own comment line
    '          allowPrivilegeEscalation: false',
    '          capabilities:',
    '            drop:',
    '            - ALL',
    '      securityContext:',
    '        runAsNonRoot: true',
    '        seccompProfile:',
    '          type: RuntimeDefault',
    '  labels:',
    '    pod-security.kubernetes.io/enforce: restricted',
  ],
  'anchors.yaml': [
    '          securityContext:',
    '            allowPrivilegeEscalation: false',
    '            capabilities:',
    '              drop:',
    '                - ALL',
    '      securityContext:',
    '        runAsNonRoot: true',
    '        seccompProfile:',
    '          type: RuntimeDefault',
  ],
  'multi.yaml': [
    '          securityContext:',
    '            allowPrivilegeEscalation: false',
    '            capabilities:',
    '              drop:',
    '                - ALL',
    '      securityContext:',
    '        runAsNonRoot: true',
    '        seccompProfile:',
    '          type: RuntimeDefault',
    '              securityContext:',
    '                allowPrivilegeEscalation: false',
  ],
};

describe('remediated copies are minimal edits', () => {
  test('block files: the fix is the only addition; every original line stays, comments and blank lines included', async () => {
    // Given the corpus
    const dir = await fixtureCopy('gitops');

    // When the fixes are written
    const out = await write(dir);

    // Then for each block-style file, the line diff holds exactly the fix's lines and removes nothing
    for (const [rel, added] of Object.entries(ADDED)) {
      const before = await read(dir, rel);
      const after = await read(out, rel);
      const diff = lineDiff(before, after);
      expect(diff.removed, rel).toEqual([]);
      expect(
        diff.added.map((l) => l.replace(/\n$/, '')),
        rel,
      ).toEqual(added);
    }
  });

  test('flow style stays flow: keys join their mapping, items their sequence, the comment stays', async () => {
    const dir = await fixtureCopy('gitops');
    const out = await write(dir);
    const diff = lineDiff(await read(dir, 'flow.yaml'), await read(out, 'flow.yaml'));
    expect(diff.removed).toEqual([
      '      securityContext: {runAsUser: 1000}   # flow style kept\n',
      '      containers: [{name: agent, image: "registry.example/agent:2.1", args: [--verbose, --port=9100]}]\n',
    ]);
    expect(diff.added).toEqual([
      '      securityContext: {runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: RuntimeDefault }}   # flow style kept\n',
      '      containers: [{name: agent, image: "registry.example/agent:2.1", args: [--verbose, --port=9100], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ ALL ] } }}]\n',
    ]);
  });

  test('the copy holds the same objects as a re-serialized copy (the semantics do not change)', async () => {
    const dir = await fixtureCopy('gitops');
    const minimal = await write(dir);
    const reserialized = await write(dir, { reserialize: true });
    expect(await objectsOf(minimal)).toEqual(await objectsOf(reserialized));
    // And the re-serialized copy is indeed another text (the comparison is not of one thing with itself)
    expect(await read(minimal, 'comments.yaml')).not.toBe(await read(reserialized, 'comments.yaml'));
  });

  test('CRLF files keep CRLF on every line, the added ones too', async () => {
    const source = await fixtureCopy('gitops');
    const files: Record<string, string> = {};
    for (const rel of ['comments.yaml', 'multi.yaml', 'anchors.yaml', 'flow.yaml'])
      files[rel] = (await read(source, rel)).replaceAll('\n', '\r\n');
    const dir = await tree(files);
    const out = await write(dir);
    for (const rel of Object.keys(files)) {
      const before = files[rel] ?? '';
      const after = await read(out, rel);
      expect(after.replaceAll('\r\n', ''), rel).not.toContain('\n');
      // The same edit as with LF line ends
      const lf = await read(await write(await fixtureCopy('gitops')), rel);
      expect(after.replaceAll('\r\n', '\n'), rel).toBe(lf);
      expect(lineDiff(before, after).removed.length, rel).toBeLessThanOrEqual(2);
    }
    expect(await objectsOf(out)).toEqual(await objectsOf(await write(dir, { reserialize: true })));
  });

  test('a changed scalar keeps its quotes and its comment; only its line changes', async () => {
    const dir = await fixtureCopy('gitops');
    const source = await ManifestSource.load(dir);
    const digest = `registry.example/storefront:1.4.2@sha256:${'a'.repeat(64)}`;
    const change = await changed(source, STOREFRONT, {
      metadata: { labels: { team: 'shop' } },
      spec: { replicas: 4, template: { spec: { containers: [{ name: 'app', image: digest }] } } },
    });
    const out = path.join(await tempDir(), 'hardened');
    await writeRemediatedCopy(source, out, [change]);
    const diff = lineDiff(await read(dir, 'comments.yaml'), await read(out, 'comments.yaml'));
    expect(diff.removed).toEqual([
      `    "team": 'web'    # quoted on purpose\n`,
      '  replicas: 3 # three zones\n',
      '        image: "registry.example/storefront:1.4.2"   # pinned by release\n',
    ]);
    expect(diff.added).toEqual([
      `    "team": 'shop'    # quoted on purpose\n`,
      '  replicas: 4 # three zones\n',
      `        image: "${digest}"   # pinned by release\n`,
    ]);
  });

  test('a removed key or item takes only its own lines', async () => {
    const dir = await fixtureCopy('gitops');
    const source = await ManifestSource.load(dir);
    const object = structuredClone((await source.get(STOREFRONT)).value) as KubeObject & {
      spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    const [app, logs] = object.spec.template.spec.containers;
    delete app?.ports;
    delete logs?.securityContext;
    const out = path.join(await tempDir(), 'hardened');
    await writeRemediatedCopy(source, out, [{ ref: STOREFRONT, object }]);
    const diff = lineDiff(await read(dir, 'comments.yaml'), await read(out, 'comments.yaml'));
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([
      '        ports:\n',
      '        - containerPort: 8080 # http\n',
      '        securityContext:\n',
      '          readOnlyRootFilesystem: true # it writes nowhere\n',
    ]);
  });
});

describe('YamlTextEditor', () => {
  test('the hardened loader limits still apply to the text it edits', () => {
    const aliases = `a: &a x\n${Array.from({ length: 20 }, (_, i) => `k${i}: *a`).join('\n')}\n`;
    expect(() => parseYamlNodes(aliases, 'f.yaml')).toThrow(/billion-laughs/);
    const deep = `${'['.repeat(80)}${']'.repeat(80)}\n`;
    expect(() => parseYamlNodes(deep, 'f.yaml')).toThrow(/deeper than 64/);
    expect(() => parseYamlNodes('a: 1\na: 2\n', 'f.yaml')).toThrow(/unique/);
    expect(() => parseYamlNodes('x'.repeat(3 * 1024 * 1024 + 1), 'f.yaml')).toThrow(/limit/);
  });

  test('an alias whose value changes is written out at that place (its comment stays); the anchor is untouched', () => {
    const text = 'a: &x {k: 1}\nb: *x # same\n';
    const { documents } = parseYamlNodes(text, 'f.yaml');
    const doc = documents[0]!;
    const editor = new YamlTextEditor(text, documents, (v) => toYaml(v));
    editor.edit(doc, doc.contents, { a: { k: 1 }, b: { k: 2 } });
    expect(editor.result()).toBe('a: &x {k: 1}\nb: # same\n  k: 2\n');
  });
});

describe('YamlTextEditor edge cases', () => {
  const edit = (text: string, value: unknown): string => {
    const { documents } = parseYamlNodes(text, 'f.yaml');
    const doc = documents[0]!;
    const editor = new YamlTextEditor(text, documents, (v, style) => toYaml(v, style));
    editor.edit(doc, doc.contents, value);
    return editor.result();
  };

  test('no line break at the end of the file: the added key starts on a line of its own', () => {
    expect(edit('a: 1\nb: 2', { a: 1, b: 2, c: 3 })).toBe('a: 1\nb: 2\nc: 3\n');
  });

  test('after a block scalar, the key goes after the scalar, not inside it', () => {
    expect(edit('run: |\n  echo hi\n  exit 0\n', { run: 'echo hi\nexit 0\n', c: true })).toBe(
      'run: |\n  echo hi\n  exit 0\nc: true\n',
    );
  });

  test('an empty flow mapping takes the keys in flow style; `key:` without a value gets a block below', () => {
    expect(edit('sc: {} # none yet\n', { sc: { runAsNonRoot: true } })).toBe(
      'sc: {runAsNonRoot: true} # none yet\n',
    );
    expect(edit('sc: # none yet\nx: 1\n', { sc: { runAsNonRoot: true }, x: 1 })).toBe(
      'sc: # none yet\n  runAsNonRoot: true\nx: 1\n',
    );
  });

  test('own-line comments and blank lines between keys stay where they are', () => {
    const text = 'a: 1\n\n# about b\nb: 2 # inline\n\n# trailing\n';
    expect(edit(text, { a: 1, b: 3 })).toBe('a: 1\n\n# about b\nb: 3 # inline\n\n# trailing\n');
  });

  test('a string that YAML 1.1 reads as a boolean is quoted when written', () => {
    expect(edit('mode: x\n', { mode: 'on' })).toBe('mode: "on"\n');
  });
});
