// Starts a service as a real process (end-to-end tests, benchmarks, fault scenarios) and waits for it
// to be ready; logs are kept so a failing test can show them.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_FLAGS } from '@cruise/shared';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);

export type ServiceName = 'gateway' | 'inventory' | 'issuance' | 'redemption' | 'notifications' | 'octo';

export interface RunningService {
  name: ServiceName;
  url: string;
  process: ChildProcess;
  logs(): string;
  /** SIGTERM and wait for exit (graceful shutdown). */
  stop(): Promise<void>;
  /** SIGKILL: the process dies mid-work. */
  kill(): Promise<void>;
}

export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  opts: { port: number; readyTimeoutMs?: number; args?: string[] },
): Promise<RunningService> {
  const portVar = `${name.toUpperCase()}_PORT`;
  const tsx = require.resolve('tsx');
  const child = spawn(
    process.execPath,
    [
      ...SERVICE_NODE_FLAGS,
      ...(opts.args ?? []),
      '--import',
      tsx,
      path.join(REPO_ROOT, 'services', name, 'src', 'server.ts'),
    ],
    { env: { ...process.env, ...env, [portVar]: String(opts.port) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (d: Buffer) => {
    output += d.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within the timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    url,
    process: child,
    logs: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
