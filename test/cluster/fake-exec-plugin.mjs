#!/usr/bin/env node
// Fake client-go credential (exec) plugin for the test kubeconfigs written by control-plane.ts.
//
//   node fake-exec-plugin.mjs          print an ExecCredential whose token is $KUBE_HARDEN_FAKE_EXEC_TOKEN
//                                      (the apiserver maps it to user `exec-user`), valid for 1 h.
//   node fake-exec-plugin.mjs --hang   never exit; first spawn a child that ignores SIGTERM (and never exits
//                                      either), so only killing the whole process group with SIGKILL cleans up.
//                                      Safety net: both give up after $KUBE_HARDEN_FAKE_EXEC_HANG_MAX_MS
//                                      (default 10 min). With $KUBE_HARDEN_FAKE_EXEC_PIDFILE set, writes
//                                      `<plugin pid> <child pid>` there once the child ignores SIGTERM.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const maxMs = Number(process.env.KUBE_HARDEN_FAKE_EXEC_HANG_MAX_MS || 600_000);

if (process.argv.includes('--hang-child')) {
  process.on('SIGTERM', () => {
    process.stderr.write('fake-exec-plugin child: ignoring SIGTERM\n');
  });
  setTimeout(() => process.exit(0), maxMs);
  process.stdout.write('ready\n'); // the SIGTERM handler is installed
} else if (process.argv.includes('--hang')) {
  process.stderr.write('fake-exec-plugin: hanging on purpose (exec-hang context)\n');
  const child = spawn(process.execPath, [process.argv[1], '--hang-child'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.once('data', () => {
    if (process.env.KUBE_HARDEN_FAKE_EXEC_PIDFILE) {
      writeFileSync(process.env.KUBE_HARDEN_FAKE_EXEC_PIDFILE, `${process.pid} ${child.pid}\n`);
    }
  });
  setTimeout(() => process.exit(0), maxMs);
} else {
  const token = process.env.KUBE_HARDEN_FAKE_EXEC_TOKEN;
  if (!token) {
    process.stderr.write('fake-exec-plugin: KUBE_HARDEN_FAKE_EXEC_TOKEN is not set\n');
    process.exit(1);
  }
  process.stdout.write(
    `${JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token, expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
    })}\n`,
  );
}
