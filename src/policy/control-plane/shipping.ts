/**
 * The off-node shipping snippets (Fluent Bit, Vector) as data (pure): which files a snippet tails and where it
 * sends them, so the step can refuse to offer a snippet that would tail another file than the one the
 * `--audit-log-path` flag writes (a shipper that tails the wrong path ships nothing, silently).
 */
import { isMap, strings } from '../../k8s/json.js';
import { parseYamlDocuments } from '../../k8s/yaml.js';

export const AUDIT_SHIPPERS = ['fluent-bit', 'vector'] as const;
export type AuditShipper = (typeof AUDIT_SHIPPERS)[number];

export interface SnippetReading {
  /** The files the snippet tails. */
  paths: string[];
  /** Its outputs (Fluent Bit `[OUTPUT] Name`, Vector sink `type`). */
  outputs: string[];
  problems: string[];
}

/** Fluent Bit's classic format: `[SECTION]` headers and `Key value` lines. */
function readFluentBit(text: string): SnippetReading {
  const sections: Array<{ name: string; keys: Map<string, string> }> = [];
  const problems: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([A-Z_]+)\]$/.exec(line);
    if (header) {
      sections.push({ name: header[1] as string, keys: new Map() });
      continue;
    }
    const kv = /^(\S+)\s+(.+)$/.exec(line);
    const current = sections[sections.length - 1];
    if (!kv || !current) {
      problems.push(`line ${i + 1} is neither a section nor a key and value`);
      continue;
    }
    current.keys.set((kv[1] as string).toLowerCase(), (kv[2] as string).trim());
  }
  const inputs = sections.filter((s) => s.name === 'INPUT' && s.keys.get('name') === 'tail');
  const outputs = sections.filter((s) => s.name === 'OUTPUT').map((s) => s.keys.get('name') ?? '');
  return {
    paths: inputs.flatMap((s) => (s.keys.get('path') ?? '').split(',').map((p) => p.trim())).filter(Boolean),
    outputs,
    problems,
  };
}

/** Vector's YAML configuration: `sources.<id>` of `type: file` and their `include` list, `sinks.<id>.type`. */
function readVector(text: string): SnippetReading {
  let doc: unknown;
  try {
    doc = parseYamlDocuments(text, 'vector.yaml')[0]?.value;
  } catch (error) {
    return { paths: [], outputs: [], problems: [`does not parse as YAML: ${(error as Error).message}`] };
  }
  if (!isMap(doc)) return { paths: [], outputs: [], problems: ['is not a YAML mapping'] };
  const sources = isMap(doc.sources) ? Object.values(doc.sources) : [];
  const sinks = isMap(doc.sinks) ? Object.values(doc.sinks) : [];
  const paths = sources
    .filter((s) => isMap(s) && s.type === 'file')
    .flatMap((s) => (isMap(s) && Array.isArray(s.include) ? s.include : []))
    .map(String);
  const outputs = sinks.map((s) => (isMap(s) && typeof s.type === 'string' ? s.type : ''));
  const problems: string[] = [];
  const ids = new Set([
    ...(isMap(doc.sources) ? Object.keys(doc.sources) : []),
    ...(isMap(doc.transforms) ? Object.keys(doc.transforms) : []),
  ]);
  for (const [id, s] of Object.entries(isMap(doc.sinks) ? doc.sinks : {}))
    for (const input of isMap(s) ? strings(s.inputs) : [])
      if (!ids.has(input)) problems.push(`sink ${id} reads ${input}, which is not defined`);
  for (const [id, s] of Object.entries(isMap(doc.sinks) ? doc.sinks : {}))
    if (isMap(s) && !Array.isArray(s.inputs)) problems.push(`sink ${id} has no inputs`);
  return { paths, outputs, problems };
}

/** What a snippet tails and sends, and what is wrong with it for an audit log at `logPath`. */
export function checkShippingSnippet(shipper: AuditShipper, text: string, logPath: string): SnippetReading {
  const r = shipper === 'vector' ? readVector(text) : readFluentBit(text);
  const problems = [...r.problems];
  if (r.paths.length === 0) problems.push('it tails no file');
  for (const p of r.paths)
    if (p !== logPath) problems.push(`it tails ${p}, not the audit log ${logPath} (--audit-log-path)`);
  if (r.outputs.length === 0 || r.outputs.some((o) => o === ''))
    problems.push('it has an output without a type');
  return { ...r, problems };
}
