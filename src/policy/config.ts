/**
 * The kube-harden config file (`--config FILE`): today only namespace tier overrides.
 *
 * ```yaml
 * apiVersion: kube-harden.io/v1alpha1
 * kind: Config
 * tiers:
 *   system: [kube-system, "calico-*"]
 *   infrastructure: [monitoring, "ingress-?"]
 *   application: [shop]
 * ```
 * Entries are namespace names or globs (`*` any run of characters, `?` one character). An exact name beats a
 * glob; among globs the most specific (most literal characters) wins; a tie between tiers resolves to the stricter tier.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { describe, isObject, YamlInput } from './yaml-input.js';

export type Tier = 'system' | 'infrastructure' | 'application';
export const TIERS: readonly Tier[] = ['system', 'infrastructure', 'application'];

export interface TierPattern {
  pattern: string;
  tier: Tier;
  /** 1-based line in the config file. */
  line: number;
}

export interface KubeHardenConfig {
  file: string;
  tiers: TierPattern[];
}

const HINT =
  'See docs: a Config has apiVersion kube-harden.io/v1alpha1, kind Config and tiers {system, infrastructure, application}.';
/** A namespace name (DNS label) with `*` and `?` allowed anywhere. */
const PATTERN = /^[a-z0-9*?]([-a-z0-9*?]{0,61}[a-z0-9*?])?$/;

/** Parses a config file's text. Throws `InputError` with file and line. */
export function parseConfig(text: string | Uint8Array, file: string): KubeHardenConfig {
  const input = YamlInput.parse(text, file, 'Config', HINT);
  input.onlyFields(input.root, [], ['apiVersion', 'kind', 'tiers'], 'Config');
  const tiers: TierPattern[] = [];
  const raw = input.root.tiers;
  if (raw !== undefined && raw !== null) {
    if (!isObject(raw))
      throw input.error(['tiers'], `tiers must be a mapping of tier to names, not ${describe(raw)}`);
    input.onlyFields(raw, ['tiers'], TIERS, 'tiers');
    const exact = new Map<string, TierPattern>();
    for (const tier of TIERS) {
      const list = raw[tier];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) {
        throw input.error(
          ['tiers', tier],
          `tiers.${tier} must be a list of namespace names or globs, not ${describe(list)}`,
        );
      }
      list.forEach((pattern, i) => {
        const path = ['tiers', tier, i];
        if (typeof pattern !== 'string' || !PATTERN.test(pattern)) {
          throw input.error(
            path,
            `tiers.${tier}[${i}] must be a namespace name or glob (lower-case letters, digits, '-', '*', '?'), not ${describe(pattern)}`,
          );
        }
        const entry: TierPattern = { pattern, tier, line: input.line(path) };
        const previous = exact.get(pattern);
        if (previous) {
          throw input.error(
            path,
            `${JSON.stringify(pattern)} is listed under ${previous.tier} (line ${previous.line}) and ${tier}`,
            'A namespace belongs to one tier.',
          );
        }
        exact.set(pattern, entry);
        tiers.push(entry);
      });
    }
  }
  return { file, tiers };
}

/** Reads and parses a config file. */
export async function loadConfig(path: string): Promise<KubeHardenConfig> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`, {
      file: path,
      cause,
      hint: 'Pass --config with the path of a kube-harden Config file.',
    });
  }
  return parseConfig(bytes, path);
}

const globCache = new Map<string, RegExp>();

/** Whether a namespace name matches a name-or-glob pattern. */
export function matchesGlob(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === name;
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.replace(/[-]/g, '\\-').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    globCache.set(pattern, re);
  }
  return re.test(name);
}

const literal = (pattern: string): number => pattern.replace(/[*?]/g, '').length;

const STRICTNESS: Record<Tier, number> = { system: 0, infrastructure: 1, application: 2 };

/** The configured tier of a namespace, with the pattern that decided it. */
export function configuredTier(config: KubeHardenConfig, namespace: string): TierPattern | undefined {
  let best: TierPattern | undefined;
  for (const entry of config.tiers) {
    if (!matchesGlob(entry.pattern, namespace)) continue;
    if (entry.pattern === namespace) return entry;
    const diff = best ? literal(entry.pattern) - literal(best.pattern) : 1;
    if (!best || diff > 0 || (diff === 0 && STRICTNESS[entry.tier] > STRICTNESS[best.tier])) {
      best = entry;
    }
  }
  return best;
}
