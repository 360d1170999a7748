// The read-model contract on the PostgreSQL server of this machine.
import { postgresBackend } from './backends.js';
import { storeContract } from './contract.js';

storeContract(postgresBackend());
