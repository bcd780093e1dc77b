import type { AxiosInstance } from 'axios';
import { describe, expect, test } from '@jest/globals';
import { CleanupError, ExitCode } from '../src/common/errors.js';
import { RunControl } from '../src/engine/run-control.js';
import type { RequestDeps } from '../src/engine/retrying-request.js';
import { TokenError } from '../src/exsited/auth.js';
import { checkCredentials } from '../src/guards/credentials.js';
import { firstToken } from '../src/guards/reach.js';
import { VirtualClock } from './helpers/virtual-time.js';

/** Issue 23, item 8, on simulated time: an API that cannot be reached is tried again for 30 s, then the run gives up, unstarted (exit 5). */
function unreachableFor(ms: number, clock: VirtualClock) {
  let tries = 0;
  return {
    tries: () => tries,
    get: async () => {
      tries++;
      if (clock.now() < ms) throw new TokenError('token endpoint unreachable (ECONNREFUSED)', 'unreachable', 'ECONNREFUSED');
      return 'token';
    },
  };
}

function setUp(unreachableMs: number) {
  const clock = new VirtualClock();
  const tokens = unreachableFor(unreachableMs, clock);
  const said: string[] = [];
  const control = new RunControl(60_000); // a grace period of a minute: the wait ends at the stop, not at its end
  const deps = { tokens, control, reachWaitMs: 30_000, say: (text: string) => said.push(text), now: clock.now, wait: (ms: number, signal: AbortSignal) => clock.sleep(ms, signal) };
  return { clock, tokens, said, control, deps };
}

