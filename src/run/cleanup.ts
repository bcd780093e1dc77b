/**
 * What a run must undo or finish however it ends, in the reverse order it was set up (a stack, like Go's
 * defer): the lock taken first is released last, after the client is closed and the reports are made.
 * Each phase registers what it set up, so the composition never tracks it in variables of its own.
 */
export class Cleanup {
  private readonly steps: Array<() => Promise<void> | void> = [];

  defer(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  /** Runs every step, last registered first; each runs even if an earlier one failed, and the first failure is thrown after all. */
  async run(): Promise<void> {
    let failure: { error: unknown } | undefined;
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}
