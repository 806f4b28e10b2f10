/**
 * Rewrite only the lines that changed. Stock Ink (6.8, standard mode) redraws its whole live area on every update:
 * it erases the previous frame line by line and writes the new one. A keypress in the wizard changes two or three
 * lines of a screenful, so this stream wrapper turns each such "erase N lines + frame" write into "cursor up to
 * the frame's top, rewrite the changed lines, step over the others" — a few hundred bytes instead of a screen.
 *
 * Ink's own `incrementalRendering` option is not used: in 6.8 its cursor arithmetic is one row off whenever a
 * frame ends in a newline (every frame shorter than the terminal does), which leaves stale lines behind.
 *
 * The wrapper only acts on writes it recognizes (Ink's erase prefix for exactly the frame it last saw, then a
 * frame ending in a newline); anything else goes through untouched and resets what it knows, so a surprise costs
 * a full redraw, never a wrong screen.
 */

const ESC = '\u001B[';
/** Ink's eraseLines(n) (ansi-escapes): n × erase-line with cursor-up in between, then cursor to column 1. */
const ERASE_PREFIX = /^((?:\u001B\[2K\u001B\[1A)*\u001B\[2K\u001B\[G)/;
/** Cursor show/hide, synchronized-output begin/end, and other private modes: not frames. */
const CONTROL = /^(?:\u001B\[\?\d+[hl])+$/;

export class FrameDiffer {
  /** The lines of the frame on screen; the cursor is on the row below its last line. */
  private lines: string[] | undefined;

  transform(chunk: string): string {
    if (chunk === '' || CONTROL.test(chunk)) return chunk;
    const prefix = ERASE_PREFIX.exec(chunk)?.[1] ?? '';
    const erased = prefix ? prefix.split(`${ESC}2K`).length - 1 : 0;
    const body = chunk.slice(prefix.length);
    if (!body.endsWith('\n')) {
      // An erase alone (Ink clearing before other output), or something that is not a frame.
      this.lines = undefined;
      return chunk;
    }
    const next = body.slice(0, -1).split('\n');
    const previous = this.lines;
    this.lines = next;
    // Ink erases previous-line-count + 1 lines (the frame and the row below it, where the cursor is).
    if (!previous || erased !== previous.length + 1) return chunk;
    const out: string[] = [previous.length > 0 ? `${ESC}${previous.length}A\r` : '\r'];
    for (let i = 0; i < next.length; i++) {
      const line = next[i] as string;
      // Erase first, then write: erasing after a full-width line would eat its last character.
      out.push(line === previous[i] ? '\n' : `${ESC}2K${line}\n`);
    }
    if (next.length < previous.length) out.push(`${ESC}J`);
    return out.join('');
  }
}

/** `stdout`, with frame writes rewritten by a FrameDiffer; everything else is the stream itself. */
export function diffingStream(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
  const differ = new FrameDiffer();
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const text = typeof chunk === 'string' ? differ.transform(chunk) : chunk;
    return (stdout.write as (c: unknown, e?: unknown, cb?: unknown) => boolean)(text, encoding, callback);
  };
  return new Proxy(stdout, {
    get(target, property) {
      if (property === 'write') return write;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
