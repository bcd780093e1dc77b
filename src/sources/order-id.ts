import { usageError } from '../common/errors.js';
import { CONTROL } from '../common/text.js';

/** The default shape of an order ID: one path segment of letters, digits, `-` and `_`, at most 100 chars. */
const DEFAULT_ID_PATTERN = '[A-Za-z0-9][A-Za-z0-9_-]{0,99}';

/** A custom --id-pattern may be wider, never longer than this. */
const HARD_MAX_LENGTH = 1024;

/**
 * Refused whatever --id-pattern says: anything that could change the request path once the server decodes
 * it (`/`, `\`, `?`, `#`, `%`, `.` and `..`), whitespace and control characters.
 */
const ALWAYS_REFUSED: Array<[RegExp, string]> = [
  [/[/\\]/, 'contains a path separator (/ or \\)'],
  [/[?#]/, 'contains ? or #'],
  [/%/, 'contains % (IDs are percent-encoded by the tool; give them decoded)'],
  [/\s/u, 'contains whitespace'],
  [CONTROL, 'contains a control character'],
  [/\p{Cs}/u, 'contains a lone surrogate (not valid Unicode text)'],
];

export type OrderIdValidator = (id: string) => string | undefined;

const NOT_MATCHING = 'does not match the order ID pattern';
const DEFAULT_TOO_LONG = 'longer than 100 characters';

/** Whether a wider --id-pattern could let an ID refused for `reason` through: only the pattern's own refusals can. */
export const widenable = (reason: string): boolean => reason.startsWith(NOT_MATCHING) || reason === DEFAULT_TOO_LONG;

/** Returns a validator: `undefined` for a valid ID, else the reason it is refused. */
export function orderIdValidator(customPattern?: string): OrderIdValidator {
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${customPattern ?? DEFAULT_ID_PATTERN})$`, 'u');
  } catch (error) {
    throw usageError(`--id-pattern is not a valid regular expression: ${(error as Error).message}`);
  }
  const patternText = customPattern ?? DEFAULT_ID_PATTERN;
  return (id) => {
    // The default shape admits none of the refused characters: one test settles the common case.
    if (customPattern === undefined && pattern.test(id)) return undefined;
    if (id === '') return 'empty order ID';
    if (id === '.' || id === '..') return `"${id}" is a relative path segment`;
    for (const [refused, reason] of ALWAYS_REFUSED) if (refused.test(id)) return reason;
    if (id.length > HARD_MAX_LENGTH) return `longer than ${HARD_MAX_LENGTH} characters`;
    if (!pattern.test(id)) {
      return customPattern || id.length <= 100 ? `${NOT_MATCHING} ${patternText}` : DEFAULT_TOO_LONG;
    }
    return undefined;
  };
}
