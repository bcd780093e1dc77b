/** Jest runs the TypeScript sources as ESM through ts-jest; e2e tests spawn the built CLI in dist/. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  // Two workers on this 2-core machine: the e2e tests mostly wait on child processes and on the fake's latency.
  maxWorkers: 2,
  // Setting it keeps every run in worker processes, never in band, one test file included: a handle a test
  // leaves open (a timer, a socket) then dies with its worker, which Jest force-exits at the end naming the
  // leak; in band, Jest's own process waited for it (5 minutes: a run's Retry-After, after a test timed out).
  workerIdleMemoryLimit: '1GB',
};
