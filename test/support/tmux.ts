/**
 * The wizard in a real pseudo-terminal (tmux), for the end-to-end tests (wizard-e2e, journey-e2e): the real binary
 * (bin/kube-harden.js → dist/), the operator's keys sent with `tmux send-keys`, the screen read back with
 * `tmux capture-pane`. With KUBE_HARDEN_SCREENS_DIR set, `capture` also writes each screen reached there as text
 * (scripts/capture-screens.sh regenerates docs/screens/ that way).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

const SCREENS = process.env.KUBE_HARDEN_SCREENS_DIR;
export const COLUMNS = 80;
export const ROWS = 30;

/** Build dist/ when it is missing or older than the wizard's sources (the binary runs from dist/). */
export function ensureBuilt(): void {
  const built = join(repoRoot, 'dist', 'src', 'ui', 'render.js');
  const newest = ['src/ui/App.tsx', 'src/commands/wizard.ts', 'src/store/store.ts', 'src/cli.ts']
    .map((f) => statSync(join(repoRoot, f)).mtimeMs)
    .reduce((a, b) => Math.max(a, b), 0);
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  // Type errors elsewhere in the tree do not stop tsc from emitting; the file must exist afterwards.
  spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', repoRoot], {
    stdio: 'ignore',
  });
  if (!existsSync(built)) throw new Error('npx tsc -p . did not produce dist/src/ui/render.js');
}

/** One wizard in its own tmux server (own socket), so nothing leaks into the developer's tmux. */
export class Terminal {
  private readonly socket = `kh-e2e-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  private started = false;

  /** `cwd`: where the wizard runs (artifacts it saves go there, relative paths resolve there); the repo by default. */
  constructor(
    private readonly env: Record<string, string>,
    private readonly cwd: string = repoRoot,
  ) {}

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  start(args: string[]): void {
    const vars = Object.entries(this.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    // CI must be unset inside: the wizard (like Ink) refuses to draw a live screen in CI.
    const command = [
      'env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR -u FORCE_COLOR',
      ...vars,
      shellQuote(process.execPath),
      shellQuote(join(repoRoot, 'bin', 'kube-harden.js')),
      ...args.map(shellQuote),
      '; echo "EXIT=$?"; sleep 600',
    ].join(' ');
    this.tmux(
      'new-session',
      '-d',
      '-s',
      'wiz',
      '-c',
      this.cwd,
      '-x',
      String(COLUMNS),
      '-y',
      String(ROWS),
      command,
    );
    this.started = true;
  }

  /**
   * Keys as tmux names them (Enter, Down, Escape, Space, C-c, or characters), one at a time like a person types:
   * an Escape and the next key sent in one burst read as a single Meta-key.
   */
  async keys(...keys: string[]): Promise<void> {
    for (const k of keys) {
      this.tmux('send-keys', '-t', 'wiz', k);
      await new Promise((r) => setTimeout(r, 120));
    }
  }

  async type(text: string): Promise<void> {
    this.tmux('send-keys', '-t', 'wiz', '-l', text);
    await new Promise((r) => setTimeout(r, 120));
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 'wiz');
  }

  async waitFor(...expected: Array<string | RegExp>): Promise<string> {
    const deadline = Date.now() + 30_000;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen();
      if (expected.every((e) => (typeof e === 'string' ? last.includes(e) : e.test(last)))) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${expected.map(String).join(', ')}; screen:\n${last}`);
  }

  /** Wait for `expected`, let the frame settle, and save the screen as docs text when capturing. */
  async capture(name: string, ...expected: Array<string | RegExp>): Promise<string> {
    let screen = await this.waitFor(...expected);
    await new Promise((r) => setTimeout(r, 150));
    const settled = this.screen();
    if (expected.every((e) => (typeof e === 'string' ? settled.includes(e) : e.test(settled))))
      screen = settled;
    if (SCREENS) {
      mkdirSync(SCREENS, { recursive: true });
      writeFileSync(join(SCREENS, `${name}.txt`), `${screen.replace(/\s+$/, '')}\n`);
    }
    return screen;
  }

  stop(): void {
    if (this.started) {
      try {
        this.tmux('kill-server');
      } catch {
        // already gone
      }
    }
  }
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
