import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { endAfter } from './teardown.js';

const BINARY = '/usr/bin/prometheus-pushgateway';

export interface Gateway {
  url: string;
  /** This group's samples (job and shard), by metric name and label set: `name{label="v"}` → value. */
  samples: (job?: string) => Promise<Map<string, number>>;
  stop: () => Promise<void>;
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A real Pushgateway (Debian's prometheus-pushgateway, which .ci/run installs) on a loopback port. */
export async function startPushgateway(): Promise<Gateway> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: install Debian's prometheus-pushgateway (.ci/run does)`);
  const port = await freePort();
  const child: ChildProcess = spawn(BINARY, [`--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  endAfter('file', stop);
  await listening(child);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    samples: async (job = 'exsited_order_cleanup') => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const samples = new Map<string, number>();
      for (const line of text.split('\n')) {
        if (!line.startsWith('exsited_cleanup_') || !line.includes(`job="${job}"`)) continue;
        const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
        if (!match) continue;
        const labels = match[2]!.split(',').filter((l) => !/^(instance|job|shard)=/.test(l)).join(',');
        const value = match[3] === '+Inf' ? Number.POSITIVE_INFINITY : match[3] === '-Inf' ? Number.NEGATIVE_INFINITY : Number(match[3]);
        samples.set(labels ? `${match[1]}{${labels}}` : match[1]!, value);
      }
      return samples;
    },
    stop,
  };
}

/** Resolves once the Pushgateway logs that it listens (it accepts connections from then on); rejects if it exits first. */
function listening(child: ChildProcess): Promise<void> {
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('msg="Listening on"')) resolve();
    });
    child.once('exit', () => reject(new Error(`the Pushgateway did not start: ${log.trim()}`)));
  });
}
