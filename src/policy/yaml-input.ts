/**
 * Shared validation for kube-harden's own YAML inputs (the tier config, the exceptions register): one document,
 * a known apiVersion/kind, no unknown fields, every error an `InputError` with file and line.
 */

import { InputError } from '../errors.js';
import { parseYamlDocuments, type YamlDocument } from '../k8s/yaml.js';

export const KUBE_HARDEN_API_VERSION = 'kube-harden.io/v1alpha1';

export type Path = ReadonlyArray<string | number>;
export type J = Record<string, unknown>;

export function isObject(v: unknown): v is J {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Reads one document of `kind`. Blank documents are ignored; a second document is an error. */
export class YamlInput {
  readonly file: string;
  readonly doc: YamlDocument;
  readonly root: J;

  private constructor(file: string, doc: YamlDocument, root: J) {
    this.file = file;
    this.doc = doc;
    this.root = root;
  }

  static parse(text: string | Uint8Array, file: string, kind: string, hint: string): YamlInput {
    const docs = parseYamlDocuments(text, file).filter((d) => d.value !== null && d.value !== undefined);
    const [doc, second] = docs;
    if (!doc) throw new InputError(`is empty: expected a ${kind}`, { file, hint });
    if (second) {
      throw new InputError(`holds more than one YAML document: expected one ${kind}`, {
        file,
        line: second.line,
        hint,
      });
    }
    if (!isObject(doc.value)) {
      throw new InputError(`must be a mapping (apiVersion, kind, …), not ${describe(doc.value)}`, {
        file,
        line: doc.line,
        hint,
      });
    }
    const input = new YamlInput(file, doc, doc.value);
    if (input.root.apiVersion !== KUBE_HARDEN_API_VERSION) {
      throw input.error(['apiVersion'], `apiVersion must be ${KUBE_HARDEN_API_VERSION}`, hint);
    }
    if (input.root.kind !== kind) throw input.error(['kind'], `kind must be ${kind}`, hint);
    return input;
  }

  line(path: Path): number {
    return this.doc.lineOf(path) ?? this.doc.line;
  }

  error(path: Path, message: string, hint?: string): InputError {
    return new InputError(message, { file: this.file, line: this.line(path), ...(hint ? { hint } : {}) });
  }

  /** Refuses fields not in `allowed` (a typo must fail loudly, not vanish). */
  onlyFields(value: J, path: Path, allowed: readonly string[], what: string): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        throw this.error(
          [...path, key],
          `unknown field ${JSON.stringify(key)} in ${what}`,
          `Allowed fields: ${allowed.join(', ')}.`,
        );
      }
    }
  }

  string(value: J, path: Path, key: string, what: string, required: boolean): string | undefined {
    const v = value[key];
    if (v === undefined || v === null) {
      if (required) throw this.error(path, `${what} needs ${key}`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      throw this.error([...path, key], `${key} of ${what} must be a non-empty string, not ${describe(v)}`);
    }
    return v;
  }
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
