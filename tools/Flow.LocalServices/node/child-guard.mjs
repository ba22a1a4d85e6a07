// child-guard: runs one command and makes sure it never outlives the process that started us.
//
// usage: node child-guard.mjs <command> [args...]
//
// - The command runs in its own process group (detached), with our stdout/stderr.
// - When our stdin reaches EOF (the parent closed it or died), the whole group gets SIGTERM,
//   then SIGKILL after a grace period, and we exit.
// - SIGTERM/SIGINT/SIGHUP sent to us are forwarded to the group.
// - When the command exits, whatever is left of its group is killed and we exit with its code.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('child-guard: usage: node child-guard.mjs <command> [args...]\n');
  process.exit(2);
}

const graceMs = Number(process.env.CHILD_GUARD_GRACE_MS ?? 5000);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
let exited = false;

function signalGroup(signal) {
  if (child.pid === undefined) {
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function terminate(reason) {
  if (exited) {
    process.exit(0);
  }
  process.stderr.write(`child-guard: ${reason}; stopping ${command} (pid ${child.pid})\n`);
  signalGroup('SIGTERM');
  setTimeout(() => {
    signalGroup('SIGKILL');
    process.exit(137);
  }, graceMs).unref();
}

child.on('error', (error) => {
  process.stderr.write(`child-guard: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});

child.on('exit', (code, signal) => {
  exited = true;
  signalGroup('SIGKILL');
  process.exit(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1));
});

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => signalGroup(signal));
}

process.stdin.on('data', () => { /* input is ignored; only EOF matters */ });
process.stdin.on('end', () => terminate('stdin closed'));
process.stdin.on('error', () => terminate('stdin failed'));
process.stdin.resume();
