#!/usr/bin/env node
// `npm test` runs this first (pretest): the tests use a real libvirtd and an sshd on 127.0.0.1:2222 that
// `.ci/run` installs and starts. Without them, stop at once with one sentence that says so, rather than
// let dozens of tests fail one by one.
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';

const URI = 'qemu:///system';
const SSH = { host: '127.0.0.1', port: 2222 };

/** Why libvirt cannot serve the tests, or undefined when it can. */
function libvirtMissing() {
  const r = spawnSync('virsh', ['-c', URI, 'version'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  if (r.error?.code === 'ENOENT') return 'virsh is not installed';
  return r.status === 0 ? undefined : `libvirtd does not answer at ${URI}`;
}

/** Why sshd cannot serve the tests, or undefined when it can. */
function sshMissing() {
  return new Promise((resolve) => {
    const socket = connect(SSH);
    const done = (why) => { socket.destroy(); resolve(why); };
    socket.setTimeout(5_000, () => done(`nothing answers on ${SSH.host}:${SSH.port} (sshd)`));
    socket.once('connect', () => done(undefined));
    socket.once('error', () => done(`nothing listens on ${SSH.host}:${SSH.port} (sshd)`));
  });
}

const missing = [libvirtMissing(), await sshMissing()].filter((why) => why !== undefined);
if (missing.length > 0) {
  process.stderr.write(`npm test needs libvirt and sshd set up, and here ${missing.join(' and ')}: run \`sudo .ci/run\` once (it installs and starts them, then runs the tests; see README.md, "Set up").\n`);
  process.exit(1);
}
