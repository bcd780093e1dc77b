/** The second half of axios.ts: the web globals web-globals-hidden.ts hid while axios loaded, as they were. */
import { hidden } from './web-globals-hidden.js';

for (const [name, descriptor] of hidden) Object.defineProperty(globalThis, name, descriptor);
hidden.clear();
