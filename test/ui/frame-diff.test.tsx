/**
 * Only changed lines are rewritten: the wizard rendered by Ink's real (non-debug) renderer, once through the
 * FrameDiffer and once as stock Ink, into a small terminal emulator — after every key both terminals show the same
 * screen, and the diffed one got far fewer bytes.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Ink reads CI when it is first imported (CI: no live frames at all); this file needs live frames.
vi.hoisted(() => {
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
});

import { render } from 'ink';
import { App } from '../../src/ui/App.js';
import { diffingStream, FrameDiffer } from '../../src/ui/frame-diff.js';
import { bigSnapshot, snapshotStore } from './support/fixtures.js';

/** Just enough of a VT100 for what Ink and the FrameDiffer write. */
class Screen {
  rows: string[] = [''];
  row = 0;
  col = 0;
  constructor(readonly width: number) {}
  private line(): string {
    while (this.rows.length <= this.row) this.rows.push('');
    return this.rows[this.row] as string;
  }
  private put(ch: string): void {
    const l = this.line().padEnd(this.col);
    this.rows[this.row] = l.slice(0, this.col) + ch + l.slice(this.col + 1);
    this.col = Math.min(this.col + 1, this.width);
  }
  write(data: string): void {
    for (let i = 0; i < data.length; i++) {
      const ch = data[i] as string;
      if (ch === '\u001B') {
        const m = /^\u001B\[(\??)(\d*)([A-Za-z])/.exec(data.slice(i));
        if (!m) throw new Error(`unknown escape at ${JSON.stringify(data.slice(i, i + 8))}`);
        i += m[0].length - 1;
        const n = Number(m[2] || '1');
        const op = m[3];
        if (m[1] === '?' || op === 'm') continue;
        if (op === 'A') this.row = Math.max(0, this.row - n);
        else if (op === 'B') this.row += n;
        else if (op === 'E') {
          this.row += n;
          this.col = 0;
        } else if (op === 'G') this.col = n - 1;
        else if (op === 'K' && m[2] === '2') this.rows[this.row] = '';
        else if (op === 'K') this.rows[this.row] = this.line().slice(0, this.col);
        else if (op === 'J') this.rows = [...this.rows.slice(0, this.row), this.line().slice(0, this.col)];
        else throw new Error(`unhandled escape ${m[0]}`);
      } else if (ch === '\n') {
        this.row++;
        this.col = 0;
        this.line();
      } else if (ch === '\r') this.col = 0;
      else this.put(ch);
    }
  }
  text(): string {
    return this.rows
      .map((r) => r.trimEnd())
      .join('\n')
      .trimEnd();
  }
}

class Terminal extends EventEmitter {
  readonly isTTY = true;
  bytes = 0;
  readonly screen: Screen;
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
    this.screen = new Screen(columns);
  }
  write = (chunk: string, encoding?: unknown, cb?: unknown): boolean => {
    this.bytes += Buffer.byteLength(chunk);
    this.screen.write(chunk);
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') done();
    return true;
  };
}

class Keyboard extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  press(seq: string): void {
    this.data = seq;
    this.emit('readable');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unmounts: Array<() => void> = [];
afterEach(() => {
  for (const u of unmounts.splice(0)) u();
});

function mount(diffed: boolean) {
  const terminal = new Terminal(80, 24);
  const keyboard = new Keyboard();
  const store = snapshotStore(bigSnapshot(200, 10));
  const stdout = terminal as unknown as NodeJS.WriteStream;
  const instance = render(
    <App store={store} options={{ readOnly: false, color: true, autoStart: false }} />,
    {
      stdout: diffed ? diffingStream(stdout) : stdout,
      stdin: keyboard as unknown as NodeJS.ReadStream,
      stderr: stdout,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  unmounts.push(() => instance.unmount());
  return { terminal, keyboard };
}

describe('FrameDiffer', () => {
  it('leaves anything it does not recognize alone', () => {
    const d = new FrameDiffer();
    expect(d.transform('\u001B[?25l')).toBe('\u001B[?25l');
    expect(d.transform('a\nb\n')).toBe('a\nb\n');
    // The erase count does not match the frame on screen: passed through as is
    const odd = '\u001B[2K\u001B[1A\u001B[2K\u001B[Gx\n';
    expect(d.transform(odd)).toBe(odd);
    // An erase alone forgets the frame
    expect(d.transform('\u001B[2K\u001B[1A\u001B[2K\u001B[G')).toBe('\u001B[2K\u001B[1A\u001B[2K\u001B[G');
    expect(d.transform('c\n')).toBe('c\n');
  });

  it('rewrites only the changed lines of a frame, and clears what a shorter frame leaves', () => {
    const d = new FrameDiffer();
    const erase = (n: number) => `${'\u001B[2K\u001B[1A'.repeat(n - 1)}\u001B[2K\u001B[G`;
    d.transform('one\ntwo\nthree\n');
    expect(d.transform(`${erase(4)}one\nTWO\nthree\n`)).toBe('\u001B[3A\r\n\u001B[2KTWO\n\n');
    expect(d.transform(`${erase(4)}one\n`)).toBe('\u001B[3A\r\n\u001B[J');
  });

  it('shows exactly what stock Ink shows, key after key, for a fraction of the bytes', async () => {
    const full = mount(false);
    const diff = mount(true);
    // Both apps settle at their own pace (a loaded machine may take far longer than a frame): wait until both
    // screens have stopped changing, then they must be the same.
    const settled = async () => {
      let last = '';
      let stable = 0;
      for (let waited = 0; waited < 5000 && stable < 3; waited += 40) {
        await sleep(40);
        const now = `${full.terminal.screen.text()}\u0000${diff.terminal.screen.text()}`;
        stable = now === last ? stable + 1 : 0;
        last = now;
      }
    };
    // Let both subscribe to their keyboard before the first key.
    await sleep(250);
    await settled();
    const keys = [
      '\r',
      '\r',
      '\u001B[B',
      '\u001B[B',
      '\u001B[6~',
      'x',
      '\u001B[F',
      '\u001B[A',
      'x',
      '\u001B[H',
      'n',
      '\u001B[B',
      '\r',
    ];
    const before = { full: full.terminal.bytes, diff: diff.terminal.bytes };
    for (const key of keys) {
      full.keyboard.press(key);
      diff.keyboard.press(key);
      await settled();
      expect(diff.terminal.screen.text()).toBe(full.terminal.screen.text());
    }
    expect(diff.terminal.screen.text()).toContain('namespace: kube-system');
    const spent = { full: full.terminal.bytes - before.full, diff: diff.terminal.bytes - before.diff };
    expect(spent.diff).toBeLessThan(spent.full / 2);
  });
});
