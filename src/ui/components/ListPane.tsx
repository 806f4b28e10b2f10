import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { ListHandle } from '../hooks/use-list.js';
import { clip } from '../model/format.js';
import { useColor } from '../wizard-context.js';
import { VirtualList } from './VirtualList.js';

export interface ListPaneProps<T> {
  /** The column head, one line (clipped to `width`). */
  head: string;
  items: readonly T[];
  list: ListHandle;
  /** Lines the rows take. */
  height: number;
  /** Shown when there are no rows. */
  empty: string;
  /** A row's cells; the pane puts the cursor mark (`› `) before them and bolds the cursor row. */
  renderRow: (item: T, selected: boolean) => ReactNode;
  /** The cursor row's detail, shown under the rows: its first `detailLines` lines. */
  detail: readonly string[];
  detailLines: number;
  width: number;
}

/** A screen's table: its column head, the visible rows of a virtualized list, and the cursor row's detail. */
export function ListPane<T>({
  head,
  items,
  list,
  height,
  empty,
  renderRow,
  detail,
  detailLines,
  width,
}: ListPaneProps<T>) {
  const c = useColor();
  return (
    <>
      <Text bold wrap="truncate-end">
        {clip(head, width)}
      </Text>
      <Box height={height} flexDirection="column">
        <VirtualList
          items={items}
          start={list.start}
          end={list.end}
          cursor={list.state.cursor}
          empty={empty}
          renderRow={(item, _i, sel) => (
            <Text wrap="truncate-end" bold={sel}>
              {sel ? '› ' : '  '}
              {renderRow(item, sel)}
            </Text>
          )}
        />
      </Box>
      <Text color={c('gray')}>
        {detail
          .slice(0, detailLines)
          .map((line) => clip(line, width) || ' ')
          .join('\n')}
      </Text>
    </>
  );
}
