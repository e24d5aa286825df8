// How long `sentinel --help` and `--version` take, hyperfine-style: each command run N times, interleaved round by
// round with a bare `node -e ""` (Node's own start-up on this machine at that moment), so a busy machine slows all
// of them alike. Prints min / median / max in ms. Extra commands to compare (an older checkout's bin, say) can be
// given as arguments, each one quoted string. Builds dist/ first.
//   node tests/bench/cli-startup.mjs [--runs 15] ["node /tmp/old/bin/sentinel.mjs --help" …]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/sentinel.mjs', import.meta.url));
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 15;
const commands = [
  ['node (empty)', [process.execPath, '-e', '']],
  ['sentinel --help', [process.execPath, bin, '--help']],
  ['sentinel --version', [process.execPath, bin, '--version']],
  ...args.map((c) => [c, c.split(' ')]),
];
// The compiled CLI is what users run: build it now (bin/sentinel.mjs would run the sources if dist/ were stale).
execFileSync(process.execPath, [fileURLToPath(new URL('../../infra/scripts/build-dist.mjs', import.meta.url)), '--quiet'], { stdio: 'inherit' });
const times = commands.map(() => []);
for (let r = 0; r < runs; r++) {
  for (const [i, [, [cmd, ...rest]]] of commands.entries()) {
    const t0 = performance.now();
    execFileSync(cmd, rest, { stdio: 'ignore' });
    times[i].push(performance.now() - t0);
  }
}
for (const [i, [name]] of commands.entries()) {
  const t = times[i].sort((a, b) => a - b);
  console.log(`${name.padEnd(50)} min ${t[0].toFixed(0).padStart(5)}  median ${t[t.length >> 1].toFixed(0).padStart(5)}  max ${t[t.length - 1].toFixed(0).padStart(5)} ms  (${runs} runs)`);
}
