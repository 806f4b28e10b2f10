/**
 * templates/ and its loader: every template renders with sample values into what it promises (a Kubernetes object
 * has apiVersion, kind and metadata.name); values are YAML-escaped, so no value can change the shape; unknown or
 * missing placeholders, and placeholders where no value can safely go, are errors (bugs of kube-harden).
 */
import { describe, expect, it } from 'vitest';
import { BugError } from '../../../../src/errors.js';
import { kindInfo } from '../../../../src/k8s/kinds.js';
import { ENFORCED_AT, WARN_AUDIT_SINCE } from '../../../../steps/kit/annotations.js';
import { levelLabel, versionLabel } from '../../../../steps/kit/psa.js';
import {
  placeholdersOf,
  renderObjectTemplate,
  renderObjectText,
  renderTemplate,
  renderTemplateText,
  renderYamlTemplate,
  renderYamlText,
  TemplateError,
  templateFiles,
  templatesDir,
} from '../../../../steps/kit/templates.js';
import { TEMPLATE_SAMPLES } from '../../../support/template-samples.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

describe('every template under templates/', () => {
  const files = templateFiles();

  it('is found (the folder ships with the package) and has sample values for exactly its placeholders', () => {
    expect(templatesDir()).toMatch(/\/templates$/);
    expect(files).toEqual(
      expect.arrayContaining(['psa/namespace-enforce.yaml', 'psa/namespace-warn-audit.yaml']),
    );
    for (const file of files) {
      const sample = TEMPLATE_SAMPLES[file];
      expect(sample, `test/support/template-samples.ts has no sample for ${file}`).toBeDefined();
      expect(Object.keys(sample ?? {}).sort(), file).toEqual(placeholdersOf(file));
    }
    expect(Object.keys(TEMPLATE_SAMPLES).filter((f) => !files.includes(f))).toEqual([]);
  });

  it.each(files)(
    '%s renders with its samples; a Kubernetes object has apiVersion, kind and metadata.name',
    (file) => {
      const values = TEMPLATE_SAMPLES[file] ?? {};
      const text = renderTemplate(file, values);
      // No placeholder left (a value may hold other `{{`: a GitHub Actions `${{ secrets.X }}` expression).
      expect(text).not.toMatch(/\{\{\s*[A-Za-z][A-Za-z0-9_]*\s*\}\}/);
      if (!/\.ya?ml$/.test(file)) return;
      const docs = renderYamlTemplate(file, values);
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        expect(isRecord(doc)).toBe(true);
        const d = doc as Record<string, unknown>;
        if (
          typeof d.apiVersion === 'string' &&
          typeof d.kind === 'string' &&
          kindInfo({ apiVersion: d.apiVersion, kind: d.kind })
        ) {
          const meta = d.metadata as Record<string, unknown> | undefined;
          expect(typeof meta?.name).toBe('string');
        }
      }
    },
  );
});

describe('the PSA namespace templates', () => {
  it('warn/audit: exactly the labels and annotation the step used to build in code', () => {
    expect(
      renderObjectTemplate(
        'psa/namespace-warn-audit.yaml',
        TEMPLATE_SAMPLES['psa/namespace-warn-audit.yaml'] ?? {},
      ),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        labels: {
          [levelLabel('warn')]: 'restricted',
          [versionLabel('warn')]: 'v1.36',
          [levelLabel('audit')]: 'restricted',
          [versionLabel('audit')]: 'latest',
        },
        annotations: { [WARN_AUDIT_SINCE]: '2026-06-01' },
      },
    });
  });

  it('enforce: exactly the labels and annotation the step used to build in code', () => {
    expect(
      renderObjectTemplate(
        'psa/namespace-enforce.yaml',
        TEMPLATE_SAMPLES['psa/namespace-enforce.yaml'] ?? {},
      ),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        labels: { [levelLabel('enforce')]: 'baseline', [versionLabel('enforce')]: 'v1.36' },
        annotations: { [ENFORCED_AT]: '2026-06-01' },
      },
    });
  });
});

