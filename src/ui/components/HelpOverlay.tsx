import { Box, Text } from 'ink';
import { displayKey, GLOBAL_KEYS, type KeyBinding } from '../keymap.js';
import { clip } from '../model/format.js';
import { useColor } from '../wizard-context.js';

export interface HelpOverlayProps {
  title: string;
  bindings: readonly KeyBinding[];
  width: number;
  height: number;
}

/** Every key of the screen and the global keys, from the keymap data; keys with one action share a line. */
export function HelpOverlay({ title, bindings, width, height }: HelpOverlayProps) {
  const c = useColor();
  const rows: Array<{ keys: string; description: string; dangerous: boolean }> = [];
  for (const b of [...bindings, ...GLOBAL_KEYS.filter((g) => !bindings.some((s) => s.key === g.key))]) {
    const same = rows.find((r) => r.description === b.description);
    if (same) same.keys += ` ${displayKey(b.key)}`;
    else rows.push({ keys: displayKey(b.key), description: b.description, dangerous: b.dangerous === true });
  }
  const keyWidth = Math.min(16, Math.max(...rows.map((r) => r.keys.length), 4));
  const shown = rows.slice(0, Math.max(0, height - 2));
  return (
    <Box flexDirection="column">
      <Text bold>{clip(`Keys: ${title}`, width)}</Text>
      <Text> </Text>
      {shown.map((r) => (
        <Text key={r.keys + r.description} color={r.dangerous ? c('red') : undefined}>
          {clip(`${r.keys.padEnd(keyWidth)}  ${r.description}${r.dangerous ? '  (writes)' : ''}`, width)}
        </Text>
      ))}
    </Box>
  );
}
