// A JSON array whose elements are built while a snapshot is written, after the pause of intake,
// instead of inside it. For participant state (participant.ts) that no later command can change:
// immutable records, or values copied in the pause. The snapshot writer expands it element by
// element in its slices; JSON.stringify expands it through toJSON, so it reads like plain data.
export class DeferredArray {
  constructor(
    readonly length: number,
    private readonly element: (index: number) => unknown,
  ) {}

  /** Element `index`, built now; elements are asked for in order, each once per serialisation. */
  at(index: number): unknown {
    return this.element(index);
  }

  toJSON(): unknown[] {
    const elements = new Array(this.length);
    for (let index = 0; index < this.length; index++) elements[index] = this.element(index);
    return elements;
  }
}
