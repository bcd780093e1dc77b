// Preloaded into a CLI child (NODE_OPTIONS=--require): at its exit, writes to LOADED_MODULES_OUT the built-in
// modules the process loaded, and whether Node's lazy web globals (FormData…) were lazy getters at start and
// are the same getters again at exit (web-globals-hidden.ts hides them while axios loads, then puts them back).
const { writeFileSync } = require('node:fs');

const NAMES = ['FormData', 'Headers', 'Request', 'Response'];
const before = Object.fromEntries(NAMES.map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)?.get]));
process.on('exit', () => {
  const lazy = NAMES.every((name) => typeof before[name] === 'function');
  const restored = NAMES.every((name) => Object.getOwnPropertyDescriptor(globalThis, name)?.get === before[name]);
  writeFileSync(process.env.LOADED_MODULES_OUT, JSON.stringify({ lazy, restored, modules: process.moduleLoadList }));
});
