/** The root command's texts (`kube-harden --help`): shared by the full command table (src/cli.ts) and main(). */
import type { CommandSpec, FlagSpec } from './args.js';

export const versionFlag: FlagSpec = {
  name: 'version',
  short: 'v',
  type: 'boolean',
  description: 'print the version',
};

export const rootTexts: Omit<CommandSpec, 'flags' | 'subcommands'> = {
  name: 'kube-harden',
  summary:
    'kube-harden takes a Kubernetes cluster from deployed to hardened in safe, reviewable, undoable phases.',
  usage: '[flags]            the interactive wizard (in a terminal)\nCOMMAND [flags]',
  description: `Every phase previews its changes as a diff against the live objects (server-side dry-run, with the API
server's own warnings) and writes only what you confirm; every run can be undone.

Exit codes: 0 ok; 1 error or a failed change; 2 usage (or no terminal for the wizard); 3 kubeconfig; 4 cluster
unreachable; 5 credentials rejected or forbidden; 6 invalid input file; 7 incomplete (unknowns); 8 changes refused
(stale or conflicting); 9 \`exceptions review\`: an exception expired or is unused; 130 interrupted. \`plan --detailed-exitcode\`: 0 no changes, 2 changes, 1 error.`,
  maxPositionals: 0,
  examples: [
    'kube-harden report --manifests examples/legacy-cluster',
    'kube-harden report --context prod --format json --out report.json',
  ],
};
