import { Worker } from 'node:worker_threads';

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
setTimeout(() => process.kill(workerData.pid, 'SIGKILL'), workerData.ms);
`;

/**
 * Kills this process with SIGKILL `ms` from now unless it has exited by then.
 * The timer runs in a worker thread, so it holds even while the main thread
 * is blocked in a system call: a process whose stdout is a pipe or socket that
 * nobody reads any more (its reader stopped, a sibling still holds it open)
 * blocks for ever in the logger's flush at exit, where a timer of the main
 * thread never fires. The worker does not keep the process alive.
 */
export function armExitDeadline(ms: number): { cancel(): Promise<number> } {
  const w = new Worker(WATCHDOG, { eval: true, workerData: { pid: process.pid, ms } });
  w.unref();
  return { cancel: () => w.terminate() };
}
