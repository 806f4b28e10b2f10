import { apply } from './apply.js';
import { completion } from './completion.js';
import { exceptions } from './exceptions.js';
import { migrate } from './migrate.js';
import { plan } from './plan.js';
import { preflight } from './preflight.js';
import { report } from './report.js';
import { runs, undo } from './runs.js';
import { schedule } from './schedule.js';
import { steps } from './steps.js';
import type { Command } from './types.js';

/** Every command, in the order `--help` lists them. */
export const commands: Command[] = [
  report,
  plan,
  apply,
  migrate,
  runs,
  undo,
  exceptions,
  schedule,
  preflight,
  steps,
  completion,
];
