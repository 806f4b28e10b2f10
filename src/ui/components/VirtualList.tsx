import { Box, Text } from 'ink';
import type { ReactNode } from 'react';

export interface VirtualListProps<T> {
  items: readonly T[];
  /** First row mounted (from useList). */
  start: number;
  /** One past the last row mounted. */
  end: number;
  cursor: number;
  /** One line per row; `selected` is the cursor row. */
  renderRow: (item: T, index: number, selected: boolean) => ReactNode;
  /** Shown when there are no rows. @default 'nothing to show' */
  empty?: string;
}

/** Mounts only the visible rows: a 10,000-row list renders (and re-renders) like a 20-row one. */
export function VirtualList<T>({
  items,
  start,
  end,
  cursor,
  renderRow,
  empty = 'nothing to show',
}: VirtualListProps<T>) {
  if (items.length === 0) return <Text dimColor>{empty}</Text>;
  const rows: ReactNode[] = [];
  for (let i = start; i < end; i++) {
    const item = items[i] as T;
    rows.push(<Box key={i}>{renderRow(item, i, i === cursor)}</Box>);
  }
  return <Box flexDirection="column">{rows}</Box>;
}
