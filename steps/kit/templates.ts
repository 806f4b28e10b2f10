/**
 * Templates: the fixed shapes the steps fill (templates/, at the top of the package — DESIGN "Layout"), so that a
 * reviewer reads the shape of every generated object as data, without reading code.
 *
 * A template is a text file with `{{name}}` placeholders. In a YAML template (`.yaml`/`.yml`) a placeholder is
 * either a whole value (`name: {{name}}`, `- {{item}}`: filled as a YAML scalar — a string double-quoted and
 * escaped, a number or boolean as itself) or part of a double-quoted string (`"deny-{{namespace}}"`: filled
 * escaped); inside a block scalar (`|`, `>`) and in other text files it is filled as is, one line, no control
 * characters. Anything else (a placeholder in a plain scalar, a single-quoted string, a key or a comment; a
 * placeholder without a value, a value without a placeholder) is an error: templates ship with kube-harden, so
 * a bad one is a bug, never a silently wrong object. Filled YAML is parsed with the hardened loader (src/k8s/yaml.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BugError, InputError } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { parseManifests, parseYamlDocuments } from '../../src/k8s/yaml.js';

export type TemplateValue = string | number | boolean;
export type TemplateValues = Readonly<Record<string, TemplateValue>>;

/** Where a placeholder stands, which decides how its value is escaped. */
type Slot = 'value' | 'quoted' | 'raw';

interface Placeholder {
  name: string;
  slot: Slot;
  start: number;
  end: number;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/y;

export class TemplateError extends BugError {}

let root: string | undefined;

/** The templates/ folder of this installation (next to package.json, from the sources or from dist/). */
export function templatesDir(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) {
      root = join(dir, 'templates');
      return root;
    }
    const up = dirname(dir);
    if (up === dir)
      throw new TemplateError('the templates/ folder of kube-harden is missing (a broken install?)');
    dir = up;
  }
}

/** Every template, as a path relative to templates/ with `/` separators, sorted. */
export function templateFiles(): string[] {
  const base = templatesDir();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
    );
  return walk(base)
    .map((f) => relative(base, f).split(sep).join('/'))
    .sort();
}

const isYaml = (file: string) => /\.ya?ml$/.test(file);

const texts = new Map<string, string>();

function read(file: string): string {
  let text = texts.get(file);
  if (text === undefined) {
    if (file.split('/').some((p) => p === '..' || p === '') || file.startsWith('/'))
      throw new TemplateError(`template path "${file}" must be relative to templates/`);
    const path = join(templatesDir(), file);
    if (!existsSync(path)) throw new TemplateError(`template ${file} does not exist in ${templatesDir()}`);
    text = readFileSync(path, 'utf8');
    texts.set(file, text);
  }
  return text;
}

/** The placeholders of a template, where they stand; throws on a placeholder where no value can go. */
function scan(file: string, text: string): Placeholder[] {
  const found: Placeholder[] = [];
  const fail = (line: number, why: string): never => {
    throw new TemplateError(`template ${file}, line ${line}: ${why}`);
  };
  const yaml = isYaml(file);
  let offset = 0;
  let blockIndent = -1; // inside a block scalar: lines indented more than this
  let inDouble = false; // a double-quoted scalar may continue on the next line
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const lineNo = index + 1;
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0 && (line.trim() === '' || indent > blockIndent)) {
      // Block scalar content: literal text.
      scanRaw(line, offset, lineNo, found, fail);
      offset += line.length + 1;
      continue;
    }
    blockIndent = -1;
    if (!yaml) {
      scanRaw(line, offset, lineNo, found, fail);
      offset += line.length + 1;
      continue;
    }
    let inSingle = false;
    let i = 0;
    while (i < line.length) {
      const ch = line[i] as string;
      if (inDouble) {
        if (ch === '\\') i += 2;
        else if (ch === '"') {
          inDouble = false;
          i++;
        } else if (line.startsWith('{{', i)) {
          const p = placeholderAt(line, i, offset, 'quoted', lineNo, fail);
          found.push(p);
          i = p.end - offset;
        } else i++;
        continue;
      }
      if (inSingle) {
        if (line.startsWith('{{', i))
          fail(lineNo, 'a placeholder in a single-quoted string (use double quotes)');
        // '' is an escaped quote inside a single-quoted string.
        if (ch === "'" && line[i + 1] === "'") i++;
        else if (ch === "'") inSingle = false;
        i++;
        continue;
      }
      if (ch === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) {
        if (line.includes('{{', i)) fail(lineNo, 'a placeholder in a comment');
        break;
      }
      if (ch === '"') inDouble = true;
      else if (ch === "'") inSingle = true;
      else if (line.startsWith('{{', i)) {
        const p = placeholderAt(line, i, offset, 'value', lineNo, fail);
        const before = line.slice(0, i);
        const after = line.slice(p.end - offset);
        if (!/(:|(^|\s)-)\s+$/.test(before))
          fail(
            lineNo,
            `placeholder {{${p.name}}} must be a whole value ("key: {{${p.name}}}") or inside double quotes`,
          );
        if (!/^\s*(#.*)?$/.test(after))
          fail(
            lineNo,
            `placeholder {{${p.name}}} must be a whole value: put it in double quotes to join it with text`,
          );
        found.push(p);
        i = p.end - offset;
        continue;
      }
      i++;
    }
    // A block scalar header (`key: |`, `- >-`): the more-indented lines that follow are its content.
    const code = line.replace(/\s+#.*$/, '');
    if (!inDouble && /(^|\s)[|>][-+0-9]*$/.test(code)) blockIndent = indent;
    offset += line.length + 1;
  }
  if (inDouble) fail(lines.length, 'a double-quoted string is not closed');
  return found;
}

function placeholderAt(
  line: string,
  i: number,
  offset: number,
  slot: Slot,
  lineNo: number,
  fail: (line: number, why: string) => never,
): Placeholder {
  PLACEHOLDER.lastIndex = i;
  const m = PLACEHOLDER.exec(line);
  if (!m) return fail(lineNo, `"{{" that is not a placeholder ({{name}}, letters, digits and _)`);
  return { name: m[1] as string, slot, start: offset + i, end: offset + i + m[0].length };
}

function scanRaw(
  line: string,
  offset: number,
  lineNo: number,
  found: Placeholder[],
  fail: (line: number, why: string) => never,
): void {
  for (let i = line.indexOf('{{'); i >= 0; i = line.indexOf('{{', i)) {
    const p = placeholderAt(line, i, offset, 'raw', lineNo, fail);
    found.push(p);
    i = p.end - offset;
  }
}

/** The placeholder names of a template, sorted. */
export function placeholdersOf(file: string): string[] {
  return [...new Set(scan(file, read(file)).map((p) => p.name))].sort();
}

/** JSON string escapes are YAML double-quoted escapes; also escape what YAML (and our loader) refuses raw. */
function quoted(value: string): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function fill(file: string, p: Placeholder, value: TemplateValue): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new TemplateError(`template ${file}: {{${p.name}}} is not a finite number`);
  if (p.slot === 'value') return typeof value === 'string' ? quoted(value) : String(value);
  if (p.slot === 'quoted') return quoted(String(value)).slice(1, -1);
  const text = String(value);
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text))
    throw new TemplateError(
      `template ${file}: the value of {{${p.name}}} must be one line without control characters`,
    );
  return text;
}

