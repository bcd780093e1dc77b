// npm run build (and the image's build stage): a clean dist/, the compiler, then the HTML report's
// template and style sheet beside its compiled code (they are data the page is made from, not code), then
// dist/cli.js made one file with its dependencies (esbuild).
//
// Why one file: a run's process spent most of its start loading some 500 modules one by one (0.45 s of
// CPU for a dry run of 20 orders; 0.18 s bundled). The compiled modules stay in dist/ beside it, for the
// benchmark and the container test that import them; the CLI loads none of them.
//
// `--if-stale` (test:matrix, test:package's `npm pack`, test:container, the bench: each after `npm test`
// built the same tree in CI): builds only when an input changed since the last build began, as make does
// — a file under src/ or a folder's listing there (a file added or removed), this script, the compiler's
// configuration, package.json, the lock file, or the installed dependencies (npm writes
// node_modules/.package-lock.json on every install).
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const STAMP = 'dist/build-started'; // when the build in dist/ began, ms (not packed: the package holds dist's .js files and the report's assets)
const INPUTS = ['src', 'scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', 'node_modules/.package-lock.json'];

/** The newest change under `path` (a folder's own time included: it changes when an entry is added or removed), ms; 0 when it does not exist. */
function newest(path) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(stats.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function upToDate() {
  let started;
  try {
    started = Number(readFileSync(STAMP, 'utf8'));
  } catch {
    return false;
  }
  return Number.isFinite(started) && INPUTS.every((path) => newest(path) < started);
}

if (process.argv.includes('--if-stale') && upToDate()) process.exit(0);
const started = Date.now();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('src/report/html', 'dist/report/html', { recursive: true, filter: (path) => !path.endsWith('.ts') });

const ENTRY = resolve('dist/cli.js');

/**
 * A module of ours that finds a file next to itself (`new URL('./template.html', import.meta.url)`,
 * `createRequire(import.meta.url)`) still finds it inside the bundle: its import.meta.url becomes the URL it
 * had in dist/, reckoned from the bundle's own (the package can be installed anywhere).
 */
const moduleUrls = {
  name: 'module-urls',
  setup(on) {
    on.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, ({ path }) => {
      const contents = readFileSync(path, 'utf8');
      if (!contents.includes('import.meta.url') || path === ENTRY) return { contents, loader: 'js' };
      const here = `./${relative(dirname(ENTRY), path).split('\\').join('/')}`;
      return { contents: contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(here)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

/**
 * axios's Node build imports the `form-data` package for multipart bodies, and with it mime-types and its
 * 200 KB table of media types: ~20 ms of every start (`node --cpu-prof` of a dry run), for bodies this tool
 * never sends (a DELETE and a GET have none; the token request's is JSON). In the bundle it is a class that
 * says so if anything ever constructs it. (axios's lib/env/classes/FormData.js imports it too, unused.)
 */
const noMultipart = {
  name: 'no-multipart',
  setup(on) {
    on.onResolve({ filter: /^form-data$/ }, () => ({ path: 'form-data', namespace: 'no-multipart' }));
    on.onLoad({ filter: /.*/, namespace: 'no-multipart' }, () => ({
      loader: 'js',
      contents: 'export default class FormData { constructor() { throw new Error("multipart bodies are not built into exsited-order-cleanup (form-data is left out of its bundle)"); } }',
    }));
  },
};

/**
 * axios reads Node's web globals as it loads: its FormData check (utils.js), and its fetch adapter, which tests
 * what the platform's fetch API offers (fetch.js). Reading any of them makes Node load its bundled undici
 * (Node 20, and with it node:http2 from Node 22 on): ~20 ms of every start, for an adapter this tool never uses
 * (adapter 'http', src/exsited/http.ts). In the bundle neither is read as axios loads: its FormData check then
 * knows a form by its tag only (this tool sends none), and the fetch adapter is probed if ever asked for. The
 * build stops when an axios upgrade changed either line, to be looked at again.
 */
const AXIOS_LOAD_TIME_PROBES = {
  'lib/utils.js': ["const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;", 'const FormDataCtor = undefined;'],
  'lib/adapters/fetch.js': ['const adapter = getFetch();', 'const adapter = undefined;'],
};
const axiosWithoutProbes = {
  name: 'axios-without-probes',
  setup(on) {
    on.onLoad({ filter: /[\\/]node_modules[\\/]axios[\\/]lib[\\/](utils|adapters[\\/]fetch)\.js$/ }, ({ path }) => {
      const file = Object.keys(AXIOS_LOAD_TIME_PROBES).find((name) => path.split('\\').join('/').endsWith(`/axios/${name}`));
      const [line, instead] = AXIOS_LOAD_TIME_PROBES[file];
      const contents = readFileSync(path, 'utf8');
      if (contents.split(line).length !== 2) throw new Error(`axios's ${file} no longer holds, once, the line the build replaces (${line}): see axiosWithoutProbes in scripts/build.mjs`);
      return { contents: contents.replace(line, instead), loader: 'js' };
    });
  },
};

/**
 * From Node 22 on, node:http has exports that load undici when read (WebSocket, CloseEvent, MessageEvent), and
 * an ES module import of a built-in module reads every export as it links: ~20 ms of every start there. In the
 * bundle, node:http is required instead (the same module object), and re-exported by name, read once as it
 * loads as an import did: everything this build's Node.js has but those three (a named import of one of them
 * fails the build; through `import * as http` it is undefined).
 */
const UNDICI_BACKED = ['WebSocket', 'CloseEvent', 'MessageEvent'];
const httpByRequire = {
  name: 'http-by-require',
  setup(on) {
    // An import statement's only: a require() of it reads no export, and stays Node's.
    on.onResolve({ filter: /^(node:)?http$/ }, ({ kind }) => (kind === 'import-statement' ? { path: 'node:http', namespace: 'http-by-require' } : undefined));
    on.onLoad({ filter: /.*/, namespace: 'http-by-require' }, () => {
      const names = Object.keys(createRequire(import.meta.url)('node:http')).filter((name) => !UNDICI_BACKED.includes(name) && /^[A-Za-z_$][\w$]*$/.test(name));
      return { loader: 'js', contents: `const http = require('node:http'); export default http; export const { ${names.join(', ')} } = http;` };
    });
  },
};

/**
 * axios imports node:http2 as it loads, for an HTTP/2 transport this tool never asks for (`httpVersion: 2`):
 * ~10 ms of every start. Its two uses of it (connect, constants) load it when first called.
 */
const lazyHttp2 = {
  name: 'lazy-http2',
  setup(on) {
    on.onResolve({ filter: /^http2$/ }, ({ importer }) => (/[\\/]node_modules[\\/]axios[\\/]/.test(importer) ? { path: 'http2', namespace: 'lazy-http2' } : undefined));
    on.onLoad({ filter: /.*/, namespace: 'lazy-http2' }, () => ({
      loader: 'js',
      contents: "import { createRequire } from 'node:module'; let http2; const load = () => (http2 ??= createRequire(import.meta.url)('node:http2')); " +
        'export default { get constants() { return load().constants; }, connect: (...args) => load().connect(...args) };',
    }));
  },
};

await build({
  entryPoints: [ENTRY],
  outfile: ENTRY,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // A package's ES module build first: jsonc-parser's `main` is a UMD file that requires its parts by
  // relative path at run time, which inside the bundle would resolve against dist/ (exit 70 on a bad job file).
  mainFields: ['module', 'main'],
  // The CommonJS dependencies inside an ES module call require(): give them Node's.
  banner: { js: "import { createRequire as __cliCreateRequire } from 'node:module'; const require = __cliCreateRequire(import.meta.url);" },
  plugins: [moduleUrls, noMultipart, lazyHttp2, axiosWithoutProbes, httpByRequire],
  // Whitespace only: a third less for Node to read and compile at each start (names kept: stack traces and
  // `name`s stay readable).
  minifyWhitespace: true,
  logLevel: 'warning',
});
// All ASCII: one other character makes the whole 1.4 MB source text two bytes a character for V8, and Node's
// decoding of it ~6 ms slower at every start. esbuild escapes the rest, bar what it must keep as written: a
// tagged template's text (its raw form), a regular expression literal, and legal comments (`/*! … */`).
const bundled = readFileSync(ENTRY, 'latin1');
const nonAscii = /[^\x00-\x7f]/.exec(bundled);
if (nonAscii) {
  const around = bundled.slice(Math.max(0, nonAscii.index - 60), nonAscii.index + 20).replace(/[^\x20-\x7e]/g, '?');
  throw new Error(`${ENTRY} holds a character outside ASCII at offset ${nonAscii.index}, here: ${around}\n` +
    'In a tagged template or a regular expression, write it as \\uXXXX; in a dependency\'s legal comment, decide how the bundle keeps it.');
}
rmSync(`${ENTRY}.map`, { force: true }); // the compiler's map of the unbundled cli.js: it maps nothing in the bundle
writeFileSync(STAMP, String(started)); // written last: a build that failed part-way leaves none, and the next one builds
