// A full garbage collection on demand, so one phase's garbage (order-flow generation, the other
// engine's run) is not collected inside the next phase's timed region. `npm run` cannot pass
// `--expose-gc`, so the flag is set at run time and the `gc` function taken from a fresh context.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function collectGarbage(): void {
  gc();
}
