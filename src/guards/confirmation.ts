import { createInterface } from 'node:readline/promises';

/** What a user is asked to confirm: enough to recognise a wrong target before anything is deleted. */
export interface ConfirmationRequest {
  host: string;
  count: number;
  sample: string[];
  manifest?: string;
}

/** Whether a person is there to ask: stdin and stderr both terminals. */
export const canPrompt = (input: NodeJS.ReadableStream, output: NodeJS.WritableStream) =>
  !!(input as { isTTY?: boolean }).isTTY && !!(output as { isTTY?: boolean }).isTTY;

/**
 * Shows the host, the count, a sample and the manifest, and proceeds only when the user types the
 * count back (as a wrong mass delete is a typed "y" away in most tools).
 */
export async function confirmDeletion(
  plan: ConfirmationRequest, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, signal?: AbortSignal,
): Promise<boolean> {
  output.write([
    `About to DELETE ${plan.count} orders on ${plan.host}, permanently.`,
    `  for example: ${plan.sample.join(', ')}${plan.count > plan.sample.length ? ', …' : ''}`,
    ...(plan.manifest ? [`  every one is listed in ${plan.manifest}`] : []),
    '',
  ].join('\n'));
  const rl = createInterface({ input, output, terminal: false });
  const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
  try {
    const question = rl.question(`Type the number of orders (${plan.count}) to go ahead, anything else to stop: `, { signal: signal ?? new AbortController().signal });
    const answer = await Promise.race([question.catch(() => ''), closed]); // Ctrl-C (the run stopping) is a no
    return answer.trim() === String(plan.count);
  } finally {
    rl.close();
  }
}
