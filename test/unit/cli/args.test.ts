import { describe, expect, it } from 'vitest';
import { parseCommandLine, parseDuration, renderHelp } from '../../../src/cli/args.js';
import { rootSpec } from '../../../src/cli.js';
import { ExitCode, UsageError } from '../../../src/errors.js';

describe('command line', () => {
  it('rejects unknown commands and flags as usage errors (exit 2) with a hint', () => {
    expect(() => parseCommandLine(['frobnicate'], rootSpec)).toThrow(UsageError);
    try {
      parseCommandLine(['preflight', '--frob'], rootSpec);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).exitCode).toBe(ExitCode.usage);
      expect((e as UsageError).message).toBe('unknown flag --frob for "kube-harden preflight"');
    }
  });

  it('checks choices and missing values', () => {
    expect(() => parseCommandLine(['preflight', '-o', 'yaml'], rootSpec)).toThrow(
      /invalid value "yaml" for --output/,
    );
    expect(() => parseCommandLine(['preflight', '--context'], rootSpec)).toThrow(
      /--context.*needs a value|argument missing/,
    );
  });

  it('parses kubectl-style flags in either position', () => {
    const p = parseCommandLine(['--context=prod', 'preflight', '--request-timeout', '5s'], rootSpec);
    expect(p.path).toEqual(['preflight']);
    expect(p.flags.context).toBe('prod');
    expect(p.flags['request-timeout']).toBe('5s');
  });

  it('help lists every command and flag', () => {
    const help = renderHelp(rootSpec, []);
    for (const sub of rootSpec.subcommands ?? []) expect(help).toContain(sub.name);
    const sub = rootSpec.subcommands?.find((s) => s.name === 'preflight');
    const text = renderHelp(sub!, ['preflight']);
    for (const f of ['--kubeconfig', '--context', '--request-timeout', '--help']) expect(text).toContain(f);
  });

  it('durations', () => {
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('1m30s', 'x')).toBe(90_000);
    expect(parseDuration('14d', 'x')).toBe(14 * 86_400_000);
    expect(parseDuration('45', 'x')).toBe(45_000);
    expect(() => parseDuration('soon', 'x')).toThrow(UsageError);
  });
});
