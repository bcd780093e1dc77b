import { openSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import tty from 'node:tty';
import { terminalSafe } from '../common/text.js';

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
}

export type Confirmation =
  | { confirmed: true }
  /** `typed`: what was typed instead of the count; undefined when the question was abandoned (Ctrl-C, end of input). */
  | { confirmed: false; typed: string | undefined };

/**
 * Whether a person is there to answer: stdin is a terminal. Where stdout or stderr go does not matter
 * (`run … 2>&1 | tee out.txt` from a shell is still a person at a terminal).
 */
export const personPresent = (terminal: Terminal) => !!terminal.stdin.isTTY;

/**
 * Shows the host, the count, a sample, the manifest and the details, and proceeds only when the count
 * is typed back (as a wrong mass delete is a typed "y" away in most tools). The question goes to the
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
  output.write(terminalSafe([
    `About to DELETE ${request.count} orders on ${request.host}, permanently.`,
    `  for example: ${request.sample.join(', ')}${request.count > request.sample.length ? ', …' : ''}`,
    ...(request.manifest ? [`  every one is listed in ${request.manifest}`] : []),
    ...(request.details ?? []).map((line) => `  ${line}`),
    '',
  ].join('\n')));
  const rl = createInterface({ input, output, terminal: false });
  const closed = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  try {
    const question = rl.question(`Type the number of orders (${request.count}) to go ahead, anything else to stop: `, { signal: signal ?? new AbortController().signal });
    const answer = await Promise.race([question.catch(() => undefined), closed]); // Ctrl-C (the run stopping) is a no
    if (answer === undefined) output.write('\n');
    const confirmed = answer !== undefined && answer.trim() === String(request.count);
    // Asked on the terminal itself because stderr is a pipe (which Ctrl-C may have closed with its reader): answered there too.
    if (!confirmed && output !== terminal.stderr) output.write('Not confirmed: nothing was deleted.\n');
    return confirmed ? { confirmed: true } : { confirmed: false, typed: answer?.trim() };
  } finally {
    rl.close();
    for (const stream of opened) stream.destroy();
  }
}
