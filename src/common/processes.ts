import { readFileSync } from 'node:fs';

/** Whether a process with this pid runs on this host (one of another user's counts: signalling it is merely not allowed). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether process `pid` of this host is the one that took something at `since` (ms): it runs, is not a
 * zombie (exited, not yet reaped), and started no later than then — a pid the kernel gave again to a newer
 * process is not it. Told from /proc where there is one (Linux); elsewhere, whether the pid runs.
 */
export function isProcessSince(pid: number, since: number): boolean {
  if (!isRunning(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return false;
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // Field 22, its start in clock ticks after boot (100 a second on Linux); the boot time is to the second.
    const startedAt = (bootSeconds + Number(fields[19]) / CLOCK_TICKS) * 1000;
    return !(startedAt > since + 2000);
  } catch {
    return true;
  }
}

const CLOCK_TICKS = 100;
