import { Box, Text } from 'ink';
import type { DiffLine } from '../model/diff.js';
import { clip } from '../model/format.js';
import { useColor } from '../wizard-context.js';

/** A line of the diff view's scrollable content: diff lines, or warnings and notes above them. */
export type ViewLine = DiffLine | { kind: 'warning' | 'note' | 'error' | 'blank' | 'title'; text: string };

const COLORS: Partial<Record<ViewLine['kind'], string>> = {
  add: 'green',
  del: 'red',
  hunk: 'cyan',
  file: 'gray',
  meta: 'gray',
  warning: 'yellow',
  error: 'red',
  note: 'gray',
};

export interface DiffViewProps {
  lines: readonly ViewLine[];
  offset: number;
  height: number;
  width: number;
}

/** The visible window of a coloured unified diff; `+`/`-` stay in the text, so it reads without colour too. */
export function DiffView({ lines, offset, height, width }: DiffViewProps) {
  const c = useColor();
  const shown = lines.slice(offset, offset + height);
  return (
    <Box flexDirection="column">
      {shown.map((line, i) => (
        <Text
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in a window
          key={offset + i}
          color={COLORS[line.kind] ? c(COLORS[line.kind] as string) : undefined}
          bold={line.kind === 'title'}
        >
          {line.text === '' ? ' ' : clip(line.text, width)}
        </Text>
      ))}
    </Box>
  );
}
