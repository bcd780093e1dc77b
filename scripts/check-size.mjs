// npm run lint:size (part of npm test): no function in src/ over 80 lines, no file over 300. A function that
// long has rooms of its own to move into; a file that long, a second subject (issue 22). Names each
// offender with its place and length, and exits 1 if there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const MAX_FUNCTION = 80;
const MAX_FILE = 300;

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) yield path;
  }
}

const offenders = [];
for (const path of sources(process.argv[2] ?? 'src')) {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0); // as wc -l counts them
  if (lines > MAX_FILE) offenders.push(`${path}: ${lines} lines (at most ${MAX_FILE} in a file)`);
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const lineOf = (position) => file.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const first = lineOf(node.getStart());
      const length = lineOf(node.end) - first + 1;
      if (length > MAX_FUNCTION) offenders.push(`${path}:${first}: ${node.name?.getText() ?? '(anonymous function)'}, ${length} lines (at most ${MAX_FUNCTION} in a function)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}
if (offenders.length > 0) {
  console.error(offenders.join('\n'));
  process.exit(1);
}
