/**
 * Declarative commands and flags: one table drives parsing, validation and `--help`. Flag names follow kubectl
 * (`--kubeconfig`, `--context`, `-n/--namespace`, `-A/--all-namespaces`, `--request-timeout`).
 */
import { parseArgs } from 'node:util';
import type { SettingSpec } from '../engine/types.js';
import { UsageError } from '../errors.js';

export interface FlagSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Placeholder in help, e.g. `FILE`. */
  arg?: string;
  description: string;
  /** Allowed values, checked and shown in help. */
  choices?: readonly string[];
  /** Shown in help. */
  default?: string;
}

export interface CommandSpec {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage line(s) after `kube-harden `. */
  usage: string;
  /** Longer text for `--help`. */
  description?: string;
  flags: readonly FlagSpec[];
  /** Names of positional arguments, for help; `maxPositionals` bounds them. */
  positionals?: string;
  maxPositionals: number;
  examples?: readonly string[];
  /** Sub-commands (e.g. `exceptions review`). */
  subcommands?: readonly CommandSpec[];
}

/**
 * How the user invoked us, for usage lines, hints and `--help`: `kube-harden`, or `kubectl harden` when run as the
 * kubectl plugin (bin/kubectl-harden.js, or a binary named `kubectl-harden`). Set once by main().
 */
let program = 'kube-harden';

export function setProgramName(name: string): void {
  program = name;
}

export function programName(): string {
  return program;
}

/** The program name for an executable path: `kubectl-harden[.js|.exe]` → `kubectl harden`, anything else kube-harden. */
export function programNameFor(executable: string | undefined): string {
  const base = (executable ?? '').split(/[\\/]/).pop() ?? '';
  return /^kubectl-harden(\.[cm]?js|\.exe)?$/.test(base) ? 'kubectl harden' : 'kube-harden';
}

/**
 * `kube-harden COMMAND…` in help text → the program name the user typed (only before a command word, a flag or
 * a placeholder, so that e.g. "fieldManager kube-harden" stays as it is).
 */
export function withProgramName(text: string, root: CommandSpec): string {
  if (program === 'kube-harden') return text;
  const words = ['COMMAND', ...(root.subcommands ?? []).map((s) => s.name)].join('|');
  return text.replace(new RegExp(`\\bkube-harden(?= (?:${words}|-|\\[)|[\`"])`, 'g'), program);
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  command: CommandSpec;
  /** `exceptions review` → ['exceptions', 'review']. */
  path: string[];
  flags: FlagValues;
  positionals: string[];
}

export const connectionFlags: readonly FlagSpec[] = [
  {
    name: 'kubeconfig',
    type: 'string',
    arg: 'FILE',
    description: 'path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)',
  },
  {
    name: 'context',
    type: 'string',
    arg: 'NAME',
    description: 'the kubeconfig context to use (default: current-context)',
  },
  {
    name: 'request-timeout',
    type: 'string',
    arg: 'DURATION',
    description: 'timeout of one API request, e.g. 30s, 2m',
    default: '30s',
  },
  {
    name: 'qps',
    type: 'string',
    arg: 'N',
    description: 'client-side rate limit in requests per second',
    default: '20',
  },
  { name: 'burst', type: 'string', arg: 'N', description: 'client-side burst of requests', default: '40' },
];

export const scopeFlags: readonly FlagSpec[] = [
  {
    name: 'namespace',
    short: 'n',
    type: 'string',
    multiple: true,
    arg: 'NS',
    description: 'limit to this namespace (repeatable)',
  },
  {
    name: 'all-namespaces',
    short: 'A',
    type: 'boolean',
    description: 'all namespaces (the default when -n is not given)',
  },
  {
    name: 'exclude-namespace',
    type: 'string',
    multiple: true,
    arg: 'NS',
    description: 'leave this namespace out (repeatable)',
  },
];

/** `-o/--output FORMAT` (kubectl's name). */
export function outputFlag(choices: readonly string[], name = 'output'): FlagSpec {
  return {
    name,
    short: 'o',
    type: 'string',
    arg: 'FORMAT',
    choices,
    description: 'output format',
    default: choices[0] as string,
  };
}

export const commonFlags: readonly FlagSpec[] = [
  { name: 'no-color', type: 'boolean', description: 'do not colour output (also: NO_COLOR=1)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help' },
];

function allFlags(spec: CommandSpec): FlagSpec[] {
  return [...spec.flags, ...commonFlags];
}

