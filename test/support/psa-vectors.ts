/**
 * Upstream Pod Security Admission test vectors: the pods k8s.io/pod-security-admission generates per check in
 * `test/testdata/{baseline,restricted}/v1.N/{pass,fail}/*.yaml` (see its `test/fixtures_test.go`). The module is
 * fetched through the Go toolchain (`go mod download`), so the vectors need Go and the Go module proxy.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Module path of upstream PSA. */
export const PSA_MODULE = 'k8s.io/pod-security-admission';
/** The upstream version the evaluator in src/policy/pss mirrors. */
export const PSA_MODULE_VERSION = 'v0.37.2';

export type PsaModuleStatus = { dir: string } | { dir?: undefined; reason: string };

let cached: PsaModuleStatus | undefined;

/**
 * Locates the module directory with `go mod download -json <module>@<version>` (downloads it into the Go module cache
 * on first use). The result is cached for the process. Never throws: failures come back as `reason`.
 */
export function locatePsaModule(): PsaModuleStatus {
  if (cached) return cached;
  try {
    const out = execFileSync('go', ['mod', 'download', '-json', `${PSA_MODULE}@${PSA_MODULE_VERSION}`], {
      // Outside any go.mod, so no project module settings interfere.
      cwd: tmpdir(),
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const info = JSON.parse(out) as { Dir?: string; Error?: string };
    if (info.Error) cached = { reason: `go mod download failed: ${info.Error}` };
    else if (!info.Dir || !existsSync(join(info.Dir, 'test', 'testdata'))) {
      cached = {
        reason: `go mod download returned no module directory with test/testdata (${info.Dir ?? 'none'})`,
      };
    } else cached = { dir: info.Dir };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') cached = { reason: 'the Go toolchain (`go`) is not on PATH' };
    else {
      let detail = (e.stderr || e.message).trim();
      try {
        detail = (JSON.parse(e.stdout ?? '') as { Error?: string }).Error ?? detail;
      } catch {
        // stdout was not the JSON answer; keep stderr.
      }
      cached = { reason: `go mod download ${PSA_MODULE}@${PSA_MODULE_VERSION} failed: ${detail}` };
    }
  }
  return cached;
}

export interface PsaVector {
  level: 'baseline' | 'restricted';
  /** Policy minor version: the vector is evaluated at v1.<minor>. */
  minor: number;
  expect: 'pass' | 'fail';
  /** File name without `.yaml`, e.g. `capabilities_baseline2` or `base_windows`. */
  name: string;
  /**
   * Lower-cased check ID the fixture generator made this pod for (`strings.ToLower(checkID)` + index), or
   * undefined for the `base*` pods.
   */
  checkKey?: string;
  /** Path relative to the module directory, e.g. `test/testdata/restricted/v1.37/fail/runasuser0.yaml`. */
  path: string;
  absolutePath: string;
}

/** Every vector file of the module, sorted by level, minor, expectation and name. */
export function listPsaVectors(moduleDir: string): PsaVector[] {
  const vectors: PsaVector[] = [];
  for (const level of ['baseline', 'restricted'] as const) {
    const levelDir = join(moduleDir, 'test', 'testdata', level);
    for (const versionDir of readdirSync(levelDir)) {
      const match = /^v1\.(\d+)$/.exec(versionDir);
      if (!match) continue;
      const minor = Number(match[1]);
      for (const expect of ['pass', 'fail'] as const) {
        const dir = join(levelDir, versionDir, expect);
        if (!existsSync(dir)) continue;
        for (const file of readdirSync(dir).sort()) {
          if (!file.endsWith('.yaml')) continue;
          const name = file.slice(0, -'.yaml'.length);
          const checkKey = name.startsWith('base') ? undefined : name.replace(/\d+$/, '');
          const path = ['test', 'testdata', level, versionDir, expect, file].join('/');
          vectors.push({ level, minor, expect, name, checkKey, path, absolutePath: join(dir, file) });
        }
      }
    }
  }
  return vectors.sort(
    (a, b) =>
      a.level.localeCompare(b.level) ||
      a.minor - b.minor ||
      a.expect.localeCompare(b.expect) ||
      a.name.localeCompare(b.name),
  );
}
