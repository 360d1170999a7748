// Engine invariants checked at run time, in production too: a broken one means the state is no
// longer what the journal says it is, so the caller must stop (the journal sequencer turns any
// engine throw into ENGINE_FAILED, which is fatal) rather than acknowledge more commands.
// Messages are string literals: a check that passes costs one comparison and allocates nothing.

/** An engine invariant did not hold: a bug, never bad input (bad input is rejected with a code). */
export class EngineAssertionError extends Error {
  readonly code = 'ENGINE_ASSERTION';

  constructor(message: string) {
    super(message);
    this.name = 'EngineAssertionError';
  }
}

/** Throws EngineAssertionError(`message`) unless `condition` holds. Pass a literal message. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new EngineAssertionError(message);
}
