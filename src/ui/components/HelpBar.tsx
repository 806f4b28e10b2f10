import { Text } from 'ink';
import { barItems, GLOBAL_KEYS, type KeyBinding } from '../keymap.js';
import { useColor } from '../wizard-context.js';

export interface HelpBarProps {
  /** The screen's bindings (the global ones follow). */
  bindings: readonly KeyBinding[];
  /** The global keys to show after the screen's. @default GLOBAL_KEYS */
  global?: readonly KeyBinding[];
  width: number;
}

/** One line of keys, drawn from the keymap data; keys that do not fit are left out, `? help` always stays. */
export function HelpBar({ bindings, global = GLOBAL_KEYS, width }: HelpBarProps) {
  const c = useColor();
  const items = barItems(bindings, global);
  const help = items.find((i) => i.text === '? help');
  const rest = items.filter((i) => i !== help);
  const shown: typeof items = [];
  let used = help ? help.text.length : 0;
  for (const item of rest) {
    const cost = item.text.length + 2;
    if (used + cost > width) continue;
    shown.push(item);
    used += cost;
  }
  if (help) shown.push(help);
  return (
    <Text wrap="truncate-end">
      {shown.map((item, i) => (
        <Text key={item.text} color={item.dangerous ? c('red') : c('gray')}>
          {i > 0 ? '  ' : ''}
          {item.text}
        </Text>
      ))}
    </Text>
  );
}