/** The template with every placeholder filled; an unknown or missing value is an error. */
export function renderTemplate(file: string, values: TemplateValues): string {
  return renderTemplateText(file, read(file), values);
}

/** `renderTemplate` of a template's text (`file` names it and says whether it is YAML). */
export function renderTemplateText(file: string, text: string, values: TemplateValues): string {
  const found = scan(file, text);
  const names = new Set(found.map((p) => p.name));
  const missing = [...names].filter((n) => !Object.hasOwn(values, n)).sort();
  if (missing.length)
    throw new TemplateError(`template ${file}: no value for ${missing.map((n) => `{{${n}}}`).join(', ')}`);
  const unknown = Object.keys(values)
    .filter((n) => !names.has(n))
    .sort();
  if (unknown.length)
    throw new TemplateError(
      `template ${file} has no placeholder ${unknown.map((n) => `{{${n}}}`).join(', ')}`,
    );
  let out = '';
  let at = 0;
  for (const p of found) {
    out += text.slice(at, p.start) + fill(file, p, values[p.name] as TemplateValue);
    at = p.end;
  }
  return out + text.slice(at);
}

/** A template that does not parse is kube-harden's bug, not the operator's bad input. */
function asBug<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InputError) {
      throw new TemplateError(
        `${error.file ?? 'a template'}${error.line ? `:${error.line}` : ''}: ${error.message}`,
        undefined,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

/** A YAML template filled and parsed (hardened loader): its documents as plain data, empty ones left out. */
export function renderYamlTemplate(file: string, values: TemplateValues): unknown[] {
  return renderYamlText(file, read(file), values);
}

/** A template of exactly one Kubernetes object (apiVersion, kind, metadata.name), filled and parsed. */
export function renderObjectTemplate(file: string, values: TemplateValues): KubeObject {
  return renderObjectText(file, read(file), values);
}

/** `renderYamlTemplate` of a template's text. */
export function renderYamlText(file: string, text: string, values: TemplateValues): unknown[] {
  if (!isYaml(file)) throw new TemplateError(`template ${file} is not YAML`);
  const filled = renderTemplateText(file, text, values);
  return asBug(() => parseYamlDocuments(filled, `templates/${file}`))
    .map((d) => d.value)
    .filter((v) => v !== null && v !== undefined);
}

/** `renderObjectTemplate` of a template's text. */
export function renderObjectText(file: string, text: string, values: TemplateValues): KubeObject {
  if (!isYaml(file)) throw new TemplateError(`template ${file} is not YAML`);
  const filled = renderTemplateText(file, text, values);
  const objects = asBug(() => parseManifests(filled, `templates/${file}`));
  if (objects.length !== 1)
    throw new TemplateError(`template ${file} holds ${objects.length} objects where one is expected`);
  return objects[0] as KubeObject;
}
