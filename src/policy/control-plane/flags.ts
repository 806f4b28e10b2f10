/** kube-apiserver command lines as flag maps (pure). */

/**
 * `--name=value`, `--name value` and bare `--name` (= `true`), in order; the last occurrence of a flag wins (as in
 * pflag). Tokens that are not flags (the binary itself) are skipped.
 */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (!token.startsWith('--')) continue;
    const body = token.slice(2);
    const eq = body.indexOf('=');
    if (eq >= 0) {
      out.set(body.slice(0, eq), body.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      out.set(body, next);
      i++;
    } else out.set(body, 'true');
  }
  return out;
}

/** A flag's value as a boolean (`true`, `false`), or undefined when absent or not a boolean. */
export function boolFlag(flags: ReadonlyMap<string, string>, name: string): boolean | undefined {
  const v = flags.get(name)?.toLowerCase();
  return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : undefined;
}
