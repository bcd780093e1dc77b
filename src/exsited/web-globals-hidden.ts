/**
 * The first half of axios.ts: Node's web globals that load Node's bundled undici when first read (FormData,
 * Headers, Request, Response), hidden while axios loads. axios reads them as it loads (its FormData check,
 * and its fetch adapter tests what the platform offers), which costs every start of this tool ~20 ms of
 * CPU for an adapter it never uses (its requests go through Node's http, `adapter: 'http'`). Only Node's lazy
 * getters are hidden (Node 20); a global that is a value (Node 22 on, or one a test set) is left alone.
 * web-globals-restored.ts puts them back as soon as axios has loaded.
 */
const LAZY = ['FormData', 'Headers', 'Request', 'Response'];

export const hidden = new Map<string, PropertyDescriptor>();
for (const name of LAZY) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
  if (!descriptor?.get || !descriptor.configurable) continue;
  hidden.set(name, descriptor);
  Object.defineProperty(globalThis, name, { value: undefined, writable: true, configurable: true, enumerable: descriptor.enumerable ?? false });
}
