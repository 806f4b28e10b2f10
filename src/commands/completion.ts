/**
 * `kube-harden completion bash|zsh|fish`: a shell completion script. The script is thin: on TAB it runs
 * `kube-harden __complete WORD…` (the words typed so far, the last one being completed), which answers one
 * candidate per line from the same command/flag table that drives parsing and `--help` — commands, flags, choices,
 * step ids and phases from the step registry, contexts from the kubeconfig, namespaces from the cluster — or
 * `:files` when the shell should complete file names.
 *
 * Namespaces cross the wire, so they are bounded (one page of at most 500), cached for a minute per kubeconfig and
 * context (~/.cache/kube-harden/completion/), and time-limited: after NAMESPACE_BUDGET_MS the answer is the stale
 * cache or nothing, never a shell waiting on a slow cluster or credential plugin.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { STEPS } from '../../steps/index.js';
import { type CommandSpec, commonFlags, type FlagSpec } from '../cli/args.js';
import { kubeconfigContextNames } from '../cluster/kubeconfig.js';
import { UsageError } from '../errors.js';
import { Kinds } from '../k8s/kinds.js';
import type { Command } from './types.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The hidden command the scripts call (not in `--help`). */
export const COMPLETE_COMMAND = '__complete';
/** The line that asks the shell for file-name completion. */
export const FILES = ':files';

export const NAMESPACE_BUDGET_MS = 600;
export const NAMESPACE_TTL_MS = 60_000;
const NAMESPACE_LIMIT = 500;

export interface Completion {
  values: string[];
  /** Complete file names (a FILE/DIR argument). */
  files: boolean;
}

/** Where dynamic candidates come from (injectable for tests). */
export interface CompletionSources {
  stepIds(): string[];
  phases(): string[];
  contexts(given: Given): string[];
  namespaces(given: Given): Promise<string[]>;
}

/** Flag values already on the command line that decide dynamic candidates (`--kubeconfig`, `--context`). */
export type Given = Record<string, string>;

const flagsOf = (command: CommandSpec): FlagSpec[] => [...command.flags, ...commonFlags];

function findFlag(command: CommandSpec, root: CommandSpec, word: string): FlagSpec | undefined {
  const byName = (f: FlagSpec) =>
    word.startsWith('--') ? f.name === word.slice(2) : f.short !== undefined && word === `-${f.short}`;
  return flagsOf(command).find(byName) ?? flagsOf(root).find(byName);
}

/** Candidates for the last of `words` (the words after the program name; the last may be ''). */
export async function complete(
  words: readonly string[],
  root: CommandSpec,
  sources: CompletionSources,
): Promise<Completion> {
  const before = words.slice(0, -1);
  const current = words.at(-1) ?? '';
  let command = root;
  let positionals = 0;
  let pending: FlagSpec | undefined;
  const given: Given = {};
  for (const word of before) {
    if (pending) {
      given[pending.name] = word;
      pending = undefined;
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      const eq = word.indexOf('=');
      const flag = findFlag(command, root, eq > 0 ? word.slice(0, eq) : word);
      if (flag?.type === 'string') {
        if (eq > 0) given[flag.name] = word.slice(eq + 1);
        else pending = flag;
      }
      continue;
    }
    const sub = positionals === 0 ? command.subcommands?.find((s) => s.name === word) : undefined;
    if (sub) command = sub;
    else positionals++;
  }
  const matching = (values: readonly string[], prefix = ''): Completion => ({
    values: values.filter((v) => v.startsWith(current.slice(prefix.length))).map((v) => prefix + v),
    files: false,
  });
  if (pending) return valuesOf(pending, given, sources, matching, '');
  if (current.startsWith('--') && current.includes('=')) {
    const name = current.slice(0, current.indexOf('='));
    const flag = findFlag(command, root, name);
    if (flag?.type === 'string') return valuesOf(flag, given, sources, matching, `${name}=`);
    return { values: [], files: false };
  }
  const flagNames = flagsOf(command).map((f) => `--${f.name}`);
  if (current.startsWith('-')) return matching(flagNames);
  if (command.subcommands?.length && positionals === 0)
    return matching(command.subcommands.map((s) => s.name));
  if (command.name === 'completion' && positionals === 0) return matching(SHELLS);
  if (command.maxPositionals === 0) return matching(flagNames);
  return { values: [], files: false };
}

