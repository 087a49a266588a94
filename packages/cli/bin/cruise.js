#!/usr/bin/env node
// Node 24 runs the TypeScript sources directly (type stripping); nothing to build.
import { main } from '../src/main.ts';

process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
});
process.exitCode = await main(process.argv.slice(2));
