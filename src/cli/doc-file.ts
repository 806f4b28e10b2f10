/**
 * What the generated reference pages (docs/cli.md, docs/controls.md) share: GitHub's heading anchors, and writing
 * the page when its module is run as a script (`npm run docs:cli`, `npm run docs:controls`).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
export function markdownAnchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

/** When the module at `moduleUrl` is the script being run, write `render()` to `path()` and say so. */
export function writeWhenRun(moduleUrl: string, path: () => string, render: () => string): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  writeFileSync(path(), render());
  process.stdout.write(`wrote ${path()}\n`);
}
