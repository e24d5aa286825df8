#!/usr/bin/env node
// Launcher for the TypeScript CLI: registers tsx's loader so `npx sentinel` runs without a build step.
import { register } from 'tsx/esm/api';
register();
// `sentinel ... | head` closes stdout early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
