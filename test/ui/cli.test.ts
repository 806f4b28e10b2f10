/** `kube-harden` with no command: the wizard in a terminal; otherwise exit 2 with a one-line hint. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { isCi, isWizardInvocation, NO_TERMINAL_HINT } from '../../src/commands/wizard.js';

function capture() {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

afterEach(() => vi.unstubAllEnvs());

describe('the wizard entry point', () => {
  it('without a terminal, exits 2 with one line pointing to report, plan and apply --plan', async () => {
    const io = capture();
    expect(await main([])).toBe(2);
    expect(io.err()).toBe(NO_TERMINAL_HINT);
    expect(io.err().trim().split('\n')).toHaveLength(1);
    expect(io.err()).toMatch(/report.*plan --out DIR.*apply --plan DIR/);
    expect(io.out()).toBe('');
  });

  it('takes the wizard flags (-n NS is not a command) and still checks them first', async () => {
    const io = capture();
    expect(await main(['-n', 'shop', '--read-only', '--no-color'])).toBe(2);
    expect(io.err()).toBe(NO_TERMINAL_HINT);
    expect(await main(['--out', '/tmp/x'])).toBe(2);
    expect(io.err()).toContain('--out works with --manifests');
    expect(await main(['--manifests', 'examples/legacy-cluster', '--out', 'examples/legacy-cluster/x'])).toBe(
      2,
    );
    expect(io.err()).toContain('--out must not be inside the --manifests directory');
  });

  it('keeps --help and --version working, and unknown words are unknown commands', async () => {
    const io = capture();
    expect(await main(['--help'])).toBe(0);
    expect(io.out()).toContain('kube-harden [flags]            the interactive wizard (in a terminal)');
    expect(io.out()).toContain('--read-only');
    expect(io.out()).toMatch(/Commands:\n {2}report/);
    expect(await main(['--version'])).toBe(0);
    expect(io.out()).toMatch(/kube-harden \d+\.\d+\.\d+/);
    expect(await main(['frobnicate'])).toBe(2);
    expect(io.err()).toContain('unknown command "frobnicate"');
  });

  it('tells a command word from flag values', () => {
    expect(isWizardInvocation([])).toBe(true);
    expect(isWizardInvocation(['-n', 'report', '--context', 'prod'])).toBe(true);
    expect(isWizardInvocation(['--context=prod', '--read-only'])).toBe(true);
    expect(isWizardInvocation(['--context', 'prod', 'report'])).toBe(false);
    expect(isWizardInvocation(['report'])).toBe(false);
    expect(isWizardInvocation(['frob'])).toBe(false);
  });

  it('treats CI like Ink does', () => {
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: 'false' })).toBe(false);
    expect(isCi({ CI: '0' })).toBe(false);
    expect(isCi({ CONTINUOUS_INTEGRATION: '1' })).toBe(true);
    expect(isCi({})).toBe(false);
  });
});
