'use strict';
// The `main` of the single executable (Node 20-24 SEAs run CommonJS only): unpack the embedded ESM bundle with
// the files it reads at run time (package.json for the version, templates/) into a private temp folder, import
// the bundle from there, and remove the folder when the process exits.
const sea = require('node:sea');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const url = require('node:url');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-harden-'));
process.on('exit', () => {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // nothing to do
  }
});
for (const file of JSON.parse(sea.getAsset('files.json', 'utf8'))) {
  const target = path.join(dir, file);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  fs.writeFileSync(target, new Uint8Array(sea.getRawAsset(file)), { mode: 0o600 });
}
import(url.pathToFileURL(path.join(dir, 'app.mjs')).href).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
