// The core engine as recovery's EngineFactory.
import { Engine } from '../core/engine.js';
import { defaultEngineLimits, type EngineLimits } from '../core/types.js';
import type { EngineFactory } from './recovery.js';

export function coreEngineFactory(limits: EngineLimits = defaultEngineLimits): EngineFactory {
  return {
    create: () => new Engine(limits),
    restore: (state) => Engine.fromState(state, limits),
  };
}
