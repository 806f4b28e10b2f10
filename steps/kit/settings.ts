/**
 * Step settings: parsers for the kinds of value steps take, reading a setting with its default, and the one-line
 * description of a phase's settings the wizard shows. The declarations live in each step (`Step.settings`); the
 * command line turns them into flags and validates them in one place (src/cli/args.ts `parseSettingFlags`).
 */
import type { SettingParse, SettingSpec, Step, StepOptions } from '../../src/engine/types.js';
import { daysOf } from '../../src/policy/exceptions.js';

const ok = <T>(value: T): SettingParse<T> => ({ ok: true, value });

/** A number of days, as `--within` takes it: `30`, `30d` or `4w` (up to 4 digits). */
export function parseDays(text: string): SettingParse<number> {
  const days = daysOf(text);
  if (days === undefined) return { ok: false, error: 'is not a number of days', hint: 'use e.g. 14d or 2w' };
  return ok(days);
}

/** One of `choices`. */
export function parseChoice<C extends string>(choices: readonly C[]): (text: string) => SettingParse<C> {
  return (text) =>
    (choices as readonly string[]).includes(text)
      ? ok(text as C)
      : { ok: false, error: 'is not allowed', hint: `use one of: ${choices.join(', ')}` };
}

/** A setting's value in these options: the parsed value, else its parsed default, else undefined. */
export function settingOf<T>(spec: SettingSpec<T>, options: Pick<StepOptions, 'settings'>): T | undefined {
  if (Object.hasOwn(options.settings, spec.key)) return options.settings[spec.key] as T;
  if (spec.default === undefined) return undefined;
  const parsed = spec.parse(spec.default);
  if (!parsed.ok) throw new Error(`bug: the default "${spec.default}" of ${spec.key} ${parsed.error}`);
  return parsed.value;
}

/**
 * The settings of some steps and the values in effect, for the wizard, e.g.
 * `settings: --audit-only-max-age 30d (psa-enforce) · --target not set (psa-migrate)`; empty when the steps have
 * none.
 */
export function describeSettings(
  steps: readonly Pick<Step, 'id' | 'settings'>[],
  settings: Record<string, unknown> = {},
): string {
  const parts = steps.flatMap((step) =>
    (step.settings ?? []).map((spec) => {
      const given = Object.hasOwn(settings, spec.key) ? String(settings[spec.key]) : spec.default;
      return `--${spec.flag} ${given ?? 'not set'} (${step.id})`;
    }),
  );
  return parts.length ? `settings: ${parts.join(' · ')}` : '';
}