async function valuesOf(
  flag: FlagSpec,
  given: Given,
  sources: CompletionSources,
  matching: (values: readonly string[], prefix?: string) => Completion,
  prefix: string,
): Promise<Completion> {
  if (flag.choices) return matching(flag.choices, prefix);
  switch (flag.name) {
    case 'step':
      return matching(sources.stepIds(), prefix);
    case 'phase':
      return matching(sources.phases(), prefix);
    case 'context':
      return matching(sources.contexts(given), prefix);
    case 'namespace':
    case 'exclude-namespace':
      return matching(await sources.namespaces(given), prefix);
  }
  if (/FILE|DIR|PATH/.test(flag.arg ?? '')) return { values: [], files: true };
  return { values: [], files: false };
}

// ---------------------------------------------------------------------------------------------------------------
// Sources: the step registry, the kubeconfig, the cluster (bounded, cached, time-limited)

function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME ?? homedir(), '.cache'), 'kube-harden', 'completion');
}

interface CachedNamespaces {
  at: number;
  names: string[];
}

/**
 * The cluster's namespace names for `--kubeconfig`/`--context` (or the defaults): from a fresh cache entry, else
 * one bounded LIST within `budgetMs`, else the stale entry, else nothing. Errors are swallowed: completion must
 * never print one into the user's prompt.
 */
export async function clusterNamespaces(
  given: Given,
  options: { budgetMs?: number; ttlMs?: number; dir?: string; now?: () => number } = {},
): Promise<string[]> {
  const budget = options.budgetMs ?? NAMESPACE_BUDGET_MS;
  const now = options.now ?? Date.now;
  const key = createHash('sha256')
    .update(JSON.stringify([given.kubeconfig ?? process.env.KUBECONFIG ?? '', given.context ?? '']))
    .digest('hex')
    .slice(0, 32);
  const dir = options.dir ?? cacheDir();
  const file = join(dir, `namespaces-${key}.json`);
  let cached: CachedNamespaces | undefined;
  try {
    cached = JSON.parse(readFileSync(file, 'utf8')) as CachedNamespaces;
    if (!Array.isArray(cached.names) || typeof cached.at !== 'number') cached = undefined;
  } catch {
    cached = undefined;
  }
  if (cached && now() - cached.at < (options.ttlMs ?? NAMESPACE_TTL_MS)) return cached.names;
  const signal = AbortSignal.timeout(budget);
  const fetched = async (): Promise<string[] | undefined> => {
    const { connect } = await import('../cluster/live.js');
    const cluster = connect({
      ...(given.kubeconfig ? { kubeconfig: given.kubeconfig } : {}),
      ...(given.context ? { context: given.context } : {}),
      requestTimeoutMs: budget,
      execTimeoutMs: budget,
      interactive: false,
      maxRetryWaitMs: 0,
      onPluginStderr: () => {},
    });
    try {
      for await (const page of cluster.list(Kinds.Namespace, { limit: NAMESPACE_LIMIT, signal })) {
        return Array.from(page.items, (n) => n.metadata?.name).filter(
          (n): n is string => typeof n === 'string',
        );
      }
      return [];
    } finally {
      cluster.close();
    }
  };
  const timeout = new Promise<undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), budget);
    timer.unref();
  });
  const names = await Promise.race([fetched().catch(() => undefined), timeout]);
  if (!names) return cached?.names ?? [];
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ at: now(), names: names.sort() }), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a read-only home: no cache, still an answer
  }
  return names;
}

export const liveSources: CompletionSources = {
  stepIds: () => STEPS.map((s) => s.id),
  phases: () => [...new Set(STEPS.map((s) => String(s.phase)))],
  contexts: (given) => {
    try {
      return kubeconfigContextNames(given.kubeconfig ? { kubeconfig: given.kubeconfig } : {});
    } catch {
      return [];
    }
  },
  namespaces: (given) => clusterNamespaces(given),
};

/** The first word after `__complete` that asks for cobra's protocol (what kubectl expects from plugins). */
export const COBRA = '--cobra';

