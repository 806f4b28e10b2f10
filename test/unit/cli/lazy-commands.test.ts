/** The lazily loaded command table (src/commands/index.ts) and the full one (src/cli.ts) are the same table. */
import { describe, expect, test } from 'vitest';
import { commands, rootSpec } from '../../../src/cli.js';
import { COMMAND_NAMES, isCommandName, loadCommand } from '../../../src/commands/index.js';

describe('lazy command table', () => {
  test('names every command of the full table, in the order --help lists them', () => {
    expect(COMMAND_NAMES).toEqual((rootSpec.subcommands ?? []).map((s) => s.name));
  });

  test('loads for each name the very command of the full table', async () => {
    for (const name of COMMAND_NAMES) {
      const command = await loadCommand(name);
      expect(command, name).toBe(commands.find((c) => c.spec.name === name));
    }
  });

  test('a word that is not a command (or an inherited property) is not one', () => {
    for (const word of ['frob', 'toString', '__proto__', 'constructor', '', undefined])
      expect(isCommandName(word), String(word)).toBe(false);
  });
});
