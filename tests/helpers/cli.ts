/** Runs the `sentinel` CLI (bin/sentinel.mjs) in a child process, as a user would, and collects its exit code and output. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const bin = new URL('../../bin/sentinel.mjs', import.meta.url).pathname;

export async function sentinel(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { maxBuffer: 64 << 20, timeout: 300_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
