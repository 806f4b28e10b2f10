import { Text } from 'ink';
import { clip } from '../model/format.js';
import { useColor } from '../wizard-context.js';

export interface TextInputProps {
  value: string;
  width: number;
  /** @default '> ' */
  prompt?: string;
}

/** The view of a one-line input (keys reach it through the screen's `onText`). */
export function TextInput({ value, width, prompt = '> ' }: TextInputProps) {
  const c = useColor();
  const room = Math.max(1, width - prompt.length - 1);
  const shown = value.length > room ? value.slice(value.length - room) : value;
  return (
    <Text>
      {prompt}
      <Text color={c('cyan')}>{clip(shown, room)}</Text>
      <Text>█</Text>
    </Text>
  );
}
