/**
 * The CLI with the test-only steps known to `apply --plan`'s target check, for tests that apply saved plans of
 * `fixedStep` changes in a child process (crash and Ctrl-C tests). The product's entry point (bin/kube-harden.js)
 * never registers them.
 */

import { main } from '../../src/cli.js';
import { extraSteps } from '../../src/commands/apply.js';
import { fixedStep } from './test-steps.js';

extraSteps.push(fixedStep('t', 1, []));
const code = await main(process.argv.slice(2));
process.exitCode = code;
setTimeout(() => process.exit(code), 1500).unref();
