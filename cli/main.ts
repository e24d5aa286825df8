/**
 * The `sentinel` CLI dispatcher (bin/sentinel.mjs runs main()). Commands live in cli/commands/ and are listed in
 * `commands` below with their one-line summary; a command's module (and tfjs with it) is imported only when that
 * command runs, so `sentinel --help` and `--version` answer at once. Each parses its own options with node:util parseArgs.
 * Exit codes: 0 ok, 1 the command failed (bad input, unreadable file: message on stderr), 2 usage error.
 * Error codes printed (`[not_found]`, and `error.code` in --json) are the API's (shared/errors.ts publicErrorCode).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIO } from '../shared/config.ts';
import { publicErrorCode, SentinelError } from '../shared/errors.ts';
import type { Command, CommandIO } from './command.ts';
import { fileError } from './files.ts';
import { ROOT } from './root.ts';

export interface CommandEntry {
  /** One line for `sentinel --help`. */
  summary: string;
  load(): Promise<Command>;
}

export const commands = new Map<string, CommandEntry>([
  ['predict', { summary: 'Danger or safe for audio files (windows, events, probability)', load: async () => (await import('./commands/predict.ts')).predictCommand }],
  ['train', { summary: 'Train a model from a folder or zip of safe/ and danger/ clips', load: async () => (await import('./commands/train.ts')).trainCommand }],
  ['eval', { summary: "A model's metrics on a labelled folder or zip", load: async () => (await import('./commands/eval.ts')).evalCommand }],
  ['eval-robust', { summary: "How much re-encoding a clip (16/44.1 kHz WAV, 128k MP3) changes the model's verdict", load: async () => (await import('./commands/eval-robust.ts')).evalRobustCommand }],
  ['spectrogram', { summary: `Log-mel spectrogram (dB) of the first ${AUDIO.windowSeconds} s of an audio file`, load: async () => (await import('./commands/spectrogram.ts')).spectrogramCommand }],
  ['keys', { summary: 'List, create or revoke API keys of a running service', load: async () => (await import('./commands/keys.ts')).keysCommand }],
]);

/** package.json's version (the project root is found from this file, compiled or not). */
export function version(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function overview(): string {
  const width = Math.max(...[...commands.keys()].map((n) => n.length));
  return [
    'usage: sentinel <command> [options]',
    '       sentinel --version',
    '',
    'commands:',
    ...[...commands].map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
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
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout(`sentinel ${version()}\n`);
    return 0;
  }
  const entry = commands.get(name);
  if (!entry) {
    io.stderr(`sentinel: unknown command "${name}"\n\n${overview()}\n`);
    return 2;
  }
  const command = await entry.load();
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
  } catch (thrown) {
    // A file-system error no command caught (an --out folder, say) still reads as a sentence, not as errno text.
    const err = fileError(thrown, (thrown as NodeJS.ErrnoException)?.path ?? '');
    if (err instanceof SentinelError) {
      io.stderr(`sentinel ${name}: ${err.message} [${publicErrorCode(err.code)}]\n`);
      return err.code === 'USAGE' ? 2 : 1;
    }
    throw err;
  }
}
