// Entry point: runs the program and turns every failure into one line on stderr and an exit code:
// 2 for a usage or configuration mistake, 1 for a refusal by the API or an unreachable gateway.
import { ApiError, BatchFailedError } from '@cruise/client';
import { CommanderError } from 'commander';
import { UsageError } from './profiles.ts';
import { buildProgram } from './program.ts';

export async function main(argv: string[]): Promise<number> {
  // Ctrl-C while a bar is drawn: give the terminal its cursor back (the bar hides it) and exit as 130.
  process.once('SIGINT', () => {
    if (process.stdout.isTTY) process.stdout.write('\x1b[?25h\n');
    process.exit(130);
  });
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  const say = (line: string) => process.stderr.write(`cruise: ${line}\n`);
  if (err instanceof CommanderError) {
    // commander has already printed its message (help, version or the usage error).
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0
      ? 0
      : 2;
  }
  if (err instanceof UsageError) {
    say(err.message);
    return 2;
  }
  if (err instanceof ApiError) {
    say(err.describe());
    return 1;
  }
  if (err instanceof BatchFailedError) {
    say(err.message);
    return 1;
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (err instanceof TypeError && cause) {
    say(`cannot reach the gateway: ${cause.code ?? cause.message}`);
    return 1;
  }
  say(err instanceof Error ? err.message : String(err));
  return 1;
}

if (import.meta.main) {
  // stdout may be a pipe closed early (`| head`): stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  process.exitCode = await main(process.argv.slice(2));
}
