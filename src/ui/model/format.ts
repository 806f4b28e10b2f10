/** Text helpers for the wizard's screens: every string from the cluster goes through `fit` or `wrapText`. */
import type { SourceInfo } from '../../k8s/types.js';
import { clean } from '../../report/format.js';

/** One line, control characters escaped, cut to `width` columns with `…`. */
export function clip(text: string, width: number): string {
  const line = clean(text.replace(/\s*\n\s*/g, ' '));
  if (width <= 0) return '';
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** `fit`, then padded to exactly `width` columns. */
export function cell(text: string, width: number): string {
  return clip(text, width).padEnd(width);
}

/** Greedy word wrap to `width` columns (long words are split), at most `maxLines` lines (the last ends in `…`). */
export function wrapText(text: string, width: number, maxLines = Number.POSITIVE_INFINITY): string[] {
  const w = Math.max(10, width);
  const lines: string[] = [];
  for (const paragraph of clean(text).split('\n')) {
    let line = '';
    for (let word of paragraph.split(/\s+/).filter(Boolean)) {
      while (word.length > w) {
        if (line) {
          lines.push(line);
          line = '';
        }
        lines.push(word.slice(0, w));
        word = word.slice(w);
      }
      if (line && line.length + 1 + word.length > w) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = clip(`${kept[maxLines - 1] ?? ''} …`, w);
    return kept;
  }
  return lines;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** `context admin (https://…)` or `manifests examples/legacy-cluster`. */
export function describeSource(source: SourceInfo | undefined): string {
  if (!source) return 'not connected';
  return source.kind === 'cluster' ? `context ${source.context}` : `manifests ${source.path}`;
}

/** Quote a shell word when it needs it. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The exact command that undoes a run from a shell. */
export function undoCommand(runId: string, source: SourceInfo | undefined, kubeconfig?: string): string {
  const parts = ['kube-harden', 'undo', runId];
  if (kubeconfig) parts.push('--kubeconfig', kubeconfig);
  if (source?.kind === 'cluster') parts.push('--context', source.context);
  return parts.map(shellWord).join(' ');
}
