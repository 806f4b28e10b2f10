#!/usr/bin/env node
// The krew plugin manifest (plugins/harden.yaml) for a release, from its SHA256SUMS: one platform per
// kube-harden-<os>-<arch>.tar.gz listed there. Validated with the rules of krew's own validator
// (kubernetes-sigs/krew internal/index/validation/validate.go: apiVersion, kind, safe name = file name, a
// one-line shortDescription, a semver version, at least one platform, each with uri, lowercase-hex sha256, bin,
// `files` unset or complete, a non-empty selector on os/arch only).
//
//   node scripts/krew-manifest.mjs --version v0.1.0 --sums dist-bin/SHA256SUMS --out dist-bin/plugins/harden.yaml
//     [--base-url https://github.com/OWNER/kube-harden/releases/download]   (or $KUBE_HARDEN_RELEASE_URL)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';

export const KREW_API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';
export const PLUGIN_NAME = 'harden';
const DEFAULT_BASE_URL = 'https://github.com/kube-harden/kube-harden/releases/download';
/** Node's process.arch / our file names → Go's GOARCH (krew's selector values). */
const GOARCH = { x64: 'amd64', arm64: 'arm64' };

/** `SHA256SUMS` text → Map file name → sha256. */
export function parseSums(text) {
  const sums = new Map();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{64}) [ *](\S+)$/.exec(line.trim());
    if (m) sums.set(m[2], m[1].toLowerCase());
  }
  return sums;
}

export function krewManifest({ version, sums, baseUrl = DEFAULT_BASE_URL }) {
  const platforms = [];
  for (const [file, sha256] of [...sums].sort()) {
    const m = /^kube-harden-(linux|darwin|windows)-(x64|arm64)\.(tar\.gz|zip)$/.exec(file);
    if (!m) continue;
    const [, os, arch] = m;
    const bin = os === 'windows' ? 'kube-harden.exe' : 'kube-harden';
    platforms.push({
      selector: { matchLabels: { os, arch: GOARCH[arch] } },
      uri: `${baseUrl.replace(/\/$/, '')}/${version}/${file}`,
      sha256,
      bin,
    });
  }
  return {
    apiVersion: KREW_API_VERSION,
    kind: 'Plugin',
    metadata: { name: PLUGIN_NAME },
    spec: {
      version,
      homepage: baseUrl.replace(/\/releases\/download\/?$/, ''),
      shortDescription: 'Harden a cluster in reviewable, undoable phases',
      description: `kube-harden takes a Kubernetes cluster from deployed to hardened in safe, reviewable, undoable
phases: Pod Security (warn/audit, then enforce by namespace tier), default-deny networking, and more. Every
change is previewed as a server-side dry-run diff and written only after confirmation; every run can be undone.
Run \`kubectl harden report\` for a read-only inventory first.
`,
      caveats: `kubectl harden changes nothing without your confirmation. Start with:
  kubectl harden report
  kubectl harden plan --out plan/
`,
      platforms,
    },
  };
}

const SAFE_NAME = /^[\w-]+$/;
const WINDOWS_FORBIDDEN = [
  'CON',
  'PRN',
  'AUX',
  'NUL',
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`]),
];
// krew parses versions with github.com/Masterminds/semver after requiring the "v" prefix (installation/semver).
const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** krew's ValidatePlugin(name, plugin): the list of problems (empty = valid). */
export function validateKrewManifest(doc, name) {
  const problems = [];
  const p = doc ?? {};
  if (p.apiVersion !== KREW_API_VERSION)
    problems.push(`apiVersion ${p.apiVersion} is not ${KREW_API_VERSION}`);
  if (p.kind !== 'Plugin') problems.push(`kind ${p.kind} is not Plugin`);
  if (!SAFE_NAME.test(name) || WINDOWS_FORBIDDEN.some((f) => f.toLowerCase() === name.toLowerCase()))
    problems.push(`plugin name "${name}" is not allowed`);
  if (p.metadata?.name !== name) problems.push(`plugin should be named "${name}", not "${p.metadata?.name}"`);
  const spec = p.spec ?? {};
  if (!spec.shortDescription) problems.push('should have a short description');
  else if (/[\r\n]/.test(spec.shortDescription))
    problems.push('should not have line breaks in short description');
  if (!Array.isArray(spec.platforms) || spec.platforms.length === 0)
    problems.push('should have a platform specified');
  if (!spec.version) problems.push('should have a version specified');
  else if (!SEMVER.test(spec.version)) problems.push(`version ${spec.version} is not v-prefixed semver`);
  for (const [i, pl] of (spec.platforms ?? []).entries()) {
    const at = `platforms[${i}]`;
    if (!pl.uri) problems.push(`${at}: uri has to be set`);
    else if (!/\.(tar\.gz|zip)$/.test(pl.uri)) problems.push(`${at}: uri must be a .tar.gz or .zip archive`);
    if (!pl.sha256) problems.push(`${at}: sha256 has to be set`);
    else if (!/^[a-f0-9]{64}$/.test(pl.sha256))
      problems.push(`${at}: sha256 ${pl.sha256} must match ^[a-f0-9]{64}$`);
    if (!pl.bin) problems.push(`${at}: bin has to be set`);
    if (pl.files !== undefined) {
      if (!Array.isArray(pl.files) || pl.files.length === 0)
        problems.push(`${at}: files has to be unspecified or non-empty`);
      else for (const op of pl.files) if (!op.from || !op.to) problems.push(`${at}: files need from and to`);
    }
    const sel = pl.selector;
    if (!sel) problems.push(`${at}: nil selector is not supported`);
    else {
      const labels = sel.matchLabels;
      const exprs = sel.matchExpressions;
      if (labels == null && !(exprs?.length > 0)) problems.push(`${at}: empty selector is not supported`);
      const keys = [...Object.keys(labels ?? {}), ...(exprs ?? []).map((e) => e.key)];
      for (const k of keys)
        if (k !== 'os' && k !== 'arch') problems.push(`${at}: selector key "${k}" not supported`);
      if (labels != null && Object.keys(labels).length === 0)
        problems.push(`${at}: matchLabels specified but empty`);
      if (exprs != null && exprs.length === 0) problems.push(`${at}: matchExpressions specified but empty`);
    }
  }
  return problems;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      sums: { type: 'string' },
      out: { type: 'string' },
      'base-url': { type: 'string' },
    },
  });
  if (!values.version || !values.sums || !values.out) {
    console.error(
      'usage: krew-manifest.mjs --version vX.Y.Z --sums SHA256SUMS --out plugins/harden.yaml [--base-url URL]',
    );
    process.exit(2);
  }
  const doc = krewManifest({
    version: values.version,
    sums: parseSums(readFileSync(values.sums, 'utf8')),
    baseUrl: values['base-url'] ?? process.env.KUBE_HARDEN_RELEASE_URL ?? DEFAULT_BASE_URL,
  });
  const problems = validateKrewManifest(doc, PLUGIN_NAME);
  if (problems.length) {
    console.error(`krew manifest invalid:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, stringify(doc, { lineWidth: 0 }));
  console.error(`wrote ${values.out} (${doc.spec.platforms.length} platform(s))`);
}
