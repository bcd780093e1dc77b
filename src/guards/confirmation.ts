import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import tty from 'node:tty';
import { scrubbedSafe } from '../common/text.js';

/** Where a person may be: stdin to read IDs or an answer from, stderr to ask on. */
export interface Terminal {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** What a person is asked to confirm: enough to recognise a wrong target before anything is deleted. */
export interface ConfirmationRequest {
  host: string;
  count: number;
  sample: string[];
  manifest?: string;
  /** More to read before answering: the selection's breakdown, hints about the filter. */
  details?: string[];
  /** The question in bold (report/console's emphasis, where colour is wanted). */
  emphasis?: (text: string) => string;
  /** How long the question waits (--confirm-wait): a terminal nobody watches (`docker run -t`) is not a person. */
  waitMs?: number;
}

export type Confirmation =
  | { confirmed: true }
  /** `typed`: what was typed instead of the count; undefined when the question was abandoned (Ctrl-C, end of input). */
  | { confirmed: false; typed: string | undefined };

/**
 * Whether a person is there to answer: stdin is a terminal. Where stdout or stderr go does not matter
 * (`run … 2>&1 | tee out.txt` from a shell is still a person at a terminal).
 */
export const personPresent = (terminal: Terminal, stdinUsed = false) => !!terminal.stdin.isTTY || (stdinUsed && hasControllingTerminal());

/**
 * Whether this process has a terminal of its own (`/dev/tty` opens), as when `cat ids.txt | … --ids -` is
 * typed at one: sudo, ssh and git ask there when stdin is taken. Cron, containers and CI have none.
 */
function hasControllingTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** How long input already typed is given to arrive before it is thrown away: one read of what the terminal holds. */
const TYPE_AHEAD_MS = 50;

/**
 * Throws away what was typed before the question is shown (type-ahead, a line or part of one): a count typed
 * blind — from habit, or pasted with the command — is not an answer to a question the person has not read.
 * The terminal is read raw for a moment, so that a partial line goes too, then given back as it was.
 */
async function discardTypeAhead(input: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<void> {
  const terminal = input as tty.ReadStream;
  if (!terminal.isTTY || typeof terminal.setRawMode !== 'function') return;
  const wasRaw = terminal.isRaw;
  // Raw, the terminal sends Ctrl-C as a byte rather than a signal: one typed meanwhile is still a Ctrl-C.
  const discard = (chunk: Buffer | string) => void (String(chunk).includes('\u0003') && process.kill(process.pid, 'SIGINT'));
  terminal.setRawMode(true);
  terminal.on('data', discard).resume();
  await new Promise((resolve) => setTimeout(resolve, TYPE_AHEAD_MS));
  terminal.off('data', discard).pause();
  terminal.setRawMode(wasRaw);
}

/**
 * Shows the host, the count, a sample, the manifest and the details, and proceeds only when the count
 * is typed back after the question is shown (as a wrong mass delete is a typed "y" away in most tools;
 * what was typed before it is thrown away). The question goes to the
 * terminal itself when stderr is not one (a pipe), and the answer is read from the terminal even when
 * stdin was used up by IDs typed there (`--ids -`).
 */
export async function confirmDeletion(request: ConfirmationRequest, terminal: Terminal, stdinUsed: boolean, signal?: AbortSignal): Promise<Confirmation> {
  const opened: Array<{ destroy(): void }> = [];
  const openTty = <T extends { destroy(): void }>(make: (fd: number) => T, flags: 'r' | 'w'): T | undefined => {
    try {
      const stream = make(openSync('/dev/tty', flags));
      opened.push(stream);
      return stream;
    } catch {
      return undefined; // no controlling terminal
    }
  };
  const input = stdinUsed ? openTty((fd) => new tty.ReadStream(fd), 'r') ?? terminal.stdin : terminal.stdin;
  const output = terminal.stderr.isTTY ? terminal.stderr : openTty((fd) => new tty.WriteStream(fd), 'w') ?? terminal.stderr;
  await discardTypeAhead(input);
  // Through the scrubber as everything else a person reads: the listing's values are a server's (red team: a secret in a status, shown whole).
  output.write(scrubbedSafe([
    `About to DELETE ${request.count} orders on ${request.host}, permanently.`,
    `  for example: ${request.sample.join(', ')}${request.count > request.sample.length ? ', …' : ''}`,
    ...(request.manifest ? [`  every one is listed in ${request.manifest}`] : []),
    ...(request.details ?? []).map((line) => `  ${line}`),
    '',
  ].join('\n')));
  const rl = createInterface({ input, output, terminal: false });
  const closed = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  try {
    const ask = `Type the number of orders (${request.count}) to go ahead, anything else to stop: `;
    const asked = new AbortController();
    const timer = request.waitMs === undefined ? undefined : setTimeout(() => asked.abort(), request.waitMs).unref();
    signal?.addEventListener('abort', () => asked.abort(), { once: true });
    const question = rl.question(request.emphasis?.(ask) ?? ask, { signal: asked.signal }).finally(() => clearTimeout(timer));
    const answer = await Promise.race([question.catch(() => undefined), closed]); // Ctrl-C (the run stopping) is a no
    if (answer === undefined) output.write('\n');
    const confirmed = answer !== undefined && answer.trim() === String(request.count);
    // Asked on the terminal itself because stderr is a pipe, and abandoned with Ctrl-C (which may have closed the pipe's reader
    // too): said there, once. A wrong answer's refusal is said once, on stderr, like every other.
    if (answer === undefined && output !== terminal.stderr) output.write('Not confirmed: nothing was deleted.\n');
    return confirmed ? { confirmed: true } : { confirmed: false, typed: answer?.trim() };
  } finally {
    rl.close();
    for (const stream of opened) stream.destroy();
  }
}
