// The read-model contract on embedded PGlite (in memory).
import { pgliteBackend } from './backends.js';
import { storeContract } from './contract.js';

storeContract(pgliteBackend());
