/**
 * The `sentinel` CLI dispatcher (bin/sentinel.mjs runs main()). Commands live in cli/commands/ and are registered in
 * `commands` below; each parses its own options with node:util parseArgs.
 * Exit codes: 0 ok, 1 the command failed (bad input, unreadable file: message on stderr), 2 usage error.
 */
import { parseArgs } from 'node:util';
import { SentinelError } from '../shared/errors.ts';
import type { Command, CommandIO } from './command.ts';
import { evalCommand } from './commands/eval.ts';
import { evalRobustCommand } from './commands/eval-robust.ts';
import { keysCommand } from './commands/keys.ts';
import { predictCommand } from './commands/predict.ts';
import { spectrogramCommand } from './commands/spectrogram.ts';
import { trainCommand } from './commands/train.ts';

export const commands = new Map<string, Command>(
  [predictCommand, trainCommand, evalCommand, evalRobustCommand, spectrogramCommand, keysCommand].map((c) => [c.name, c]),
);

function overview(): string {
  const width = Math.max(...[...commands.keys()].map((n) => n.length));
  return [
    'usage: sentinel <command> [options]',
    '',
    'commands:',
    ...[...commands.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `sentinel <command> --help` for a command\'s options.',
  ].join('\n');
}

const processIO: CommandIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(overview() + '\n');
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(overview() + '\n');
    return 0;
  }
  const command = commands.get(name);
  if (!command) {
    io.stderr(`sentinel: unknown command "${name}"\n\n${overview()}\n`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.stderr(`sentinel ${name}: ${(err as Error).message}\n\nusage: ${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout(`usage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, io);
  } catch (err) {
    if (err instanceof SentinelError) {
      io.stderr(`sentinel ${name}: ${err.message} [${err.code}]\n`);
      return err.code === 'USAGE' ? 2 : 1;
    }
    throw err;
  }
}
