import { usageError } from './errors.js';
import { describeFileError, readTextFile } from './files.js';
import { quoted } from './text.js';

/** What each syntax error means, in words a person can act on. */
const SYNTAX: Record<string, string> = {
  InvalidSymbol: 'a character that JSON does not allow here',
  InvalidNumberFormat: 'a number written wrongly',
  PropertyNameExpected: 'a property name in double quotes was expected (a comma after the last item? single quotes?)',
  ValueExpected: 'a value was expected (a comma after the last item?)',
  ColonExpected: 'a colon (:) is missing after a property name',
  CommaExpected: 'a comma is missing between two items',
  CloseBraceExpected: 'a closing } is missing',
  CloseBracketExpected: 'a closing ] is missing',
  EndOfFileExpected: 'there is more after the end of the JSON',
  InvalidCommentToken: 'JSON does not allow comments',
  UnexpectedEndOfComment: 'JSON does not allow comments',
  UnexpectedEndOfString: 'a string is not closed with "',
  UnexpectedEndOfNumber: 'a number is cut short',
  InvalidUnicode: 'a \\u escape is wrong',
  InvalidEscapeCharacter: 'a backslash escape is wrong (write \\\\ for a backslash)',
  InvalidCharacter: 'a control character inside a string',
};

/** A filter or a job spec is a few KiB: this much is not one (and /dev/zero never ends). */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/**
 * A JSON file a person wrote (a filter, a job spec): its value, or a usage error naming the file, the line
 * and column of a syntax error and what is wrong there, in words. A byte-order mark (as editors on Windows
 * save) is fine. A FIFO (`<(jq …)`) is read without blocking the process; `signal` ends the wait for its
 * writer, rethrowing the signal's reason.
 */
export async function readJsonFile(path: string, what: string, signal?: AbortSignal): Promise<{ data: unknown; text: string }> {
  let text: string;
  try {
    text = (await readTextFile(path, MAX_JSON_BYTES, `a ${what} file`, signal)).replace(/^\uFEFF/, '');
  } catch (error) {
    if (signal?.aborted) throw error; // the run stopped: not a problem of the file
    throw usageError(`${what} ${path}: ${describeFileError(error)}`);
  }
  try {
    return { data: JSON.parse(text) as unknown, text };
  } catch {
    // Node's own message has no position on recent V8: the JSONC parser (VS Code's) finds where it breaks.
    const { parse, printParseErrorCode } = await import('jsonc-parser');
    const errors: import('jsonc-parser').ParseError[] = [];
    parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    if (!first) throw usageError(`${what} ${path}: not valid JSON`);
    const before = text.slice(0, first.offset).split('\n');
    const line = before.length;
    const column = (before.at(-1)?.length ?? 0) + 1;
    const code = printParseErrorCode(first.error);
    const singleQuoted = code === 'InvalidSymbol' && text[first.offset] === "'";
    const near = text.slice(Math.max(0, first.offset - 20), first.offset + 10);
    const problem = singleQuoted ? 'names and texts take "double quotes", not single ones' : (SYNTAX[code] ?? code);
    throw usageError(`${what} ${path}: not valid JSON at line ${line}, column ${column}: ${problem} (near ${quoted(near, 40)})`);
  }
}
