// Preloaded into a CLI child (NODE_OPTIONS=--require): at its exit, writes to LOADED_MODULES_OUT the built-in
// modules the process loaded. It reads no global before then: from Node 22 on, reading one of the web globals
// (FormData…), even its property descriptor, loads undici and node:http2.
const { writeFileSync } = require('node:fs');

process.on('exit', () => writeFileSync(process.env.LOADED_MODULES_OUT, JSON.stringify(process.moduleLoadList)));
