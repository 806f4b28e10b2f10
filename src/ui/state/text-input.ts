/** A one-line text input (the typed confirmation), as a pure reducer. */

export type TextInputAction = { type: 'insert'; text: string } | { type: 'backspace' } | { type: 'clear' };

/** Printable text only: a paste with escapes or newlines cannot smuggle control characters into the value. */
export function textInputReducer(value: string, action: TextInputAction): string {
  switch (action.type) {
    case 'insert':
      return value + action.text.replace(/[\x00-\x1f\x7f-\x9f]/g, '');
    case 'backspace':
      return [...value].slice(0, -1).join('');
    case 'clear':
      return '';
  }
}
