/**
 * Manual changes carry an artifact (a file the operator puts in place by hand: an audit policy, a kube-apiserver
 * flag snippet). Saving one writes it to a path the operator confirmed, never over an existing file unless they
 * said so.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { PlannedChange } from './types.js';

/** A file name that stays one name (no folders, no `..`, no control characters). */
function safeName(name: string, fallback: string): string {
  const cleaned = basename(name.replaceAll('\\', '/'))
    .replace(/[\x00-\x1f\x7f]/g, '')
    .trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? fallback : cleaned;
}

/**
 * Where the wizard proposes to save a manual change's artifact: `kube-harden-artifacts/<step>/<file>` under the
 * current directory (as plan directories hold them under `artifacts/<step>/<file>`), relative for display.
 */
export function defaultArtifactPath(change: Pick<PlannedChange, 'id' | 'step' | 'artifact'>): string {
  const file = safeName(change.artifact?.path ?? '', `${safeName(change.id, 'artifact')}.txt`);
  return join('kube-harden-artifacts', safeName(change.step, 'step'), file);
}

export type SaveArtifactResult =
  | { saved: true; path: string; overwritten: boolean }
  /** Nothing written: the file exists and overwriting was not confirmed. */
  | { saved: false; path: string; exists: true };

/**
 * Writes `content` to `target` (relative to `cwd`), creating its folder. An existing file is left alone unless
 * `overwrite`; a folder is never replaced. The file is readable by its owner only (artifacts are control-plane
 * configuration).
 */
export async function saveArtifact(
  content: string,
  target: string,
  options: { overwrite?: boolean; cwd?: string } = {},
): Promise<SaveArtifactResult> {
  if (target.trim() === '') throw new UsageError('no path given', 'type the path to save the artifact to');
  const path = resolve(options.cwd ?? process.cwd(), target);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new UsageError(`${target} is a directory`, 'type a file name, e.g. ending in .yaml');
  }
  if (existing && !options.overwrite) return { saved: false, path, exists: true };
  await mkdir(dirname(path), { recursive: true });
  try {
    // `wx` also closes the window between the check above and the write.
    await writeFile(path, content, { flag: existing ? 'w' : 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { saved: false, path, exists: true };
    throw new UsageError(
      `cannot write ${target} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      'choose another path',
    );
  }
  return { saved: true, path, overwritten: existing !== undefined };
}
