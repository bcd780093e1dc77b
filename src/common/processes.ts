/** Whether a process with this pid runs on this host (one of another user's counts: signalling it is merely not allowed). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
