/**
 * Shell completion: the engine on the command table (commands, flags, choices, step ids from the registry,
 * contexts from a kubeconfig), the generated scripts parse in their shells, and bash — driven through COMP_WORDS
 * like a real TAB — and fish (`complete -C`) list the step ids by running the built CLI. zsh is only
 * syntax-checked (no scriptable completion driver without a pty). Shells that are not installed are skipped
 * with their name in the test title.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootSpec } from '../../../src/cli.js';
import {
  type CompletionSources,
  complete,
  completionScript,
  liveSources,
  SHELLS,
} from '../../../src/commands/completion.js';
import { STEPS } from '../../../steps/index.js';
import { repoRoot } from '../../support/cli.js';

const stepIds = STEPS.map((s) => s.id);
let work = '';
let kubeconfig = '';

const sources: CompletionSources = {
  ...liveSources,
  namespaces: async () => ['default', 'kube-system', 'shop'],
};
const values = async (...words: string[]) => (await complete(words, rootSpec, sources)).values;

function has(shell: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kube-harden-completion-'));
  kubeconfig = join(work, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: prod, context: {cluster: c, user: u}}, {name: staging, context: {cluster: c, user: u}}]
current-context: prod
`,
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('completion engine', () => {
  it('commands, then the flags of the command', async () => {
    expect(await values('')).toEqual(rootSpec.subcommands?.map((s) => s.name));
    expect(await values('pl')).toEqual(['plan']);
    expect(await values('plan', '--st')).toEqual(['--step']);
    expect(await values('exceptions', '')).toEqual(['review']);
    expect(await values('report', '--')).toContain('--manifests');
    expect(await values('completion', '')).toEqual([...SHELLS]);
  });

  it('step ids from the registry, choices, phases, files', async () => {
    expect(await values('plan', '--step', '')).toEqual(stepIds);
    expect(await values('plan', '--step', 'psa-w')).toEqual(stepIds.filter((s) => s.startsWith('psa-w')));
    expect(await values('plan', '--step=')).toEqual(stepIds.map((s) => `--step=${s}`));
    expect(await values('report', '-o', '')).toEqual(['text', 'md', 'json', 'sarif']);
    expect(await values('plan', '--phase', '')).toEqual([...new Set(STEPS.map((s) => String(s.phase)))]);
    expect(await complete(['report', '--out', ''], rootSpec, sources)).toEqual({ values: [], files: true });
    // a value already given does not make the next word a value
    expect(await values('plan', '--step', 'psa-enforce', '--ou')).toEqual(['--out']);
  });

  it('contexts from the kubeconfig named on the line; namespaces from the source', async () => {
    expect(await values('report', '--kubeconfig', kubeconfig, '--context', '')).toEqual(['prod', 'staging']);
    expect(await values('report', '--kubeconfig', kubeconfig, '--context', 'st')).toEqual(['staging']);
    expect(await values('report', '--kubeconfig', join(work, 'missing'), '--context', '')).toEqual([]);
    expect(await values('report', '-n', 's')).toEqual(['shop']);
    expect(await values('plan', '--exclude-namespace', 'k')).toEqual(['kube-system']);
  });
});

describe('completion scripts', () => {
  let bin = '';
  beforeAll(() => {
    if (!existsSync(join(repoRoot, 'dist', 'src', 'cli.js')))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    bin = join(work, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    symlinkSync(join(repoRoot, 'bin', 'kube-harden.js'), join(bin, 'kube-harden'));
    for (const shell of SHELLS) writeFileSync(join(work, `script.${shell}`), completionScript(shell));
  });
  const env = () => ({
    PATH: [bin, dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: work,
    KUBECONFIG: kubeconfig,
  });

  for (const shell of SHELLS) {
    const installed = has(shell);
    it.skipIf(!installed)(
      `${shell} parses it${installed ? '' : ` [skipped: ${shell} is not installed]`}`,
      () => {
        const args =
          shell === 'fish'
            ? ['--no-execute', join(work, `script.${shell}`)]
            : ['-n', join(work, `script.${shell}`)];
        const r = spawnSync(shell, args, { encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      },
    );
  }

  it('bash: TAB after `plan --step` lists the step ids (COMP_WORDS/COMP_CWORD, like readline)', () => {
    const drive = (words: string[]) => {
      const script = `source ${join(work, 'script.bash')}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_kube_harden
printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: env() });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(drive(['kube-harden', 'plan', '--step', ''])).toEqual(stepIds);
    expect(drive(['kube-harden', 'pl'])).toEqual(['plan']);
    expect(drive(['kube-harden', 'report', '--context', ''])).toEqual(['prod', 'staging']);
  });

  it.skipIf(!has('fish'))(
    `fish: complete -C lists the step ids${has('fish') ? '' : ' [skipped: fish is not installed]'}`,
    () => {
      const r = spawnSync(
        'fish',
        ['--no-config', '-c', `source ${join(work, 'script.fish')}; complete -C 'kube-harden plan --step '`],
        { encoding: 'utf8', env: env() },
      );
      expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([...stepIds].sort());
    },
  );
});
