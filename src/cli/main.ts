/**
 * The `dltheory` command line. Exit codes: 0 ok; 1 a claim does not hold or a measure failed;
 * 2 bad input or usage, always with a one-line message naming the problem.
 */
import { InputError } from '../errors.js';
import { helpText, type Command } from './args.js';
import { trainCommand } from './train.js';
import { evalCommand, predictCommand } from './predict.js';
import { runsCommand } from './runs.js';
import { reproduceCommand } from './reproduce.js';
import { benchCommand } from './bench.js';
import { zooCommand } from './zoo.js';
import { gapCommand } from './gap.js';
import { marginsCommand } from './margins.js';
import { gdvCommand } from './gdv.js';
import { depthCommand } from './depth.js';
import { gramCommand } from './gram.js';
import { flatnessCommand } from './flatness.js';
import { landscapeCommand } from './landscape.js';
import { hessianCommand } from './hessian.js';
import { layersCommand } from './layers.js';
import { convergeCommand } from './converge.js';
import { shapesCommand } from './shapes.js';
import { spectraCommand } from './spectra.js';
import { serveCommand } from './serve.js';
import { workerCommand } from './worker.js';
import { queueCommand } from './queue.js';
import { sweepCommand } from './sweep.js';

const COMMANDS: Command[] = [trainCommand, predictCommand, evalCommand, runsCommand, layersCommand, marginsCommand, gdvCommand, depthCommand, gramCommand,
  flatnessCommand, landscapeCommand, hessianCommand, spectraCommand, convergeCommand, shapesCommand, zooCommand, gapCommand, reproduceCommand, serveCommand,
  benchCommand, sweepCommand, workerCommand, queueCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `dltheory: a laboratory for the theory of deep learning\n\nusage: dltheory COMMAND [options]   (dltheory COMMAND --help)\n\n${
    COMMANDS.map(
      (c) => `  ${c.name.padEnd(width)}  ${c.summary}`,
    ).join('\n')
  }\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) throw new InputError(`give a command: ${COMMANDS.map((c) => c.name).join(', ')} (dltheory --help for usage)`);
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new InputError(`unknown command '${name}' (${COMMANDS.map((c) => c.name).join(', ')})`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(cmd));
    return 0;
  }
  return cmd.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  const err = e as Error;
  const line = (err.message ?? String(e)).split('\n')[0];
  process.stderr.write(`dltheory: ${line}\n`);
  if (process.env.DLTHEORY_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exitCode = e instanceof InputError ? 2 : 1;
}
