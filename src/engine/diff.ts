/** Unified diffs of normalized objects (the `diff` package), with +/- counts. */
import { createTwoFilesPatch } from 'diff';
import type { KubeObject, ObjectRef } from '../k8s/types.js';
import { maskSecretPair, normalize, toYaml } from './normalize.js';
import type { DiffSummary } from './types.js';

function label(ref: ObjectRef): string {
  return `${ref.apiVersion}/${ref.kind}${ref.namespace ? `/${ref.namespace}` : ''}/${ref.name}`;
}

/** Diff two objects (either may be absent: create / delete), normalized and Secret-masked. */
export function diffObjects(
  ref: ObjectRef,
  before: KubeObject | undefined,
  after: KubeObject | undefined,
): DiffSummary {
  const [b, a] = maskSecretPair(normalize(before), normalize(after));
  const left = b ? toYaml(b) : '';
  const right = a ? toYaml(a) : '';
  if (left === right) return { text: '', added: 0, removed: 0 };
  const name = label(ref);
  const text = createTwoFilesPatch(
    before ? `live/${name}` : '/dev/null',
    after ? `proposed/${name}` : '/dev/null',
    left,
    right,
    '',
    '',
    {
      context: 3,
    },
  );
  let added = 0;
  let removed = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++')) added++;
    else if (line.startsWith('-') && !line.startsWith('---')) removed++;
  }
  // Drop the "Index:"/"====" preamble createTwoFilesPatch adds; keep ---/+++ headers.
  const body = text
    .replace(/^={67}\n/m, '')
    .replace(/^Index: .*\n/m, '')
    .replace(/^((?:---|\+\+\+) .*)\t$/gm, '$1');
  return { text: body, added, removed };
}
