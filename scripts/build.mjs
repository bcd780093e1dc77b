// npm run build (and the image's build stage): a clean dist/, the compiler, then the HTML report's
// template and style sheet beside its compiled code (they are data the page is made from, not code).
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('src/report/html', 'dist/report/html', { recursive: true, filter: (path) => !path.endsWith('.ts') });
