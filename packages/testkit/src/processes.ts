// Starts a service as a real process (end-to-end tests, benchmarks, fault scenarios) and waits for it
// to be ready; logs are kept so a failing test can show them.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, readlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
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
      // Ready means OUR process answers: `freePort` closes its probe before the service binds, so
      // another test file's service can take the port first, and its /readyz would answer for ours.
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200 && (await listensOn(child.pid!, opts.port))) break;
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
/**
 * Whether the process `pid`, or one of its descendants, holds the listening TCP socket of `port`
 * (Linux: /proc/net/tcp{,6} name the socket's inode, /proc/<pid>/fd link to it). Where /proc is
 * missing it cannot tell and answers true.
 */
export async function listensOn(pid: number, port: number): Promise<boolean> {
  if (!existsSync('/proc/net/tcp')) return true;
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st … inode: state 0A is LISTEN.
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return false;
  for (const p of await processTree(pid)) {
    const fds = await readdir(`/proc/${p}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${p}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) return true;
    }
  }
  return false;
}

/** `pid` and its descendants (Linux /proc/<pid>/task/<tid>/children). */
async function processTree(pid: number): Promise<number[]> {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    const tasks = await readdir(`/proc/${all[i]}/task`).catch(() => [] as string[]);
    for (const tid of tasks) {
      const children = await readFile(`/proc/${all[i]}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const c of children.split(/\s+/)) if (c) all.push(Number(c));
    }
  }
  return all;
}

/** Where `freePort` records the ports it handed out, shared by every process of a test run. */
const HANDED_OUT = path.join(os.tmpdir(), 'cruise-test-ports');
/** Ports are recorded per period: one handed out in this period or the last is not handed out again. */
const PERIOD_MS = 30 * 60_000;

/**
 * A port no process listens on, and that no other `freePort` of this machine handed out lately: the
 * probe closes before the service binds, so two test files (separate processes) could otherwise be
 * given the same port, and one's readiness check would be answered by the other's service. A claim is
 * one exclusive create (`wx`) in the current period's directory, so two callers never both win it;
 * older periods are simply no longer looked at (nothing is ever reclaimed, which would race).
 */
export async function freePort(): Promise<number> {
  const period = Math.floor(Date.now() / PERIOD_MS);
  const current = path.join(HANDED_OUT, String(period));
  const previous = path.join(HANDED_OUT, String(period - 1));
  await mkdir(current, { recursive: true });
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await unusedPort();
    if (existsSync(path.join(previous, String(port)))) continue;
    try {
      await (await open(path.join(current, String(port)), 'wx')).close();
      return port;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`freePort: no port found that was not handed out lately (${HANDED_OUT})`);
}

/** A port the OS says is free right now (bind to 0, read it, close). */
async function unusedPort(): Promise<number> {
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
