/** `kube-harden steps`: the rollout, in order (what the wizard walks and `plan --step` names). */
import { STEPS } from '../../steps/index.js';
import { outputFlag } from '../cli/args.js';
import type { Step } from '../engine/types.js';
import { ExitCode } from '../errors.js';
import type { Command } from './types.js';

/** One step of `kube-harden steps -o json`. */
export interface StepListing {
  id: string;
  phase: number;
  title: string;
  risk: Step['risk'];
  /** Planned only when named (`--step ID`), never by "all steps". */
  optIn: boolean;
  /** The step ids it builds on (applied first). */
  needs: string[];
}

export function listSteps(
  steps: readonly Pick<Step, 'id' | 'phase' | 'title' | 'risk' | 'optIn' | 'needs'>[] = STEPS,
): StepListing[] {
  return steps.map((s) => ({
    id: s.id,
    phase: s.phase,
    title: s.title,
    risk: s.risk,
    optIn: s.optIn === true,
    needs: [...(s.needs ?? [])],
  }));
}

export function renderStepsText(list: readonly StepListing[]): string {
  const rows = list.map((s) => [
    String(s.phase),
    s.id,
    s.risk,
    `${s.title}${s.optIn ? ' (opt-in: --step only)' : ''}`,
    s.needs.length ? `after ${s.needs.join(', ')}` : '',
  ]);
  const head = ['PHASE', 'STEP', 'RISK', 'TITLE', 'NEEDS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

export const steps: Command = {
  spec: {
    name: 'steps',
    summary: 'List the rollout: every step in order, with its phase, risk and what it builds on',
    usage: '[-o text|json]',
    description: `The steps in rollout order (the order "all steps" plans them and the wizard walks them). -o json prints an
array of {id, phase, title, risk, optIn, needs}: needs lists the step ids a step builds on.`,
    flags: [outputFlag(['text', 'json'])],
    maxPositionals: 0,
    examples: ['kube-harden steps', 'kube-harden steps -o json'],
  },
  async run({ parsed, output }) {
    const list = listSteps();
    output.out.write(
      parsed.flags.output === 'json' ? `${JSON.stringify(list, null, 2)}\n` : renderStepsText(list),
    );
    return ExitCode.ok;
  },
};
