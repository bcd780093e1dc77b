import { secrets } from '../audit/secrets.js';

/** Everything the tool prints for people goes to stderr, through the secret scrubber. */
export function say(text: string, stream: NodeJS.WritableStream = process.stderr): void {
  stream.write(`${secrets.scrub(text)}\n`);
}

/** Quotes a value for a POSIX shell, so that a printed command can be pasted as is. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
