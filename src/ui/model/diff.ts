/** A unified diff (as the engine renders it) split into typed lines, for colouring. */

export type DiffLineKind = 'file' | 'hunk' | 'add' | 'del' | 'ctx' | 'meta';

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}

export function diffLines(text: string): DiffLine[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines
    .filter((l) => !/^={10,}$/.test(l) && !l.startsWith('Index: '))
    .map((l): DiffLine => {
      if (l.startsWith('+++') || l.startsWith('---')) return { kind: 'file', text: l };
      if (l.startsWith('@@')) return { kind: 'hunk', text: l };
      if (l.startsWith('+')) return { kind: 'add', text: l };
      if (l.startsWith('-')) return { kind: 'del', text: l };
      if (l.startsWith('\\')) return { kind: 'meta', text: l };
      return { kind: 'ctx', text: l };
    });
}
