/**
 * The layering of src/ (docs/development.md): data flows one way, and a room imports only from the
 * rooms below it — type imports included. `npm test` checks it (npm run lint:layers).
 */
const RANKS = [
  ['common'],
  ['exsited', 'fake-exsited'],
  ['sources', 'engine'],
  ['audit'],
  ['guards'],
  ['planner', 'report'],
  ['config'],
  ['run'],
  ['commands'],
];
const rank = (room) => RANKS.findIndex((rooms) => rooms.includes(room));
const rooms = RANKS.flat();
const TOP = '^src/[^/]+\\.ts$'; // cli and program: the command line, above every room

module.exports = {
  forbidden: [
    ...rooms.map((room) => ({
      name: `${room}-imports-only-lower-rooms`,
      comment: `src/${room}/ may import only from rooms ranked below it: ${rooms.filter((other) => rank(other) < rank(room)).join(', ') || 'none'}`,
      severity: 'error',
      from: { path: `^src/${room}/` },
      to: {
        path: [...rooms.filter((other) => other !== room && rank(other) >= rank(room)).map((other) => `^src/${other}/`), TOP],
      },
    })),
    { name: 'no-circular', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error', from: { path: '^src/' }, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
