// Private PostgreSQL, Redis and NATS for fault scenarios: each on a spare port with its data in a temp
// folder, so a scenario can stop, kill or restart one without disturbing the machine's shared services
// or any other test. `stop()` kills them all and removes the folder; an exit hook does the same if the
// test process dies first.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@cruise/testkit';
import pg from 'pg';

const PG_BIN = process.env.PG_BIN ?? findPgBin();

function findPgBin(): string {
  for (const v of ['17', '16', '15', '14']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(path.join(dir, 'initdb'))) return dir;
  }
  return '/usr/lib/postgresql/15/bin';
}

/** One server process we own: started, stopped (gracefully or with a kill) and started again on the same port. */
export interface ManagedServer {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** Graceful stop (SIGTERM / PostgreSQL fast shutdown), waiting for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (PostgreSQL: immediate shutdown, SIGQUIT, which is the crash-like stop it supports). */
  kill(): Promise<void>;
  restart(): Promise<void>;
  logs(): string;
}

export interface PrivateInfra {
  dir: string;
  postgres: ManagedServer;
  redis: ManagedServer;
  nats: ManagedServer;
  /** postgres://…/<name> on the private server. */
  databaseUrl(name?: string): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) if (child.exitCode === null) child.kill('SIGKILL');
  });
}

function postgresIds(): { uid: number; gid: number } {
  // initdb and postgres refuse to run as root: they run as the machine's `postgres` user.
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, logs: () => string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} not ready after ${timeoutMs} ms:\n${logs().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends `line` on a fresh TCP connection and resolves with the first chunk received. */
function tcpExchange(port: number, line: string | null, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.once('connect', () => {
      if (line !== null) socket.write(line);
    });
    socket.once('data', (d) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(d.toString());
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

class ProcessServer implements ManagedServer {
  private child: ChildProcess | undefined;
  private output = '';
  readonly name: string;
  readonly port: number;
  readonly url: string;
  private readonly spawnIt: () => ChildProcess;
  private readonly ready: () => Promise<boolean>;
  private readonly gracefulSignal: NodeJS.Signals;
  private readonly killSignal: NodeJS.Signals;
  constructor(
    name: string,
    port: number,
    url: string,
    spawnIt: () => ChildProcess,
    ready: () => Promise<boolean>,
    gracefulSignal: NodeJS.Signals,
    killSignal: NodeJS.Signals,
  ) {
    this.name = name;
    this.port = port;
    this.url = url;
    this.spawnIt = spawnIt;
    this.ready = ready;
    this.gracefulSignal = gracefulSignal;
    this.killSignal = killSignal;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  logs(): string {
    return this.output;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = this.spawnIt();
    this.child = child;
    live.add(child);
    const keep = (d: Buffer) => {
      this.output += d.toString();
      if (this.output.length > 100_000) this.output = this.output.slice(-50_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => live.delete(child));
    await waitFor(
      this.name,
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}`);
        return this.ready();
      },
      30_000,
      () => this.output,
    );
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    // The port must be free before a restart binds it again.
    await waitFor(
      `${this.name} port release`,
      async () => !(await portOpen(this.port)),
      10_000,
      () => '',
    );
  }

  stop(): Promise<void> {
    return this.signal(this.gracefulSignal);
  }

  kill(): Promise<void> {
    return this.signal(this.killSignal);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface PrivateInfraOptions {
  /** Redis append-only file, so a restart keeps rate-limit windows and BullMQ jobs (default true). */
  redisPersistence?: boolean;
  /** Extra `-c name=value` settings for PostgreSQL. */
  postgresSettings?: Record<string, string>;
}

/** Starts a private PostgreSQL 15 cluster, Redis and NATS with JetStream. */
export async function startPrivateInfrastructure(opts: PrivateInfraOptions = {}): Promise<PrivateInfra> {
  installExitHook();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cruise-infra-'));
  const servers: ManagedServer[] = [];
  const cleanup = async () => {
    await Promise.allSettled(servers.map((s) => s.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { uid, gid } = postgresIds();
    const pgData = path.join(dir, 'pg');
    await mkdir(pgData, { mode: 0o700 });
    await chown(dir, uid, gid);
    await chown(pgData, uid, gid);
    execFileSync(
      path.join(PG_BIN, 'initdb'),
      ['-D', pgData, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { uid, gid, cwd: dir, stdio: 'pipe', env: { PATH: process.env.PATH ?? '', LANG: 'C' } },
    );

    const [pgPort, redisPort, natsPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const pgSettings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      max_connections: '200',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: '64MB',
      ...opts.postgresSettings,
    };
    const postgres = new ProcessServer(
      'postgres',
      pgPort,
      `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
      () =>
        spawn(
          path.join(PG_BIN, 'postgres'),
          [
            '-D',
            pgData,
            '-p',
            String(pgPort),
            ...Object.entries(pgSettings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
          ],
          { uid, gid, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { LANG: 'C' } },
        ),
      async () => {
        const c = new pg.Client({
          connectionString: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
          connectionTimeoutMillis: 1_000,
        });
        try {
          await c.connect();
          await c.query('SELECT 1');
          return true;
        } finally {
          await c.end().catch(() => {});
        }
      },
      'SIGINT', // fast shutdown: disconnects clients, clean stop
      'SIGQUIT', // immediate shutdown: crash-like, recovery on next start
    );
    servers.push(postgres);

    const redisDir = path.join(dir, 'redis');
    await mkdir(redisDir);
    const persist = opts.redisPersistence ?? true;
    const redis = new ProcessServer(
      'redis',
      redisPort,
      `redis://127.0.0.1:${redisPort}`,
      () =>
        spawn(
          'redis-server',
          [
            '--port',
            String(redisPort),
            '--bind',
            '127.0.0.1',
            '--dir',
            redisDir,
            '--save',
            '',
            '--appendonly',
            persist ? 'yes' : 'no',
            '--appendfsync',
            'always',
            '--maxmemory-policy',
            'noeviction',
            '--protected-mode',
            'no',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      async () => (await tcpExchange(redisPort, 'PING\r\n')).startsWith('+PONG'),
      'SIGTERM',
      'SIGKILL',
    );
    servers.push(redis);

    const natsDir = path.join(dir, 'nats');
    await mkdir(natsDir);
    const nats = new ProcessServer(
      'nats',
      natsPort,
      `nats://127.0.0.1:${natsPort}`,
      () =>
        spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', natsDir], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      async () => {
        const info = await tcpExchange(natsPort, null);
        return info.startsWith('INFO') && /"jetstream":true/.test(info);
      },
      'SIGTERM',
      'SIGKILL',
    );
    servers.push(nats);

    await Promise.all(servers.map((s) => s.start()));
    return {
      dir,
      postgres,
      redis,
      nats,
      databaseUrl: (name = 'cruise') => `postgres://postgres@127.0.0.1:${pgPort}/${name}`,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
