import { afterEach, describe, expect, it } from 'vitest';
import {
  parseCommandLine,
  programNameFor,
  renderHelp,
  setProgramName,
  withProgramName,
} from '../../../src/cli/args.js';
import { rootSpec } from '../../../src/cli.js';

afterEach(() => setProgramName('kube-harden'));

describe('program name (kube-harden or kubectl harden)', () => {
  it('follows the executable name', () => {
    expect(programNameFor('/usr/local/bin/kubectl-harden')).toBe('kubectl harden');
    expect(programNameFor('/home/me/.krew/bin/kubectl-harden')).toBe('kubectl harden');
    expect(programNameFor('/pkg/bin/kubectl-harden.js')).toBe('kubectl harden');
    expect(programNameFor('C:\\tools\\kubectl-harden.exe')).toBe('kubectl harden');
    expect(programNameFor('/pkg/bin/kube-harden.js')).toBe('kube-harden');
    expect(programNameFor('/usr/local/bin/kubectl-hardener')).toBe('kube-harden');
    expect(programNameFor(undefined)).toBe('kube-harden');
  });

  it('help, usage errors and hints say `kubectl harden` as a plugin, but not other uses of the name', () => {
    setProgramName('kubectl harden');
    const help = withProgramName(renderHelp(rootSpec, []), rootSpec);
    expect(help).toContain('  kubectl harden COMMAND [flags]');
    expect(help).toContain('  kubectl harden report --manifests examples/legacy-cluster');
    expect(help).not.toMatch(/kube-harden (report|COMMAND|\[)/);
    expect(withProgramName('field manager kube-harden, `kube-harden undo`', rootSpec)).toBe(
      'field manager kube-harden, `kubectl harden undo`',
    );
    expect(() => parseCommandLine(['report', '--frob'], rootSpec)).toThrow(
      'unknown flag --frob for "kubectl harden report"',
    );
  });

  it('is kube-harden by default', () => {
    expect(withProgramName(renderHelp(rootSpec, []), rootSpec)).toContain('  kube-harden COMMAND [flags]');
  });
});
