/** What a `sentinel` subcommand provides; register it in cli/main.ts's `commands` map (with its one-line summary). */
import type { ParseArgsConfig } from 'node:util';

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Command {
  name: string;
  /** Usage text for `sentinel <name> --help` (after the "usage:" line). */
  usage: string;
  /** node:util parseArgs options (a --help flag is added by the dispatcher). */
  options: NonNullable<ParseArgsConfig['options']>;
  /** Runs the command; returns the process exit code. Throw SentinelError for bad input (exit 1 with its message). */
  run(args: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] }, io: CommandIO): Promise<number>;
}
