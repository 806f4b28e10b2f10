/** Terminal output helpers for the headless face: colour only on a TTY, never when NO_COLOR or --no-color. */
import { isDebug, type KubeHardenError } from '../errors.js';
import { clean, paint } from '../report/format.js';

export { paint };

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

/** `error: message` + `  hint: …`, the one-line form every expected error takes. */
export function formatError(error: KubeHardenError | Error, color: boolean): string {
  const hint = (error as KubeHardenError).hint;
  // Server messages are data: control characters are shown escaped, never sent to the terminal.
  let text = `${paint(color, 'red', 'error:')} ${clean(error.message)}\n`;
  if (hint) text += `${paint(color, 'dim', '  hint:')} ${clean(hint)}\n`;
  if (isDebug() && error.stack) text += `${error.stack}\n`;
  return text;
}
