#!/usr/bin/env node
// A scriptable client-go credential (exec) plugin for the exec-plugin tests. Everything comes from the
// environment (the kubeconfig's exec.env):
//
//   KH_PLUGIN_COUNT_FILE   append one line per invocation (the tests count re-authentications with it)
//   KH_PLUGIN_TOKENS       comma-separated tokens: invocation i (0-based) prints token i, the last one after that
//   KH_PLUGIN_TOKENS_FILE  the same list read from this file (keeps the tokens out of the plugin's environment,
//                          which Node prints with NODE_DEBUG=child_process)
//   KH_PLUGIN_CERT_FILE, KH_PLUGIN_KEY_FILE  PEM files: return them as clientCertificateData/clientKeyData
//                          (instead of a token when KH_PLUGIN_TOKENS is empty)
//   KH_PLUGIN_EXPIRY       past | none | future (default future: 1 h from now)
//   KH_PLUGIN_API_VERSION  apiVersion to print (default client.authentication.k8s.io/v1); `garbage` prints
//                          something that is not JSON at all
//   KH_PLUGIN_WAIT_FOR     print a device-code prompt on stderr, then wait until this file exists
//   KH_PLUGIN_PROMPT       the prompt text (default: a device-code login line)
//   KH_PLUGIN_MAX_WAIT_MS  give up waiting after this long (default 60 s; exits 1)
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

const env = process.env;
let invocation = 0;
if (env.KH_PLUGIN_COUNT_FILE) {
  invocation = existsSync(env.KH_PLUGIN_COUNT_FILE)
    ? readFileSync(env.KH_PLUGIN_COUNT_FILE, 'utf8').split('\n').filter(Boolean).length
    : 0;
  appendFileSync(env.KH_PLUGIN_COUNT_FILE, `${new Date().toISOString()}\n`);
}

async function main() {
  if (env.KH_PLUGIN_WAIT_FOR) {
    process.stderr.write(
      `${env.KH_PLUGIN_PROMPT ?? 'To sign in, open https://login.example.test/device and enter the code KHDV-4821'}\n`,
    );
    const until = Date.now() + Number(env.KH_PLUGIN_MAX_WAIT_MS || 60_000);
    while (!existsSync(env.KH_PLUGIN_WAIT_FOR)) {
      if (Date.now() > until) {
        process.stderr.write('scripted-exec-plugin: gave up waiting for the login\n');
        process.exit(1);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    process.stderr.write('Signed in.\n');
  }
  const apiVersion = env.KH_PLUGIN_API_VERSION ?? 'client.authentication.k8s.io/v1';
  if (apiVersion === 'garbage') {
    process.stdout.write('<html>login required</html>\n');
    return;
  }
  const list = env.KH_PLUGIN_TOKENS_FILE
    ? readFileSync(env.KH_PLUGIN_TOKENS_FILE, 'utf8').trim()
    : (env.KH_PLUGIN_TOKENS ?? '');
  const tokens = list.split(',').filter(Boolean);
  const token = tokens[Math.min(invocation, tokens.length - 1)];
  const status = {};
  if (token) status.token = token;
  if (env.KH_PLUGIN_CERT_FILE && env.KH_PLUGIN_KEY_FILE) {
    status.clientCertificateData = readFileSync(env.KH_PLUGIN_CERT_FILE, 'utf8');
    status.clientKeyData = readFileSync(env.KH_PLUGIN_KEY_FILE, 'utf8');
  }
  if (!status.token && !status.clientKeyData) {
    process.stderr.write('scripted-exec-plugin: neither KH_PLUGIN_TOKENS nor KH_PLUGIN_CERT_FILE is set\n');
    process.exit(1);
  }
  const expiry = env.KH_PLUGIN_EXPIRY ?? 'future';
  if (expiry === 'past') status.expirationTimestamp = new Date(Date.now() - 3_600_000).toISOString();
  if (expiry === 'future') status.expirationTimestamp = new Date(Date.now() + 3_600_000).toISOString();
  process.stdout.write(`${JSON.stringify({ apiVersion, kind: 'ExecCredential', status })}\n`);
}

await main();
