#!/usr/bin/env bash
# npm run dist: kube-harden as one file per platform, with no Node.js needed on the target.
#   1. esbuild bundles the CLI from the TypeScript sources (ESM, every dependency inside) into one app.mjs;
#      (minified: less for V8 to parse at each start);
#   2. a Node single-executable-application blob (scripts/sea/launcher.cjs as main; app.mjs, package.json and
#      templates/ as assets) made by the same pinned Node 24 that is embedded (scripts/node24.sh);
#   3. postject injects it into a copy of the official Node 24 binary for linux-x64 and linux-arm64;
#   4. dist-bin/: kube-harden-linux-{x64,arm64}, a .tar.gz of each (for krew), SHA256SUMS, plugins/harden.yaml.
# macOS and Windows are not built yet (they need codesign/signtool and their official binaries).
# Bundling notes (measured with ink 6, yoga-layout 3, client-node 1.4, esbuild 0.28, Node 24.22):
#   - ESM only: yoga-layout and ink use top-level await, so a CommonJS bundle is impossible; Node 20-24 SEAs run
#     CommonJS, hence the small CJS launcher that imports the unpacked ESM bundle.
#   - yoga's WebAssembly is inlined as base64 by yoga-layout itself: nothing to ship beside it.
#   - the wizard's lazy import('../ui/render.js') is kept lazy by esbuild inside the one file (no chunks).
#   - ink imports react-devtools-core only with DEV=true: aliased to a stub; ws's optional native helpers
#     (bufferutil, utf-8-validate) are left external (ws falls back to JavaScript when they are missing).
#   - the banner gives esbuild's CJS-in-ESM shim a real require() for node: built-ins.
#   - minified: 18 MB → 4.7 MB, and --version 628 → ~250 ms with the unpack-once cache and compile cache.
#   scripts/dist.sh [x64] [arm64]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - started) / 1000000 )); }
archs=("$@")
[ ${#archs[@]} -eq 0 ] && archs=(x64 arm64)

out=dist-bin
work=$out/build
rm -rf "$out"
mkdir -p "$work/assets/templates"

npx esbuild scripts/sea/app.mjs --bundle --platform=node --format=esm --target=node20 \
  --alias:react-devtools-core=./scripts/sea/devtools-stub.mjs \
  --external:bufferutil --external:utf-8-validate \
  --banner:js="import { createRequire as __kubeHardenCreateRequire } from 'node:module'; const require = __kubeHardenCreateRequire(import.meta.url);" \
  --minify --legal-comments=none --log-level=warning --outfile="$work/assets/app.mjs"
echo "bundle: $(du -h "$work/assets/app.mjs" | cut -f1) (+$(ms) ms)" >&2

node -e '
  const p = require("./package.json");
  process.stdout.write(JSON.stringify({ name: p.name, version: p.version, type: "module" }) + "\n");
' >"$work/assets/package.json"
cp -R templates/. "$work/assets/templates/"
(cd "$work/assets" && find . -type f | sed 's#^\./##' | sort) >"$work/files.txt"
node -e '
  const fs = require("node:fs");
  const [work] = process.argv.slice(1);
  const files = fs.readFileSync(`${work}/files.txt`, "utf8").split("\n").filter(Boolean);
  const assets = { "files.json": `${work}/files.json` };
  for (const f of files) assets[f] = `${work}/assets/${f}`;
  const hash = require("node:crypto").createHash("sha256");
  for (const f of files) hash.update(f).update("\0").update(fs.readFileSync(`${work}/assets/${f}`));
  fs.writeFileSync(`${work}/files.json`, JSON.stringify({ id: hash.digest("hex").slice(0, 16), files }));
  fs.writeFileSync(`${work}/sea-config.json`, JSON.stringify({
    main: "scripts/sea/launcher.cjs", output: `${work}/sea-prep.blob`,
    disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false, assets,
  }, null, 2));
' "$work"

# The blob must come from the same Node version as the binaries it goes into (the x64 build makes it for both).
node24_x64=$(scripts/node24.sh x64)
"$node24_x64" --experimental-sea-config "$work/sea-config.json" >/dev/null
echo "blob: $(du -h "$work/sea-prep.blob" | cut -f1) (+$(ms) ms)" >&2

version=$(node -p 'require("./package.json").version')
for arch in "${archs[@]}"; do
  node_bin=$(scripts/node24.sh "$arch")
  exe="$out/kube-harden-linux-$arch"
  cp "$node_bin" "$exe"
  chmod u+w "$exe"
  npx postject "$exe" NODE_SEA_BLOB "$work/sea-prep.blob" \
    --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 2>&1 | grep -v "Can't find string offset" >&2 || true
  chmod 755 "$exe"
  # krew installs from an archive: kube-harden (the binary) and the license inside.
  stage="$work/archive-$arch"
  mkdir -p "$stage"
  cp "$exe" "$stage/kube-harden"
  cp "$(dirname "$node_bin")/../LICENSE" "$stage/LICENSE.node"
  tar -C "$stage" --owner=0 --group=0 --numeric-owner --mtime='2000-01-01' -cf - kube-harden LICENSE.node |
    gzip -n -1 >"$out/kube-harden-linux-$arch.tar.gz"
  echo "$exe: $(du -h "$exe" | cut -f1), archive $(du -h "$out/kube-harden-linux-$arch.tar.gz" | cut -f1) (+$(ms) ms)" >&2
done

(cd "$out" && sha256sum kube-harden-linux-* >SHA256SUMS)
node scripts/krew-manifest.mjs --version "v$version" --sums "$out/SHA256SUMS" --out "$out/plugins/harden.yaml"
rm -rf "$work"
echo "dist-bin/ ready in $(ms) ms:" >&2
ls -la "$out" >&2