/**
 * `kube-harden __complete WORD…` → candidates, one per line (`:files` first when file names fit).
 * `__complete --cobra WORD…` answers in cobra's protocol instead — the candidates, then `:4` (no file names) or `:0`
 * (file names) — for kubectl, which runs `kubectl_complete-harden WORD…` (bin/kubectl_complete-harden.js) on
 * `kubectl harden <TAB>` (kubectl ≥ 1.26).
 */
export async function runComplete(
  argv: readonly string[],
  root: CommandSpec,
  out: NodeJS.WritableStream,
  sources: CompletionSources = liveSources,
): Promise<number> {
  const cobra = argv[0] === COBRA;
  const words = cobra ? argv.slice(1) : argv;
  const result = await complete(words.length === 0 ? [''] : words, root, sources);
  const lines = cobra
    ? [...result.values, result.files ? ':0' : ':4']
    : [...(result.files ? [FILES] : []), ...result.values];
  out.write(lines.length ? `${lines.join('\n')}\n` : '');
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Scripts

export function completionScript(shell: Shell, program = 'kube-harden'): string {
  const fn = `_${program.replace(/[^A-Za-z0-9]/g, '_')}`;
  switch (shell) {
    case 'bash':
      return `# ${program} completion for bash. Load it with:
#   source <(${program} completion bash)
# or write it to ~/.local/share/bash-completion/completions/${program}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} line out
  COMPREPLY=()
  out=$(${program} ${COMPLETE_COMMAND} "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  while IFS= read -r line; do
    if [[ $line == "${FILES}" ]]; then
      compopt -o filenames 2>/dev/null
      while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -- "$cur")
    elif [[ -n $line ]]; then
      COMPREPLY+=("$line")
    fi
  done <<<"$out"
}
complete -F ${fn} ${program}
`;
    case 'zsh':
      return `#compdef ${program}
# ${program} completion for zsh. Load it with (after compinit):
#   source <(${program} completion zsh)
# or write it as _${program} into a directory on $fpath
${fn}() {
  local -a lines
  lines=("\${(@f)$(${program} ${COMPLETE_COMMAND} "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  lines=("\${(@)lines:#}")
  if [[ \${lines[1]} == "${FILES}" ]]; then
    _files
    return
  fi
  (( \${#lines} )) && compadd -Q -- "\${(@)lines}"
}
if [[ \${funcstack[1]} == ${fn} ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${program}
fi
`;
    case 'fish':
      return `# ${program} completion for fish. Load it with:
#   ${program} completion fish | source
# or write it to ~/.config/fish/completions/${program}.fish
function __${fn}_complete
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l out (${program} ${COMPLETE_COMMAND} $tokens (commandline -ct) 2>/dev/null)
    if set -q out[1]; and test "$out[1]" = "${FILES}"
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $out
end
complete -c ${program} -f -a '(__${fn}_complete)'
`;
  }
}

export const completion: Command = {
  spec: {
    name: 'completion',
    summary: 'Print a shell completion script (bash, zsh or fish)',
    usage: 'bash|zsh|fish',
    description: `Prints a script that completes commands, flags, step ids, contexts (from the kubeconfig) and namespaces
(from the cluster: cached for a minute, never more than a moment's wait) for kube-harden.

  bash:  source <(kube-harden completion bash)      (in ~/.bashrc)
  zsh:   source <(kube-harden completion zsh)       (in ~/.zshrc, after compinit)
  fish:  kube-harden completion fish | source       (in ~/.config/fish/config.fish)`,
    flags: [],
    positionals: 'SHELL',
    maxPositionals: 1,
    examples: ['kube-harden completion bash > ~/.local/share/bash-completion/completions/kube-harden'],
  },
  async run({ parsed, output }) {
    const shell = parsed.positionals[0];
    if (!shell) throw new UsageError('completion needs a shell', `use one of: ${SHELLS.join(', ')}`);
    if (!(SHELLS as readonly string[]).includes(shell))
      throw new UsageError(`unsupported shell "${shell}"`, `use one of: ${SHELLS.join(', ')}`);
    output.out.write(completionScript(shell as Shell));
    return 0;
  },
};
