import { Box, Text } from 'ink';
import type { ListHandle } from '../hooks/use-list.js';
import type { Choice } from '../model/findings.js';
import { clip } from '../model/format.js';
import { useColor } from '../wizard-context.js';
import { VirtualList } from './VirtualList.js';

export interface PickerProps {
  title: string;
  choices: readonly Choice[];
  list: ListHandle;
  /** The value in effect, marked with `•`. */
  value: string | undefined;
  width: number;
}

/** A list to choose a filter value from (↑↓, Enter, Esc). */
export function Picker({ title, choices, list, value, width }: PickerProps) {
  const c = useColor();
  return (
    <Box flexDirection="column">
      <Text bold>{clip(title, width)}</Text>
      <VirtualList
        items={choices}
        start={list.start}
        end={list.end}
        cursor={list.state.cursor}
        renderRow={(choice, _i, selected) => (
          <Text color={selected ? c('cyan') : undefined} bold={selected}>
            {clip(`${selected ? '›' : ' '} ${choice.value === value ? '•' : ' '} ${choice.label}`, width)}
          </Text>
        )}
      />
    </Box>
  );
}
