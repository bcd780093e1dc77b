import type { FakeRequest } from './exchange.js';
import type { FakeState } from './state.js';

/**
 * With hostile.echoCredentials, what an error message adds: `what` and the credential the request
 * carried; with 'encoded', that credential as careless servers echo it as well.
 */
export function echoed(state: FakeState, what: string, credential: string): string {
  const mode = state.hostile.echoCredentials;
  if (!mode) return '';
  return ` (${what} ${mode === 'encoded' ? [credential, ...carelessForms(credential)].join(' ; ') : credential})`;
}

/** A request's bearer token, as `echoed` takes it. */
export const carriedToken = (request: FakeRequest): [what: string, credential: string] =>
  request.authorization?.startsWith('Bearer ')
    ? ['request carried Bearer', request.authorization.slice('Bearer '.length)]
    : ['request carried', request.authorization ?? 'no Authorization'];

/** What the red-team review of issue 21 saw servers make of a credential they echoed. */
function carelessForms(credential: string): string[] {
  const bytes = Buffer.from(credential);
  const codes = [...credential].map((c) => c.charCodeAt(0));
  return [
    new URLSearchParams({ c: credential }).toString().slice(2), // form-encoded
    [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''), // every byte, lower-case hex
    encodeURIComponent(encodeURIComponent(credential)), // encoded twice: %252F
    JSON.stringify(credential).slice(1, -1).replace(/\//g, '\\/'), // PHP's json_encode: \/
    codes.map((code) => `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`).join(''),
    bytes.toString('hex').toUpperCase(),
    codes.map((code) => `&#${code};`).join(''),
    credential.replace(/[^A-Za-z0-9]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`),
    // A MIME body (76 columns) whose first line break falls inside the credential's encoding.
    Buffer.from(`${'-'.repeat(55)}${credential}`).toString('base64').replace(/.{76}/g, '$&\r\n'),
    credential.toUpperCase(),
    credential.slice(0, 12),
  ];
}
