import type { FakeRequest } from './exchange.js';
import type { FakeState } from './state.js';

/** With hostile.echoCredentials, what an error message adds: the credentials it was sent. */
export const echoed = (state: FakeState, carried: string): string => (state.hostile.echoCredentials ? ` (${carried})` : '');

export const carriedToken = (request: FakeRequest): string => `request carried ${request.authorization ?? 'no Authorization'}`;
