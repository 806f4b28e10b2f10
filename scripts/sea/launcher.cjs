'use strict';
// The `main` of the single executable (Node 20-24 SEAs run CommonJS only). The embedded ESM bundle and the files
// it reads at run time (package.json for the version, templates/) are unpacked once per build into
// ~/.cache/kube-harden/sea/<build id>/ (content-addressed, made complete under a temporary name, then renamed), and
// imported from there with Node's compile cache beside them, so later starts neither write nor recompile 5 MB of
// JavaScript. When that folder cannot be written, they go to a private temp folder removed at exit.
const sea = require('node:sea');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const url = require('node:url');

const { id, files } = JSON.parse(sea.getAsset('files.json', 'utf8'));

function unpack(dir) {
  for (const file of files) {
    const target = path.join(dir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.writeFileSync(target, new Uint8Array(sea.getRawAsset(file)), { mode: 0o600 });
  }
  fs.writeFileSync(path.join(dir, '.complete'), id, { mode: 0o600 });
}

function cached() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const dir = path.join(base, 'kube-harden', 'sea', id);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
  const partial = fs.mkdtempSync(`${dir}.partial-`);
  try {
    unpack(partial);
    fs.renameSync(partial, dir);
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });
    // Another process finished first: use its copy.
    if (!fs.existsSync(path.join(dir, '.complete'))) throw error;
  }
  return dir;
}

function temporary() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-harden-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  unpack(dir);
  return dir;
}

let dir;
try {
  dir = cached();
  require('node:module').enableCompileCache?.(path.join(dir, '.compile-cache'));
} catch {
  dir = temporary();
}
import(url.pathToFileURL(path.join(dir, 'app.mjs')).href).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
