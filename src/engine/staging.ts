/**
 * File staging: a directory is written to a sibling first, then moved into place, so a failed or interrupted
 * write never leaves a half-written tree where the operator expects a complete one (and the previous tree, when
 * one is replaced, stays intact until the new one is complete).
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, rmdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

export interface StagingOptions {
  /**
   * `out` holds an earlier complete write of this session: replace it as a whole. Otherwise `out` must be new or
   * empty.
   * @default false
   */
  replace?: boolean;
  /** How the directory is named in errors (e.g. `--out hardened`). @default the path */
  display?: string;
}

/** The sibling a write of `out` is staged in (unique per call). */
export function stagingPathFor(out: string): string {
  return `${resolve(out)}.kube-harden-${randomBytes(4).toString('hex')}`;
}

/**
 * Calls `write` with a fresh staging directory path (not created), then moves what it wrote to `out`. On any
 * error the staging directory is removed and `out` is left as it was.
 */
export async function writeStaged<T>(
  out: string,
  write: (staging: string) => Promise<T>,
  options: StagingOptions = {},
): Promise<T> {
  const target = resolve(out);
  const staging = stagingPathFor(target);
  try {
    const result = await write(staging);
    if (options.replace) {
      await rm(target, { recursive: true, force: true });
    } else {
      const entries = await readdir(target).catch(() => undefined);
      if (entries && entries.length > 0) {
        throw new UsageError(`${options.display ?? out} is not empty`, 'choose a new or empty directory');
      }
      if (entries) await rmdir(target);
    }
    await rename(staging, target);
    return result;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
