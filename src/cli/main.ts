// `hoga` command line: one subcommand per file in this folder, registered here.
import { Command } from 'commander';
import { Engine } from '../core/engine.js';
import { registerReplay } from './replay.js';

function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the exchange')
    .action(() => {
      const engine = new Engine();
      process.stdout.write(`${JSON.stringify({ msg: 'engine ready', stateHash: engine.stateHash() })}\n`);
    });
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('hoga').description('Hoga: a self-hosted exchange');
  registerStart(program);
  registerReplay(program);
  await program.parseAsync(argv);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1]);
if (invokedDirectly) await main(process.argv);
