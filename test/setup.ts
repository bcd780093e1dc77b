import { afterAll, afterEach } from '@jest/globals';
import { endPending } from './helpers/teardown.js';

// A test that times out leaves its runs and servers behind: they must not outlive it (test/helpers/teardown.ts).
afterEach(() => endPending('test'));
afterAll(() => endPending('file'));
