// A private redis-server for a test that needs a Redis it alone controls (a password, the DEBUG
// command), on a port no other test file is handed (freePort), ready when it answers PING.
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './processes.ts';

export interface PrivateRedis {
  port: number;
  /** redis://[:password@]127.0.0.1:port */
  url: string;
  process: ChildProcess;
  /** What the server printed (for a failure message). */
  output(): string;
  /** SIGTERM, waiting for the exit. */
  stop(): Promise<void>;
}

export async function startRedisServer(
  opts: { password?: string; args?: string[]; timeoutMs?: number } = {},
): Promise<PrivateRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  if (opts.password) args.push('--requirepass', opts.password);
  const child = spawn('redis-server', [...args, ...(opts.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  child.stdout?.on('data', (d) => {
    printed += d.toString();
  });
  child.stderr?.on('data', (d) => {
    printed += d.toString();
  });
  child.on('error', (err) => {
    printed += `${err.message}\n`;
  });
  const server: PrivateRedis = {
    port,
    url: `redis://${opts.password ? `:${opts.password}@` : ''}127.0.0.1:${port}`,
    process: child,
    output: () => printed,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited:\n${printed}`);
    const probe = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return server;
    } catch {
      // not listening yet
    } finally {
      probe.disconnect();
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`redis-server did not start:\n${printed}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