/** Parse argv (without `node` and the script) against the command table. */
export function parseCommandLine(argv: readonly string[], root: CommandSpec): Parsed {
  const path: string[] = [];
  let command = root;
  let rest = [...argv];
  // Walk sub-commands: the first positional that names one.
  for (;;) {
    const first = rest.findIndex((a) => !a.startsWith('-'));
    const subs = command.subcommands ?? [];
    if (subs.length === 0 || first < 0) break;
    // Only a word before any flag that takes a value can be a command (kubectl style: command first).
    const word = rest[first] as string;
    const sub = subs.find((s) => s.name === word);
    if (!sub) {
      if (command === root || command.maxPositionals === 0) {
        const names = subs.map((s) => s.name).join(', ');
        throw new UsageError(
          `unknown command "${[...path, word].join(' ')}"`,
          `run "${[program, ...path].join(' ')} --help" (commands: ${names})`,
        );
      }
      break;
    }
    if (first !== 0 && rest.slice(0, first).some((a) => a.startsWith('-'))) {
      // flags before the command word: allowed for global flags; keep them
    }
    path.push(word);
    command = sub;
    rest = [...rest.slice(0, first), ...rest.slice(first + 1)];
  }
  const flags = allFlags(command);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of flags) {
    options[f.name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  const name = [program, ...path].join(' ');
  let values: FlagValues;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
    values = parsed.values as FlagValues;
    positionals = parsed.positionals;
  } catch (error) {
    const e = error as Error & { code?: string };
    const flag = /'([^']+)'/.exec(e.message)?.[1] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(
        `unknown flag ${flag.split(' ')[0]} for "${name}"`,
        `run "${name} --help" to see the flags`,
      );
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const spec = flags.find((f) => flag.includes(`--${f.name}`));
      if (spec?.type === 'boolean') {
        throw new UsageError(`flag --${spec.name} takes no value`, `run "${name} --help"`);
      }
      throw new UsageError(`flag ${flag.split(' ')[0]} needs a value`, `run "${name} --help"`);
    }
    throw new UsageError(e.message, `run "${name} --help"`);
  }
  if (values.help) return { command, path, flags: values, positionals };
  if (positionals.length > command.maxPositionals) {
    const extra = positionals[command.maxPositionals];
    const subs = command.subcommands?.map((s) => s.name) ?? [];
    throw new UsageError(
      subs.length > 0
        ? `unknown command "${[...path, extra].join(' ')}"`
        : `unexpected argument "${extra}" for "${name}"`,
      `run "${name} --help"`,
    );
  }
  for (const f of flags) {
    const v = values[f.name];
    if (f.choices && v !== undefined) {
      for (const one of Array.isArray(v) ? v : [v]) {
        if (typeof one === 'string' && !f.choices.includes(one)) {
          throw new UsageError(
            `invalid value "${one}" for --${f.name}`,
            `use one of: ${f.choices.join(', ')}`,
          );
        }
      }
    }
    if (f.type === 'string' && typeof v === 'string' && v.length === 0) {
      throw new UsageError(`flag --${f.name} needs a value`, `run "${name} --help"`);
    }
  }
  return { command, path, flags: values, positionals };
}

/** `--help` text: usage, description, flags (aligned), sub-commands, examples. */
export function renderHelp(command: CommandSpec, path: string[]): string {
  const name = [program, ...path].join(' ');
  const lines: string[] = [];
  lines.push(command.summary, '');
  if (command.description) lines.push(command.description.trim(), '');
  lines.push('Usage:');
  for (const u of command.usage.split('\n')) lines.push(`  ${name}${u ? ` ${u}` : ''}`);
  if (command.subcommands?.length) {
    lines.push('', 'Commands:');
    const width = Math.max(...command.subcommands.map((s) => s.name.length));
    for (const s of command.subcommands) lines.push(`  ${s.name.padEnd(width)}  ${s.summary}`);
  }
  const flags = allFlags(command);
  if (flags.length) {
    lines.push('', 'Flags:');
    const label = (f: FlagSpec) =>
      `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'string' ? ` ${f.arg ?? 'VALUE'}` : ''}`;
    const width = Math.max(...flags.map((f) => label(f).length));
    for (const f of flags) {
      const extra = [
        f.choices ? `one of: ${f.choices.join(', ')}` : '',
        f.default ? `default ${f.default}` : '',
        f.multiple ? 'repeatable' : '',
      ]
        .filter(Boolean)
        .join('; ');
      lines.push(
        `  ${label(f).padEnd(width)}  ${f.description}${extra && !f.description.includes('repeatable') ? ` (${extra})` : ''}`,
      );
    }
  }
  if (command.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of command.examples) lines.push(`  ${e}`);
  }
  if (command.subcommands?.length) lines.push('', `Run "${name} COMMAND --help" for a command's flags.`);
  return `${lines.join('\n')}\n`;
}

/** `30s`, `2m`, `1m30s`, `500ms`, or plain seconds → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2] as 'ms' | 's' | 'm' | 'h' | 'd';
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit];
    consumed += m[0].length;
  }
  if (consumed !== value.length || consumed === 0) {
    throw new UsageError(
      `invalid duration "${value}" for --${flag}`,
      'use a number with a unit: 500ms, 30s, 2m, 1h, 14d',
    );
  }
  return total;
}

export function parsePositiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`invalid value "${value}" for --${flag}`, 'use a positive number');
  return n;
}

export function stringList(values: FlagValues, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [String(v)];
  // Accept `-n a,b` as well as `-n a -n b`.
  return list
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean);
}

/** The flags of step settings (`Step.settings`), for a command's flag table and `--help`. */
export function settingFlags(specs: readonly SettingSpec[]): FlagSpec[] {
  return specs.map((s) => ({
    name: s.flag,
    type: 'string',
    arg: s.type,
    description: `${s.description} [step ${s.key.split('.')[0]}]`,
    ...(s.choices ? { choices: s.choices } : {}),
    ...(s.default !== undefined ? { default: s.default } : {}),
    ...(s.multiple ? { multiple: true } : {}),
  }));
}

/**
 * Step settings from parsed flags, each checked by its step's parser (absent flags take their defaults): the one
 * place a bad value becomes a usage error (exit 2) naming the flag.
 */
export function parseSettingFlags(flags: FlagValues, specs: readonly SettingSpec[]): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const spec of specs) {
    const given = flags[spec.flag];
    // A repeatable setting's values, joined: its parser takes a comma list.
    const text =
      typeof given === 'string'
        ? given
        : Array.isArray(given) && spec.multiple
          ? given.join(',')
          : spec.default;
    if (text === undefined) continue;
    const parsed = spec.parse(text);
    if (!parsed.ok) {
      throw new UsageError(
        `invalid value "${text}" for --${spec.flag}: ${parsed.error}`,
        parsed.hint ?? `run with --help to see --${spec.flag}`,
      );
    }
    settings[spec.key] = parsed.value;
  }
  return settings;
}
