import Sequencer from '@jest/test-sequencer';

/**
 * The order Jest starts test files in. With timings from an earlier run, Jest's own: the slowest first, so
 * no worker is left with a long file at the end. Without them (a fresh clone: CI), Jest guesses by file
 * size, and the slowest files here are short ones that wait on real time (a Retry-After, a child process,
 * a terminal): those under test/e2e/ and test/adversarial/ go first, then the rest, largest first.
 */
export default class SlowFirst extends Sequencer {
  sort(tests) {
    if (tests.every((test) => this.time(test) != null)) return super.sort(tests);
    const spawns = (test) => /[\\/]test[\\/](e2e|adversarial)[\\/]/.test(test.path);
    const size = (test) => test.context.hasteFS.getSize(test.path) ?? 0;
    return [...tests].sort((a, b) => Number(spawns(b)) - Number(spawns(a)) || size(b) - size(a));
  }
}
