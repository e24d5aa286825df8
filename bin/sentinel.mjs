#!/usr/bin/env node
// Launcher for the TypeScript CLI: registers tsx's loader so `npx sentinel` runs without a build step.
import { register } from 'tsx/esm/api';
register();
await import('../cli/main.ts');
