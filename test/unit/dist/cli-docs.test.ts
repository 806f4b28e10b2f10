import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHelp } from '../../../src/cli/args.js';
import { cliMarkdown } from '../../../src/cli/docs.js';
import { rootSpec } from '../../../src/cli.js';
import { repoRoot } from '../../support/cli.js';

describe('docs/cli.md', () => {
  it('is generated from the command table (run `npm run docs:cli` after changing a command or flag)', () => {
    const onDisk = readFileSync(join(repoRoot, 'docs', 'cli.md'), 'utf8');
    expect(onDisk === cliMarkdown(), 'docs/cli.md is out of date: run `npm run docs:cli`').toBe(true);
  });

  it('holds every command and the same help text', () => {
    const doc = cliMarkdown();
    for (const sub of rootSpec.subcommands ?? []) {
      expect(doc).toContain(`## kube-harden ${sub.name}\n`);
      expect(doc).toContain(renderHelp(sub, [sub.name]).trimEnd());
    }
  });
});
