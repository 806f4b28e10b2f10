import { preflight } from './preflight.js';
import type { Command } from './types.js';

/** Every command, in the order `--help` lists them. */
export const commands: Command[] = [preflight];
