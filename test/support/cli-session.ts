/**
 * The CLI as one operator on the test control plane: a state directory of its own (XDG_STATE_HOME: runs, journals)
 * and the admin kubeconfig. Call it at the top of a describe block: both are set before the block's tests (and
 * before its own beforeAll hooks, registered after this one).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import { clusterInfo } from '../cluster/harness.js';

export interface CliSession {
  /** The state directory (fresh per describe block). */
  readonly state: string;
  readonly kubeconfig: string;
  /** The environment for runCli: the session's state directory. */
  env(): Record<string, string>;
}

export function cliSession(): CliSession {
  let state = '';
  let kubeconfig = '';
  beforeAll(() => {
    state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    kubeconfig = clusterInfo().adminKubeconfig;
  });
  return {
    get state() {
      return state;
    },
    get kubeconfig() {
      return kubeconfig;
    },
    env: () => ({ XDG_STATE_HOME: state }),
  };
}
