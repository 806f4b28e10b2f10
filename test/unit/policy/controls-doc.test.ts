import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlsMarkdown } from '../../../src/cli/controls-doc.js';
import { CONTROLS } from '../../../src/policy/controls.js';
import { repoRoot } from '../../support/cli.js';

describe('docs/controls.md', () => {
  it('is generated from the control catalog (run `npm run docs:controls` after changing a control or a step)', () => {
    const onDisk = readFileSync(join(repoRoot, 'docs', 'controls.md'), 'utf8');
    expect(
      onDisk === controlsMarkdown(),
      'docs/controls.md is out of date: run `npm run docs:controls`',
    ).toBe(true);
  });

  it('has one row per control, in its phase, with the steps that fix it', () => {
    const doc = controlsMarkdown();
    for (const c of CONTROLS)
      expect(doc.split('\n').filter((l) => l.startsWith(`| \`${c.id}\` |`))).toHaveLength(1);
    expect(doc).toContain(
      '| `KH-PSS-PRIVILEGED-IN-APP-NS` | medium | 2 · `privileged-isolate` (manual) | Workload that needs Pod Security privileged shares an application namespace |',
    );
    expect(doc).toContain('| `KH-POD-NO-LIMITS` | low | 2 · `resource-limits` (opt-in) |');
    expect(doc).toContain('| `KH-APISERVER-PUBLIC` | high | 6 · by hand (see next step) |');
    expect(doc).toContain('| `KH-IMAGE-LATEST` | medium | — · none: the owner changes it |');
    // Phases in rollout order, "no phase" last.
    const headings = doc.split('\n').filter((l) => l.startsWith('## '));
    expect(headings[0]).toBe('## Phase 0: Inventory (read-only)');
    expect(headings.at(-1)).toBe('## No phase: changed by the owner');
  });
});
