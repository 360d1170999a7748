// `hoga` command line: one subcommand per file in this folder, registered here.
import { Command } from 'commander';
import { registerAdminCommands } from './admin.js';
import { registerClusterCommands } from './cluster.js';
import { registerDbCommands } from './db.js';
import { registerEngineCommand } from './engine.js';
import { registerGatewayCommand } from './gateway.js';
import { registerJournalCommands } from './journal.js';
import { registerProjectorCommand } from './projector.js';
import { registerReplay } from './replay.js';
import { registerStartCommand } from './start.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('hoga').description('Hoga: a self-hosted exchange');
  registerStartCommand(program);
  registerAdminCommands(program);
  registerReplay(program);
  registerJournalCommands(program);
  registerDbCommands(program);
  registerEngineCommand(program);
  registerGatewayCommand(program);
  registerProjectorCommand(program);
  registerClusterCommands(program);
  await program.parseAsync(argv);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1]);
if (invokedDirectly) await main(process.argv);
