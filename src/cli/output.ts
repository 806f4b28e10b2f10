/** Terminal output helpers for the headless face: colour only on a TTY, never when NO_COLOR or --no-color. */
import { isDebug, type KubeHardenError } from '../errors.js';

export interface Output {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  color: boolean;
  /** Progress on stderr: a live line on a terminal, throttled lines otherwise. */
  progress(line: string): void;
  /** Clear the live progress line. */
  endProgress(): void;
}

export function makeOutput(options: { noColor?: boolean } = {}): Output {
  const color =
    !options.noColor &&
    !process.env.NO_COLOR &&
    process.env.FORCE_COLOR !== '0' &&
    Boolean((process.stdout as { isTTY?: boolean }).isTTY);
  const errTTY = Boolean((process.stderr as { isTTY?: boolean }).isTTY);
  let shown = false;
  let lastAt = 0;
  return {
    out: process.stdout,
    err: process.stderr,
    color,
    progress(line: string) {
      // A terminal gets one live line; logs get at most one line every 2 s.
      const now = Date.now();
      if (errTTY) {
        process.stderr.write(`\r\x1b[2K${line}`);
        shown = true;
      } else if (now - lastAt >= 2000) {
        process.stderr.write(`${line}\n`);
        lastAt = now;
      }
    },
    endProgress() {
      if (errTTY && shown) process.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}

const codes = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const;
export type Style = keyof typeof codes;

export function paint(enabled: boolean, style: Style, text: string): string {
  return enabled ? `\x1b[${codes[style]}m${text}\x1b[0m` : text;
}

/** `error: message` + `  hint: …`, the one-line form every expected error takes. */
export function formatError(error: KubeHardenError | Error, color: boolean): string {
  const hint = (error as KubeHardenError).hint;
  let text = `${paint(color, 'red', 'error:')} ${error.message}\n`;
  if (hint) text += `${paint(color, 'dim', '  hint:')} ${hint}\n`;
  if (isDebug() && error.stack) text += `${error.stack}\n`;
  return text;
}