describe('filling values safely', () => {
  const T =
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{name}}\ndata:\n  a: {{a}}\n  b: "prefix-{{b}}-suffix"\n';
  const render = (a: string | number | boolean, b: string, name = 'cm') =>
    renderObjectText('t.yaml', T, { name, a, b }) as unknown as {
      data: Record<string, unknown>;
      metadata: { name: string };
    };

  it.each([
    ['a plain word', 'hello'],
    ['YAML that looks like other types', 'yes'],
    ['null', 'null'],
    ['a number as text', '0123'],
    ['a colon and a comment', 'a: b # c'],
    ['quotes and backslashes', 'say "hi" \\ \\n'],
    ['a flow mapping', '{x: 1}'],
    ['an anchor and alias', '&a *a'],
    ['a new document', '---\nkind: Secret'],
    ['a new key', 'x\n  injected: true\nkind: Secret'],
    ['a tag', '!!binary aGk='],
    ['control characters YAML refuses raw', 'a\u0085b\u009fc\u2028d\ufeff'],
    ['a tab and a carriage return', 'a\tb\rc'],
    ['non-ASCII', 'ünïcødé 🚀'],
  ])('a whole value keeps %s as one string', (_what, value) => {
    const cm = render(value, value);
    expect(cm.data.a).toBe(value);
    expect(cm.data.b).toBe(`prefix-${value}-suffix`);
    expect(Object.keys(cm.data)).toEqual(['a', 'b']);
    expect(cm.metadata.name).toBe('cm');
  });

  it('numbers and booleans stay numbers and booleans; a non-finite number is refused', () => {
    expect(renderYamlText('t.yaml', 'n: {{n}}\nb: {{b}}\n', { n: 3, b: false })).toEqual([
      { n: 3, b: false },
    ]);
    expect(() => renderTemplateText('t.yaml', 'n: {{n}}\n', { n: Number.NaN })).toThrow(
      /not a finite number/,
    );
  });

  it('list items, and placeholders written with spaces', () => {
    expect(
      renderYamlText('t.yaml', 'l:\n  - {{ one }}\n  - {{two}} # two\n', { one: 'a b', two: '- c' }),
    ).toEqual([{ l: ['a b', '- c'] }]);
  });

  it('block scalars and text files take the value as is, one line without control characters', () => {
    const script = 'run: |\n  echo {{x}} > "{{y}}"\nnext: {{z}}\n';
    expect(renderYamlText('ci.yaml', script, { x: 'it\'s "ok"', y: 'out', z: 'z' })).toEqual([
      { run: 'echo it\'s "ok" > "out"\n', next: 'z' },
    ]);
    expect(renderTemplateText('note.txt', 'hello {{who}}, "{{who}}"\n', { who: 'a: b' })).toBe(
      'hello a: b, "a: b"\n',
    );
    for (const bad of ['two\nlines', 'bell\u0007', 'nel\u0085']) {
      expect(() => renderTemplateText('note.txt', 'x {{v}}\n', { v: bad })).toThrow(
        /one line without control characters/,
      );
    }
  });
});

describe('template errors are bugs, with the file and line', () => {
  const bad =
    (text: string, values: Record<string, string> = { v: 'x' }, file = 't.yaml') =>
    () =>
      renderTemplateText(file, text, values);

  it.each([
    ['a missing value', bad('a: {{v}}\nb: {{w}}\n'), 'template t.yaml: no value for {{w}}'],
    [
      'a value without placeholder',
      bad('a: {{v}}\n', { v: 'x', extra: 'y' }),
      'template t.yaml has no placeholder {{extra}}',
    ],
    [
      'a placeholder inside a plain scalar',
      bad('name: deny-{{v}}\n'),
      'line 1: placeholder {{v}} must be a whole value',
    ],
    [
      'text after a whole value',
      bad('name: {{v}} tail\n'),
      'line 1: placeholder {{v}} must be a whole value: put it in double quotes',
    ],
    ['a placeholder as a key', bad('{{v}}: 1\n'), 'line 1: placeholder {{v}} must be a whole value'],
    ['a placeholder in a comment', bad('a: 1 # {{v}}\n'), 'line 1: a placeholder in a comment'],
    ['a single-quoted placeholder', bad("a: 'x{{v}}'\n"), 'line 1: a placeholder in a single-quoted string'],
    ['a malformed placeholder', bad('a: 1\nb: {{ not-a-name }}\n'), 'line 2: "{{" that is not a placeholder'],
    ['an unclosed double quote', bad('a: "{{v}}\n'), 'a double-quoted string is not closed'],
  ])('%s', (_what, fn, message) => {
    expect(fn).toThrow(TemplateError);
    expect(fn).toThrow(message);
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(BugError);
    }
  });

  it("a filled template that is not one object, or not YAML at all, is a bug (not the operator's input error)", () => {
    expect(() => renderObjectText('t.yaml', 'a: {{v}}\n', { v: 'x' })).toThrow(TemplateError);
    expect(() =>
      renderObjectText(
        't.yaml',
        'kind: A\napiVersion: v1\nmetadata: {name: a}\n---\nkind: A\napiVersion: v1\nmetadata: {name: b}\n',
        {},
      ),
    ).toThrow('holds 2 objects where one is expected');
    expect(() => renderYamlText('t.yaml', 'a: [\n', {})).toThrow(TemplateError);
    expect(() => renderYamlText('t.txt', 'a\n', {})).toThrow('is not YAML');
  });

  it('template paths stay inside templates/', () => {
    for (const path of ['../package.json', '/etc/passwd', 'psa//x.yaml', 'nope.yaml']) {
      expect(() => renderTemplate(path, {})).toThrow(TemplateError);
    }
  });
});
