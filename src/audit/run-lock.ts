import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { refusal } from '../common/errors.js';

interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  runId: string;
}

/**
 * One process per audit log: `<log>.lock` holds the holder's pid, host, start time and runId. It is
 * created whole (written to a temporary file, then hard-linked into place, which fails if it exists), so
 * a reader never sees a half-written lock. A lock whose process is gone (same host, pid not running) is
 * taken over; a live holder, or one on another host, is refused with exit 3.
 */
export class RunLock {
  private held = false;
  readonly path: string;

  constructor(auditLog: string, private readonly runId: string) {
    this.path = `${auditLog}.lock`;
  }

  acquire(): void {
    const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), runId: this.runId };
    const temp = `${this.path}.${process.pid}.tmp`;
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(temp, 'w', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          linkSync(temp, this.path);
          this.held = true;
          process.once('exit', () => this.release());
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw this.refuse();
          const holder = this.holder();
          if (holder && (holder.host !== me.host || isRunning(holder.pid))) throw this.refuse(holder);
          rmSync(this.path, { force: true }); // its process is gone: take the lock over
        }
      }
    } finally {
      rmSync(temp, { force: true });
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.path, { force: true });
  }

  private holder(): LockHolder | undefined {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as LockHolder;
    } catch {
      return undefined;
    }
  }

  private refuse(holder = this.holder()) {
    const who = holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt} (run ${holder.runId})` : 'another process';
    return refusal(`another run is using this audit log: ${who}. Wait for it to finish; if it is certainly gone ` +
      `(another host cannot be checked from here), delete ${this.path}`);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
