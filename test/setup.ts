import { afterEach } from '@jest/globals';
import { killStrayChildren } from './helpers/cli.js';

// A test that times out leaves its CLI child running; it must not hold the suite open.
afterEach(() => killStrayChildren());
