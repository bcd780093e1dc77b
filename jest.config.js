/**
 * Jest runs the TypeScript sources as ESM, compiled by SWC (types are the compiler's job: npm run build and
 * npm run typecheck); e2e tests spawn the built CLI in dist/.
 *
 * Two tiers, by folder. The fast tier: test/*.test.ts — units, in-process compositions and everything about
 * time on simulated time — plus test/e2e/run.test.ts and resilience.test.ts, the main path, signals, kills
 * and resumes through the built CLI. The rest, test/e2e/ and test/adversarial/, is the whole suite's:
 * `npm test` runs everything; `npm run test:matrix` the fast tier on the other Node.js lines
 * (TEST_TIER=fast).
 */
const FAST_TIER = ['<rootDir>/test/*.test.ts', '<rootDir>/test/e2e/run.test.ts', '<rootDir>/test/e2e/resilience.test.ts'];

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }] },
  testMatch: process.env.TEST_TIER === 'fast' ? FAST_TIER : ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  testSequencer: '<rootDir>/test/sequencer.mjs',
  // A copy of the built CLI that nobody can reach, wherever the checkout lives (test/global-setup.ts).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // Six workers on a 2-core machine: the e2e tests mostly wait (on child processes, the fake's latency, a
  // Retry-After, a terminal), so more workers than cores keep both busy (measured on the built CLI bundle:
  // 4 workers ~62 s, 6 ~51 s, with both cores then nearly always busy). Nothing asserts speed: rates and
  // waits are proven on simulated time (test/deletion-timing.test.ts), and the real-time bounds hold on a
  // busy machine.
  maxWorkers: 6,
  // Setting it keeps every run in worker processes, never in band, one test file included: a handle a test
  // leaves open (a timer, a socket) then dies with its worker, which Jest force-exits at the end naming the
  // leak; in band, Jest's own process waited for it (5 minutes: a run's Retry-After, after a test timed out).
  workerIdleMemoryLimit: '1GB',
};
