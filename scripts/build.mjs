// npm run build (and the image's build stage): a clean dist/, the compiler, then the HTML report's
// template and style sheet beside its compiled code (they are data the page is made from, not code), then
// dist/cli.js made one file with its dependencies (esbuild).
//
// Why one file: a run's process spent most of its start loading some 500 modules one by one (0.45 s of
// CPU for a dry run of 20 orders; 0.18 s bundled). The compiled modules stay in dist/ beside it, for the
// benchmark and the container test that import them; the CLI loads none of them.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { build } from 'esbuild';

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
  plugins: [moduleUrls],
  // Whitespace only: a third less for Node to read and compile at each start (names kept: stack traces and
  // `name`s stay readable).
  minifyWhitespace: true,
  logLevel: 'warning',
});
rmSync(`${ENTRY}.map`, { force: true }); // the compiler's map of the unbundled cli.js: it maps nothing in the bundle
