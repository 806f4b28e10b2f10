/**
 * The wizard takes the steps' settings as `plan` does (e.g. phase 6's `--audit-tier`): the flag and its value keep
 * argv a wizard invocation, and a bad value is a usage error naming the flag, before any terminal check.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { isWizardInvocation, wizardFlags } from '../../src/commands/wizard.js';
import { ExitCode } from '../../src/errors.js';

afterEach(() => vi.restoreAllMocks());

describe('wizard step settings', () => {
  it('declares every step setting; --audit-tier VALUE is still the wizard', () => {
    const names = wizardFlags.map((f) => f.name);
    for (const flag of ['audit-tier', 'audit-sink', 'encryption-provider', 'netpol-same-namespace'])
      expect(names).toContain(flag);
    expect(isWizardInvocation(['--audit-tier', 'forensic', '-n', 'shop'])).toBe(true);
  });

  it('a bad value is a usage error naming the flag and the choices', async () => {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    expect(await main(['--audit-tier', 'everything'])).toBe(ExitCode.usage);
    expect(err).toContain('invalid value "everything" for --audit-tier');
    expect(err).toContain('minimal, standard, forensic');
  });
});