describe('an API that cannot be reached, before the run starts', () => {
  test('back after 5 s: tried at 0, 1, 3 and 7 s, each wait said; the run goes on', async () => {
    const { clock, tokens, said, deps } = setUp(5000);
    await clock.run(firstToken(deps));
    expect(clock.now()).toBe(7000);
    expect(tokens.tries()).toBe(4);
    expect(said).toEqual([1, 2, 4].map((s) => `The API cannot be reached (token endpoint unreachable (ECONNREFUSED)); trying again in ${s} s, for up to 30 s in all.`));
  });

  test('never back: given up after 23 s of tries (1, 2, 4, 8, 8 s apart: the next would pass 30 s), as exit 5 through the credentials check', async () => {
    const { clock, tokens, deps } = setUp(Number.POSITIVE_INFINITY);
    const checking = checkCredentials({ ...deps, http: {} as AxiosInstance } as unknown as RequestDeps & { http: AxiosInstance; reachWaitMs: number }, 'http://127.0.0.1:9', false, deps.say);
    const failure = await clock.run(checking.catch((error: unknown) => error));
    expect(clock.now()).toBe(23_000);
    expect(tokens.tries()).toBe(6);
    expect(failure).toBeInstanceOf(CleanupError);
    expect((failure as CleanupError).exitCode).toBe(ExitCode.unreachable);
    expect((failure as CleanupError).message).toMatch(/^unreachable: http:\/\/127\.0\.0\.1:9 — token endpoint unreachable \(ECONNREFUSED\), tried for 23 s: nothing reached it, nothing was sent\. .*nothing to resume/);
  });

  test('a failure time will not mend (a certificate, a proxy refusing the tunnel) is not waited for: given up at once', async () => {
    for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'EPROXYCONNECT']) {
      const { clock, said, deps } = setUp(0);
      deps.tokens.get = async () => {
        throw new TokenError(`token endpoint unreachable (${code})`, 'unreachable', code);
      };
      await expect(clock.run(firstToken(deps))).rejects.toMatchObject({ kind: 'unreachable', message: `token endpoint unreachable (${code}): nothing reached it, nothing was sent` });
      expect(clock.now()).toBe(0);
      expect(said).toEqual([]);
    }
  });

  test('--reach-wait 5s: given up after 3 s of tries (1 and 2 s apart: the next would pass 5 s)', async () => {
    const { clock, tokens, deps } = setUp(Number.POSITIVE_INFINITY);
    await expect(clock.run(firstToken({ ...deps, reachWaitMs: 5000 }))).rejects.toMatchObject({ kind: 'unreachable' });
    expect(clock.now()).toBe(3000);
    expect(tokens.tries()).toBe(3);
  });

  test('an endpoint that answers otherwise (refusing, a 500, a 503 asking to wait an hour) is not waited for; a stop ends the wait at once', async () => {
    for (const refusal of [new TokenError('token endpoint answered 401: no', 'rejected'), new TokenError('token endpoint answered 503: wait 1 h', 'server')]) {
      const answering = setUp(0);
      answering.deps.tokens.get = async () => {
        throw refusal;
      };
      await expect(answering.clock.run(firstToken(answering.deps))).rejects.toBe(refusal);
      expect(answering.said).toEqual([]);
    }

    const { clock, control, deps } = setUp(Number.POSITIVE_INFINITY);
    const waiting = firstToken(deps).catch((error: unknown) => error);
    await clock.run(clock.sleep(500));
    control.stop({ kind: 'signal', signal: 'SIGTERM' });
    const stopped = await clock.run(waiting);
    expect(stopped).toMatchObject({ kind: 'unavailable' });
    expect(clock.now()).toBe(500);
  });

  test('a gateway\'s 502, 503 or 504 (a service restarting behind it) is waited for the same way, then given up as the server\'s: exit 4, never 5; any other answer is not waited for', async () => {
    const { clock, said, deps } = setUp(0);
    let tries = 0;
    deps.tokens.get = async () => {
      tries++;
      if (clock.now() < 5000) throw new TokenError('token endpoint answered 503: down', 'server', 'HTTP_503');
      return 'token';
    };
    await clock.run(firstToken(deps));
    expect([clock.now(), tries]).toEqual([7000, 4]);
    expect(said[0]).toBe('The API is not serving yet (token endpoint answered 503: down); trying again in 1 s, for up to 30 s in all.');

    const never = setUp(0);
    never.deps.tokens.get = async () => {
      throw new TokenError('token endpoint answered 502: bad gateway', 'server', 'HTTP_502');
    };
    const checking = checkCredentials({ ...never.deps, http: {} as AxiosInstance } as unknown as RequestDeps & { http: AxiosInstance; reachWaitMs: number }, 'http://127.0.0.1:9', false, never.deps.say);
    const failure = await never.clock.run(checking.catch((error: unknown) => error));
    expect(never.clock.now()).toBe(23_000);
    expect((failure as CleanupError).exitCode).toBe(ExitCode.halted);
    expect((failure as CleanupError).message).toMatch(/^http:\/\/127\.0\.0\.1:9: token endpoint answered 502: bad gateway, tried for 23 s — not the credentials; nothing was deleted/);

    // answered, then nothing reached it: never "nothing was sent"
    const died = setUp(0);
    died.deps.tokens.get = async () => {
      throw died.clock.now() < 1000 ? new TokenError('token endpoint answered 503: down', 'server', 'HTTP_503') : new TokenError('token endpoint unreachable (ECONNREFUSED)', 'unreachable', 'ECONNREFUSED');
    };
    died.deps.reachWaitMs = 2000;
    await expect(died.clock.run(firstToken(died.deps))).rejects.toMatchObject({ kind: 'unreachable', message: 'token endpoint unreachable (ECONNREFUSED), tried for 1 s: it answered before, then nothing reached it; nothing was deleted' });

    const refused = setUp(0);
    refused.deps.tokens.get = async () => {
      throw new TokenError('token endpoint answered 500: broken', 'server', 'HTTP_500');
    };
    await expect(refused.clock.run(firstToken(refused.deps))).rejects.toMatchObject({ kind: 'server', message: 'token endpoint answered 500: broken' });
    expect(refused.clock.now()).toBe(0);
  });
});
